// A deal's card: amount, probability (its own or its stage's), stage and status, owner,
// contact and company, and its timeline of stage changes, calls, tasks and notes.

import { w, $, esc, app, get, api, may, mayEdit, showError, fmtDateTime, fmtMoney, contactName, userNames, customFields, confirmDialog, timelineHtml, newTask, shortcuts, word, stages, pipelines, stageOptions, lossLabel } from './common.js';
import { itemsPanel } from './items.js';
import { documentsPanel } from './documents.js';
import { dealDialog, lostDialog } from './forms.js';

const id = app.dataset.id;
const path = `/api/deals/${encodeURIComponent(id)}`;
let deal = null;

async function load() {
  try {
    deal = await get(path);
  } catch (error) {
    app.innerHTML = `<section class="panel"><p class="error">${esc(error.status === 404 ? w.not_found : error.message)}</p><a href="/deals">${esc(w.deals)}</a></section>`;
    return;
  }
  document.title = `${deal.title} · Switchboard`;
  const [names, defs, stageList, pipelineList, contact, company, timeline] = await Promise.all([
    userNames(), customFields('deal'), stages(), pipelines(),
    deal.contact_id ? get(`/api/contacts/${encodeURIComponent(deal.contact_id)}`).catch(() => null) : null,
    deal.company_id ? get(`/api/companies/${encodeURIComponent(deal.company_id)}`).catch(() => null) : null,
    get(`${path}/timeline?limit=100`),
  ]);
  const stage = stageList.find((s) => s.id === deal.stage_id);
  const probability = deal.probability ?? (stage ? stage.probability : null);
  const editable = mayEdit(deal.owner_id);
  const custom = defs.filter((d) => deal.custom[d.key] !== undefined && deal.custom[d.key] !== null);
  app.innerHTML = `<div class="card-layout"><div class="card-main">
<section class="panel" id="deal-card"><div class="row"><h1 id="deal-title">${esc(deal.title)}</h1><span class="badge" id="deal-status" data-status="${esc(deal.status)}">${esc(word('status', deal.status))}</span><span class="spacer"></span>
${editable ? `<button type="button" id="edit" title="E">${esc(w.edit)}</button>` : ''}
<button type="button" id="add-task" title="T">${esc(w.new_task)}</button>
${may.remove ? `<button type="button" id="delete" class="danger">${esc(w.delete)}</button>` : ''}</div>
<table class="fields">
<tr><th>${esc(w.amount)}</th><td id="deal-amount">${esc(fmtMoney(deal.amount_minor, deal.currency) || '—')}</td></tr>
<tr><th>${esc(w.probability)}</th><td id="deal-probability">${probability === null ? '—' : `${probability}%`}${deal.probability === null && stage ? ` <span class="muted">(${esc(w.from_stage)})</span>` : ''}</td></tr>
<tr><th>${esc(w.stage)}</th><td>${editable && deal.status === 'open' ? `<select id="deal-stage" aria-label="${esc(w.stage)}">${stageOptions(stageList, pipelineList, deal.stage_id)}</select>` : esc(stage ? stage.name : '')}</td></tr>
<tr><th>${esc(w.owner)}</th><td>${esc(names.get(deal.owner_id) || '—')}</td></tr>
<tr><th>${esc(w.contact)}</th><td>${contact ? `<a href="/contacts/${encodeURIComponent(contact.id)}" id="deal-contact">${esc(contactName(contact))}</a>` : '—'}</td></tr>
<tr><th>${esc(w.company)}</th><td>${company ? `<a href="/companies/${encodeURIComponent(company.id)}">${esc(company.name)}</a>` : '—'}</td></tr>
${deal.status === 'lost' ? `<tr><th>${esc(w.loss_reason)}</th><td>${esc(deal.loss_reason ? lossLabel(deal.loss_reason) : '')}${deal.competitor ? ` · ${esc(w.competitor)}: ${esc(deal.competitor)}` : ''}</td></tr>` : ''}
${deal.closed_at ? `<tr><th>${esc(w.closed)}</th><td>${esc(fmtDateTime(deal.closed_at))}</td></tr>` : ''}
${custom.map((d) => `<tr><th>${esc(d.label)}</th><td>${esc(deal.custom[d.key])}</td></tr>`).join('')}
</table>
${editable ? `<div class="row">${deal.status === 'open' ? `<button type="button" id="mark-won">${esc(w.mark_won)}</button><button type="button" id="mark-lost">${esc(w.mark_lost)}</button>` : `<button type="button" id="reopen">${esc(w.reopen)}</button>`}</div>` : ''}
<p class="error" id="error" hidden></p></section>
<section class="panel" id="deal-items"></section>
<section class="panel" id="deal-documents"></section></div>
<section class="panel card-timeline"><h2>${esc(w.timeline)}</h2>
<form id="note-form" class="row"><textarea id="note-body" rows="2" placeholder="${esc(w.note_placeholder)}" aria-label="${esc(w.note_placeholder)}"></textarea><button type="submit" id="add-note">${esc(w.add_note)}</button></form>
<div id="timeline">${timelineHtml(timeline, names)}</div></section></div>`;
  bind();
  await itemsPanel($('deal-items'), deal, editable, load).catch(showError);
  await documentsPanel($('deal-documents'), deal, editable, load).catch(showError);
}

const run = async (action) => {
  try {
    await action();
    await load();
  } catch (error) {
    showError(error);
  }
};

function bind() {
  const on = (elementId, handler) => { const el = $(elementId); if (el) el.addEventListener('click', handler); };
  on('edit', () => run(() => dealDialog(deal)));
  on('add-task', () => run(() => newTask({ deal_id: id, contact_id: deal.contact_id || undefined })));
  on('mark-won', () => run(() => api('POST', `${path}/won`)));
  on('mark-lost', async () => {
    const why = await lostDialog();
    if (why) await run(() => api('POST', `${path}/lost`, { reason: why.reason, competitor: why.competitor || null }));
  });
  on('reopen', () => run(() => api('POST', `${path}/reopen`)));
  on('delete', async () => {
    if (!(await confirmDialog(`${w.delete_deal_confirm} ${deal.title}?`, w.delete))) return;
    try {
      await api('DELETE', path);
      location.href = '/deals';
    } catch (error) {
      showError(error);
    }
  });
  const stage = $('deal-stage');
  if (stage) stage.addEventListener('change', () => run(() => api('POST', `${path}/stage`, { stage_id: stage.value })));
  $('note-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const body = $('note-body').value.trim();
    if (body) run(() => api('POST', '/api/notes', { body, deal_id: id, contact_id: deal.contact_id || undefined }));
  });
}

shortcuts({ e: () => $('edit') && $('edit').click(), t: () => $('add-task').click() });
load();
