// The manager's dashboard: headline figures with their definitions as tooltips, four SVG
// charts (calls per hour of day stacked answered / not answered, service level by day, AHT by
// agent, calls per disposition), a table under each, and a CSV export of every table.

const w = JSON.parse(document.getElementById('i18n').textContent);
const lang = document.documentElement.lang;
const $ = (id) => document.getElementById(id);
const esc = (text) => String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const DAY = 86400000;

const users = new Map();
const queues = new Map();
const tables = {}; // chart id -> { header: [...], rows: [[...]] }
let definitions = {};

// Percentages and durations as the page's language writes them: `85,3 %`, and m:ss
// (h:mm:ss from an hour), so 252,500 ms is 4:13.
const percent = new Intl.NumberFormat(document.documentElement.lang === 'ru' ? 'ru-RU' : 'en-GB', { style: 'percent', maximumFractionDigits: 1 });
const pct = (v) => (v === null || v === undefined ? '–' : percent.format(v));
function secs(ms) {
  if (ms === null || ms === undefined) return '–';
  const s = Math.round(ms / 1000);
  const p = (n) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  return h ? `${h}:${p(Math.floor((s % 3600) / 60))}:${p(s % 60)}` : `${Math.floor(s / 60)}:${p(s % 60)}`;
}

function localDay(date) {
  return new Date(`${date}T00:00:00`).getTime();
}

