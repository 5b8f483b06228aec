// Sales reports: the funnel of deals created in a period (reached, conversion from the stage
// before, average days in the stage), leads by source and campaign, why deals were lost and
// to whom, each manager's calls, leads and sales, and the forecast weighted by probability.
// Every table exports as CSV or XLSX; the definitions are the API's (`GET /api/reports/sales`).

import { w, $, esc, app, get, showError, fmtMoney, pipelines, stages, userNames, lossLabel, say } from './common.js';

const DAY = 86400000;
const lang = document.documentElement.lang;
const pct = (part, whole) => (whole ? `${Math.round((part / whole) * 100)}%` : '—');
const num = (n) => Number(n).toLocaleString(lang);

async function render() {
  const today = new Date();
  const iso = (d) => d.toISOString().slice(0, 10);
  const list = await pipelines();
  app.innerHTML = `<section class="panel"><form id="period" class="filters">
<label>${esc(w.rep_from)}<input type="date" name="from" value="${iso(new Date(today - 30 * DAY))}"></label>
<label>${esc(w.rep_to)}<input type="date" name="to" value="${iso(today)}"></label>
${list.length > 1 ? `<label>${esc(w.pipeline)}<select name="pipeline_id">${list.map((p) => `<option value="${esc(p.id)}">${esc(p.name)}</option>`).join('')}</select></label>` : ''}
<label>${esc(w.rep_lead_minutes)}<input type="number" name="lead_minutes" min="1" max="1440" value="15"></label>
<button type="submit">${esc(w.rep_show)}</button></form>
<p class="muted">${esc(w.rep_definitions)}</p><p class="error" id="error" hidden></p></section>
<div id="reports"></div>`;
  $('period').addEventListener('submit', (event) => { event.preventDefault(); load(); });
  await load();
}

function query() {
  const form = $('period');
  const p = new URLSearchParams();
  p.set('from', Date.parse(`${form.from.value}T00:00:00`));
  p.set('to', Date.parse(`${form.to.value}T00:00:00`) + DAY);
  if (form.pipeline_id) p.set('pipeline_id', form.pipeline_id.value);
  p.set('lead_minutes', form.lead_minutes.value || 15);
  return p;
}

const exports = (table) => ['csv', 'xlsx'].map((f) => { const q = query(); q.set('table', table); q.set('format', f); return `<a href="/api/reports/sales/export?${q}" download>${f.toUpperCase()}</a>`; }).join(' ');
// The first `text` columns hold words; the rest numbers, aligned right.
const table = (id, title, heads, rows, text = 1) => `<section class="panel" id="${id}"><div class="row"><h2>${esc(title)}</h2><span class="spacer"></span>${exports(id.replace('rep-', ''))}</div>
<table class="list"><thead><tr>${heads.map((h, i) => `<th${i >= text ? ' class="num"' : ''}>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('') || `<tr><td colspan="${heads.length}" class="muted">${esc(w.nothing_found)}</td></tr>`}</tbody></table></section>`;
const row = (cells, text = 1) => `<tr>${cells.map((c, i) => `<td${i >= text ? ' class="num"' : ''}>${esc(c)}</td>`).join('')}</tr>`;

async function load() {
  try {
    const [r, stageList, names, settings] = await Promise.all([get(`/api/reports/sales?${query()}`), stages(), userNames(), get('/api/sales/settings')]);
    showError(null);
    const money = (minor) => fmtMoney(minor, settings.currency) || '0';
    const stageName = new Map(stageList.map((s) => [s.id, s.name]));
    const f = r.funnel;
    const bar = (n) => `<span class="bar" style="width:${f.created ? Math.round((n / f.created) * 100) : 0}%"></span>`;
    const funnelRows = f.stages.map((s, i) => `<tr><td>${esc(stageName.get(s.stage_id) || '')}</td><td class="num">${num(s.reached)}</td><td class="bar-cell">${bar(s.reached)}</td>
<td class="num">${i ? pct(s.reached, f.stages[i - 1].reached) : pct(s.reached, f.created)}</td><td class="num">${num(s.open_here)}</td><td class="num">${s.avg_ms_in_stage === null ? '—' : (s.avg_ms_in_stage / DAY).toLocaleString(lang, { maximumFractionDigits: 1 })}</td></tr>`);
    $('reports').innerHTML = `<section class="panel" id="rep-funnel"><div class="row"><h2>${esc(w.rep_funnel)}</h2><span class="spacer"></span>${exports('funnel')}</div>
<p id="funnel-summary">${esc(say('rep_created', { count: f.created }))}, ${esc(say('rep_won_lost', { won: f.won, lost: f.lost }))} · ${esc(w.rep_revenue)}: ${esc(money(f.won_minor))} · ${esc(w.rep_conversion)}: ${pct(f.won, f.created)}</p>
<table class="list funnel"><thead><tr><th>${esc(w.rep_stage)}</th><th class="num">${esc(w.rep_reached)}</th><th></th><th class="num">${esc(w.rep_conversion)}</th><th class="num">${esc(w.rep_open_here)}</th><th class="num">${esc(w.rep_avg_days)}</th></tr></thead><tbody>${funnelRows.join('')}</tbody></table></section>
${table('rep-sources', w.rep_sources, [w.rep_source, w.rep_campaign, w.rep_leads, w.rep_deals, w.rep_won, w.rep_conversion, w.rep_revenue], r.sources.map((s) => row([s.source, s.campaign || '—', num(s.leads), num(s.deals), num(s.won), pct(s.won, s.leads), money(s.revenue_minor)], 2)), 2)}
${table('rep-loss_reasons', w.rep_losses, [w.rep_reason, w.rep_deals, w.rep_amount], r.loss_reasons.map((l) => row([lossLabel(l.key), num(l.deals), money(l.amount_minor)])))}
${table('rep-competitors', w.rep_competitors, [w.rep_competitor, w.rep_deals, w.rep_amount], r.competitors.map((l) => row([l.key, num(l.deals), money(l.amount_minor)])))}
${table('rep-managers', w.rep_managers, [w.rep_manager, w.rep_calls_made, w.rep_calls_received, w.rep_talk_minutes, w.rep_leads, w.rep_leads_in_time, w.rep_deals_won, w.rep_revenue], r.managers.map((m) => row([names.get(m.user_id) || '—', num(m.calls_made), num(m.calls_received), num(Math.round(m.talk_ms / 60000)), num(m.leads), `${num(m.leads_in_time)} (${pct(m.leads_in_time, m.leads)})`, num(m.deals_won), money(m.revenue_minor)])))}
${table('rep-forecast', w.rep_forecast, [w.rep_month, w.rep_deals, w.rep_amount, w.rep_weighted], r.forecast.map((m) => row([m.month ? new Date(`${m.month}-01T00:00:00`).toLocaleDateString(lang, { month: 'long', year: 'numeric' }) : w.rep_no_date, num(m.deals), money(m.amount_minor), money(m.weighted_minor)])))}`;
  } catch (error) {
    showError(error);
  }
}

render();