function isoDay(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

async function api(query) {
  const response = await fetch(`/api/stats?${query}`);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(`${body.field ? body.field + ': ' : ''}${body.message || body.error || response.status}`);
  definitions = body.definitions || definitions;
  return body;
}

function tile(key, label, value) {
  return `<div class="tile" title="${esc(w[`def_${key}`] || definitions[key] || '')}" data-metric="${esc(key)}"><span class="muted">${esc(label)}</span><strong>${esc(value)}</strong></div>`;
}

// Bars: `series` is [{label, values: [..], cls}] stacked; `labels` under each bar; a value
// axis on the left (0, half and the top, in the chart's own format) and a legend of the
// series along the top.
const LEFT = 56;
function bars(svg, labels, series, max, format) {
  const full = svg.viewBox.baseVal.width || 600;
  const n = Math.max(labels.length, 1);
  const width = (full - LEFT) / n;
  const top = Math.max(max, 1e-9);
  let out = '';
  for (const f of [0, 0.5, 1]) {
    const y = 200 - f * 170;
    out += `<line x1="${LEFT}" x2="${full}" y1="${y}" y2="${y}" class="${f ? 'grid' : 'axis'}"></line><text x="${LEFT - 4}" y="${y + 3}" text-anchor="end">${esc(format(f * max))}</text>`;
  }
  labels.forEach((label, i) => {
    let y = 200;
    const x = LEFT + i * width;
    for (const s of series) {
      const v = s.values[i] || 0;
      const h = (v / top) * 170;
      y -= h;
      out += `<rect class="${s.cls}" x="${(x + width * 0.1).toFixed(1)}" y="${y.toFixed(1)}" width="${(width * 0.8).toFixed(1)}" height="${h.toFixed(1)}"><title>${esc(label)} · ${esc(s.label)}: ${esc(format(v))}</title></rect>`;
    }
    // A label longer than its bar is cut short; the bar's tooltip has it whole.
    const room = Math.max(3, Math.floor(width / 6.5));
    const shown = label.length > room ? `${label.slice(0, room - 1)}…` : label;
    if (n <= 12 || i % Math.ceil(n / 12) === 0) out += `<text x="${(x + width / 2).toFixed(1)}" y="214" text-anchor="middle">${esc(shown)}</text>`;
  });
  let lx = LEFT;
  for (const s of series) {
    out += `<g class="legend"><rect class="${s.cls}" x="${lx}" y="4" width="10" height="10"></rect><text x="${lx + 14}" y="13">${esc(s.label)}</text></g>`;
    lx += 30 + s.label.length * 7.5;
  }
  svg.innerHTML = out;
}

/// A table under a chart: `rows` as shown, `raw` the same cells as numbers for the export.
function table(id, header, rows, raw = rows) {
  tables[id] = { header, rows: raw };
  const el = document.querySelector(`#${id} table`);
  el.tHead.innerHTML = `<tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`;
  el.tBodies[0].innerHTML = rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('');
}

/// The table as a CSV file a spreadsheet in the page's language opens as it is: with a BOM
/// (UTF-8), and for Russian `;` between fields and a decimal comma, as Russian Excel expects;
/// numbers stay numbers (seconds, percent), never `4:12` or `95 %`.
function csv(id) {
  const t = tables[id];
  if (!t) return;
  const ru = lang === 'ru';
  const sep = ru ? ';' : ',';
  const cell = (v) => {
    const s = typeof v === 'number' ? (ru ? String(v).replace('.', ',') : String(v)) : String(v ?? '');
    return /[",\n;]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const text = '\ufeff' + [t.header, ...t.rows].map((r) => r.map(cell).join(sep)).join('\r\n') + '\r\n';
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  link.download = `${id.replace('chart-', '')}-${$('d-from').value}-${$('d-to').value}.csv`;
  document.body.appendChild(link);
  link.click();
  link.remove();
}

/// Seconds and percent as plain numbers, for the exports.
/// A count in the page's format (an axis' half-way mark rounded to a whole call).
const count = (v) => Math.round(v).toLocaleString(lang);
const rawSecs = (ms) => (ms === null || ms === undefined ? '' : Math.round(ms / 100) / 10);
const rawPct = (v) => (v === null || v === undefined ? '' : Math.round(v * 1000) / 10);
const shortDay = (ms) => new Date(ms).toLocaleDateString(lang, { day: '2-digit', month: '2-digit', timeZone: 'UTC' });
const longDay = (ms) => new Date(ms).toLocaleDateString(lang, { timeZone: 'UTC' });

async function show() {
  const from = localDay($('d-from').value);
  const to = localDay($('d-to').value) + DAY;
  const queue = $('d-queue').value;
  const base = `from=${from}&to=${to}${queue ? `&queue_id=${encodeURIComponent(queue)}` : ''}`;
  try {
    const [total, hours, days, agents, dispositions] = await Promise.all([
      // The headline once; the grouped rows without it.
      api(base), api(`${base}&summary=false&group=interval&interval=hour`), api(`${base}&summary=false&group=interval&interval=day`),
      api(`${base}&summary=false&group=agent`), api(`${base}&summary=false&group=disposition`),
    ]);
    $('error').hidden = true;
    const m = total.total.metrics;
    $('tiles').innerHTML = [
      tile('offered', w.offered, m.offered), tile('answered', w.answered, m.answered), tile('service_level', w.service_level, pct(m.service_level)),
      tile('asa_ms', w.asa, secs(m.asa_ms)), tile('aht_ms', w.aht, secs(m.aht_ms)), tile('abandonment_rate', w.abandonment_rate, pct(m.abandonment_rate)),
      tile('short_abandoned', w.short_abandoned, m.short_abandoned), tile('missed_offers', w.missed_offers, m.missed_offers), tile('occupancy', w.occupancy, pct(total.total.occupancy)),
      tile('timed_out', w.timed_out, m.timed_out), tile('blocked', w.blocked, m.blocked),
      tile('callbacks', w.callbacks, `${total.callbacks.created} / ${total.callbacks.done_on_time} / ${total.callbacks.escalated}`),
      tile('outbound_attempts', w.outbound_figures, `${m.outbound_attempts} / ${m.outbound_connected}`),
    ].join('');

    // Calls per hour of day, summed over the range.
    const byHour = Array.from({ length: 24 }, () => ({ answered: 0, lost: 0, offered: 0 }));
    for (const r of hours.rows) {
      const h = new Date(Number(r.key)).getHours();
      byHour[h].answered += r.metrics.answered;
      byHour[h].lost += r.metrics.offered - r.metrics.answered;
      byHour[h].offered += r.metrics.offered;
    }
    const hoursShown = byHour.map((v, h) => ({ ...v, h })).filter((v) => v.offered > 0);
    bars(document.querySelector('#chart-hourly svg'), hoursShown.map((v) => `${v.h}:00`), [
      { label: w.answered, cls: 'answered', values: hoursShown.map((v) => v.answered) },
      { label: w.not_answered, cls: 'lost', values: hoursShown.map((v) => v.lost) },
    ], Math.max(0, ...hoursShown.map((v) => v.offered)), count);
    table('chart-hourly', [w.hour, w.offered, w.answered, w.not_answered], hoursShown.map((v) => [`${v.h}:00`, v.offered, v.answered, v.lost]), hoursShown.map((v) => [v.h, v.offered, v.answered, v.lost]));

    // Service level by day.
    const dayRows = days.rows.filter((r) => r.metrics.offered > 0);
    bars(document.querySelector('#chart-sl svg'), dayRows.map((r) => shortDay(Number(r.key))), [
      { label: w.service_level, cls: 'sl', values: dayRows.map((r) => r.metrics.service_level || 0) },
    ], 1, pct);
    table('chart-sl', [w.day, w.offered, w.answered, w.service_level, w.asa, w.abandonment_rate], dayRows.map((r) => [longDay(Number(r.key)), r.metrics.offered, r.metrics.answered, pct(r.metrics.service_level), secs(r.metrics.asa_ms), pct(r.metrics.abandonment_rate)]),
      dayRows.map((r) => [longDay(Number(r.key)), r.metrics.offered, r.metrics.answered, rawPct(r.metrics.service_level), rawSecs(r.metrics.asa_ms), rawPct(r.metrics.abandonment_rate)]));

    // AHT by agent, with its parts.
    const agentRows = agents.rows.filter((r) => r.key && r.metrics.handled > 0).sort((a, b) => (b.metrics.aht_ms || 0) - (a.metrics.aht_ms || 0));
    const name = (id) => users.get(id) || id;
    bars(document.querySelector('#chart-aht svg'), agentRows.map((r) => name(r.key).split(' ')[0]), [
      { label: w.talk, cls: 'talk', values: agentRows.map((r) => r.metrics.avg_talk_ms || 0) },
      { label: w.hold, cls: 'hold', values: agentRows.map((r) => r.metrics.avg_hold_ms || 0) },
      { label: w.wrap_up, cls: 'wrap', values: agentRows.map((r) => r.metrics.avg_wrapup_ms || 0) },
    ], Math.max(0, ...agentRows.map((r) => r.metrics.aht_ms || 0)), secs);
    table('chart-aht', [w.agent, w.handled, w.aht, w.talk, w.hold, w.wrap_up, w.missed_offers, w.occupancy, w.outbound_figures], agentRows.map((r) => [name(r.key), r.metrics.handled, secs(r.metrics.aht_ms), secs(r.metrics.avg_talk_ms), secs(r.metrics.avg_hold_ms), secs(r.metrics.avg_wrapup_ms), r.metrics.missed_offers, pct(r.occupancy), `${r.metrics.outbound_attempts} / ${r.metrics.outbound_connected}`]),
      agentRows.map((r) => [name(r.key), r.metrics.handled, rawSecs(r.metrics.aht_ms), rawSecs(r.metrics.avg_talk_ms), rawSecs(r.metrics.avg_hold_ms), rawSecs(r.metrics.avg_wrapup_ms), r.metrics.missed_offers, rawPct(r.occupancy), `${r.metrics.outbound_attempts} / ${r.metrics.outbound_connected}`]));

    // Calls per disposition.
    const dispRows = dispositions.rows.map((r) => ({ label: r.key ? w[`disp_${r.key}`] || r.key : w.no_disposition, calls: r.counters.offered + r.counters.outbound_attempts })).filter((r) => r.calls > 0).sort((a, b) => b.calls - a.calls);
    bars(document.querySelector('#chart-dispositions svg'), dispRows.map((r) => r.label), [{ label: w.calls, cls: 'disp', values: dispRows.map((r) => r.calls) }], Math.max(0, ...dispRows.map((r) => r.calls)), count);
    table('chart-dispositions', [w.disposition, w.calls], dispRows.map((r) => [r.label, r.calls]));
    document.body.dataset.loaded = 'true';
  } catch (e) {
    $('error').textContent = `${w.error}: ${e.message}`;
    $('error').hidden = false;
  }
}

async function start() {
  const [u, q] = await Promise.all(['/api/users', '/api/queues'].map((url) => fetch(url).then((r) => (r.ok ? r.json() : [])).catch(() => [])));
  for (const x of Array.isArray(u) ? u : u.items || []) users.set(x.id, x.name);
  for (const x of Array.isArray(q) ? q : []) queues.set(x.id, x.name);
  $('d-queue').insertAdjacentHTML('beforeend', [...queues].map(([id, n]) => `<option value="${esc(id)}">${esc(n)}</option>`).join(''));
  const today = new Date();
  $('d-to').value = isoDay(today.getTime() - DAY);
  $('d-from').value = isoDay(today.getTime() - 30 * DAY);
  await show();
}

$('range').addEventListener('submit', (event) => { event.preventDefault(); show(); });
document.querySelectorAll('.csv').forEach((b) => b.addEventListener('click', () => csv(b.dataset.table)));
window.switchboard = { show, tables };
start();
