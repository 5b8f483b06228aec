// A contact's card: every phone (call it from the console) and email, the company and its
// other people, custom fields, open deals and tasks, and one timeline of calls (with the
// recording where the user may hear it), notes, tasks, deals and stage changes.

import { w, $, esc, app, get, api, may, mayEdit, showError, fmtDate, fmtDateTime, fmtMoney, contactName, fmtPhone, userNames, customFields, dialog, confirmDialog, timelineHtml, voicemailPlayer, taskSubject, newTask, callFromConsole, shortcuts, word, stages } from './common.js';
import { contactDialog, dealDialog } from './forms.js';

const id = app.dataset.id;
let contact = null;

async function load() {
  try {
    contact = await get(`/api/contacts/${encodeURIComponent(id)}`);
  } catch (error) {
    app.innerHTML = `<section class="panel"><p class="error">${esc(error.status === 404 ? w.not_found : `${w.error}: ${error.message}`)}</p><a href="/contacts">${esc(w.contacts)}</a></section>`;
    return;
  }
  document.title = `${contactName(contact)} · Switchboard`;
  const [names, defs, company, colleagues, deals, tasks, timeline, allStages] = await Promise.all([
    userNames(),
    customFields('contact'),
    contact.company_id ? get(`/api/companies/${encodeURIComponent(contact.company_id)}`).catch(() => null) : null,
    contact.company_id ? get(`/api/contacts?company_id=${encodeURIComponent(contact.company_id)}&per_page=20`).then((r) => r.items.filter((c) => c.id !== id)) : [],
    get(`/api/deals?contact_id=${encodeURIComponent(id)}&per_page=50`).then((r) => r.items),
    get(`/api/tasks?contact_id=${encodeURIComponent(id)}&status=open&per_page=50`).then((r) => r.items),
    get(`/api/contacts/${encodeURIComponent(id)}/timeline?limit=100`),
    stages(),
  ]);
  const stageName = new Map(allStages.map((s) => [s.id, s.name]));
  const editable = mayEdit(contact.owner_id);
  const custom = defs.filter((d) => contact.custom[d.key] !== undefined && contact.custom[d.key] !== null);
  app.innerHTML = `<div class="card-layout">
<div class="card-main">
<section class="panel" id="contact-card" data-id="${esc(contact.id)}">
<div class="row"><h1 id="contact-name">${esc(contactName(contact))}</h1><span class="spacer"></span>
${editable ? `<button type="button" id="edit" title="E">${esc(w.edit)}</button>` : ''}
<button type="button" id="add-task" title="T">${esc(w.new_task)}</button>
<button type="button" id="add-deal" title="D">${esc(w.create_deal)}</button>
${may.remove ? `<button type="button" id="merge-with">${esc(w.merge_with)}</button><button type="button" id="delete" class="danger">${esc(w.delete)}</button>` : ''}
</div>
<p class="muted">${esc(contact.position || '')}${company ? ` · <a href="/companies/${encodeURIComponent(company.id)}" id="company-link">${esc(company.name)}</a>` : ''}</p>
<table class="fields">
<tr><th>${esc(w.phones)}</th><td id="phones">${contact.phones.map((p) => `<div class="phone"><span class="number" data-e164="${esc(p.number)}">${esc(fmtPhone(p.number))}</span>${p.extension ? ` ${esc(w.ext)} ${esc(p.extension)}` : ''} <span class="muted">${esc(word('phone', p.kind))}</span>
<button type="button" class="call" data-number="${esc(p.number)}" title="C">${esc(w.call_verb)}</button></div>`).join('') || '—'}</td></tr>
<tr><th>${esc(w.emails)}</th><td id="emails">${contact.emails.map((e) => `<div><a href="mailto:${esc(e)}">${esc(e)}</a></div>`).join('') || '—'}</td></tr>
<tr><th>${esc(w.owner)}</th><td>${esc(names.get(contact.owner_id) || '—')}</td></tr>
${custom.map((d) => `<tr><th>${esc(d.label)}</th><td class="custom" data-key="${esc(d.key)}">${esc(contact.custom[d.key])}</td></tr>`).join('')}
<tr><th>${esc(w.created_on)}</th><td>${esc(fmtDate(contact.created_at))}</td></tr>
</table>
<p class="error" id="error" hidden></p>
</section>
${company ? `<section class="panel"><h2>${esc(w.company_people)}: ${esc(company.name)}</h2>
<ul id="colleagues">${colleagues.map((c) => `<li><a href="/contacts/${encodeURIComponent(c.id)}">${esc(contactName(c))}</a> <span class="muted">${esc(c.position || '')} ${c.phones[0] ? esc(fmtPhone(c.phones[0].number)) : ''}</span></li>`).join('') || `<li class="muted">—</li>`}</ul></section>` : ''}
<section class="panel"><h2>${esc(w.deals)}</h2>
<ul id="deals">${deals.map((d) => `<li><a href="/deals/${encodeURIComponent(d.id)}">${esc(d.title)}</a> <span class="muted">${esc(stageName.get(d.stage_id) || '')} · ${esc(word('status', d.status))} · ${esc(fmtMoney(d.amount_minor, d.currency))}</span></li>`).join('') || `<li class="muted">—</li>`}</ul></section>
<section class="panel"><h2>${esc(w.open_tasks)}</h2>
<ul id="tasks">${tasks.map((t) => `<li data-id="${esc(t.id)}">${esc(word('kind', t.kind))}: ${esc(taskSubject(t, w))} <span class="muted">${esc(fmtDateTime(t.due_at))} · ${esc(names.get(t.assignee_id) || '')}</span> ${voicemailPlayer(t)}
<button type="button" class="complete" data-id="${esc(t.id)}">${esc(w.complete)}</button></li>`).join('') || `<li class="muted">—</li>`}</ul></section>
</div>
<section class="panel card-timeline"><h2>${esc(w.timeline)}</h2>
<form id="note-form" class="row"><textarea id="note-body" rows="2" placeholder="${esc(w.note_placeholder)}" aria-label="${esc(w.note_placeholder)}" maxlength="10000"></textarea><button type="submit" id="add-note">${esc(w.add_note)}</button></form>
<div id="timeline">${timelineHtml(timeline, names)}</div>
</section>
</div>`;
  bind();
}

function bind() {
  const on = (elementId, handler) => { const el = $(elementId); if (el) el.addEventListener('click', handler); };
  on('edit', edit);
  on('add-task', addTask);
  on('add-deal', addDeal);
  on('merge-with', mergeWith);
  on('delete', remove);
  $('phones').addEventListener('click', (event) => {
    if (event.target.classList.contains('call')) callFromConsole(event.target.dataset.number);
  });
  $('tasks').addEventListener('click', async (event) => {
    if (event.target.classList.contains('complete')) await complete(event.target.dataset.id);
  });
  $('note-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = $('note-body').value.trim();
    if (!body) return;
    try {
      await api('POST', '/api/notes', { body, contact_id: id });
      await load();
    } catch (error) {
      showError(error);
    }
  });
}

async function edit() {
  if (await contactDialog(contact)) await load();
}

async function addTask() {
  try {
    if (await newTask({ contact_id: id })) await load();
  } catch (error) {
    showError(error);
  }
}

async function addDeal() {
  if (await dealDialog(null, { contact_id: id, company_id: contact.company_id })) await load();
}

async function complete(taskId) {
  const values = await dialog(w.complete_task, `<label>${esc(w.result)}<input name="result" id="task-result" maxlength="2000"></label>`, { submit: w.complete });
  if (!values) return;
  try {
    await api('POST', `/api/tasks/${encodeURIComponent(taskId)}/complete`, { result: values.result || null });
    await load();
  } catch (error) {
    showError(error);
  }
}

/// Finds the duplicate by name, phone or email and folds it into this contact.
async function mergeWith() {
  const values = await dialog(w.merge_with, `<p>${esc(w.merge_into_explain)}</p>
<div class="row"><input id="merge-search" placeholder="${esc(w.search_contacts_hint)}"><button type="button" id="merge-find">${esc(w.search)}</button></div>
<div id="merge-results"></div>`, {
    submit: w.merge,
    check: (v) => (v.other ? null : w.pick_one),
  });
  if (!values) return;
  try {
    await api('POST', `/api/contacts/${encodeURIComponent(id)}/merge`, { other_id: values.other });
    await load();
  } catch (error) {
    showError(error);
  }
}

// The search inside the merge dialog (the dialog is re-rendered each time it opens).
document.addEventListener('click', async (event) => {
  if (event.target.id !== 'merge-find') return;
  const text = $('merge-search').value.trim();
  const key = text.includes('@') ? 'email' : /^[\d\s()+\-.]+$/.test(text) ? 'phone' : 'q';
  try {
    const found = (await get(`/api/contacts?${key}=${encodeURIComponent(text)}&per_page=10`)).items.filter((c) => c.id !== id);
    $('merge-results').innerHTML = found.map((c) => `<label class="choice"><input type="radio" name="other" value="${esc(c.id)}"> ${esc(contactName(c))} · ${c.phones.map((p) => esc(p.number)).join(', ')} ${c.emails.map(esc).join(', ')}</label>`).join('') || `<p class="muted">${esc(w.nothing_found)}</p>`;
  } catch (error) {
    $('merge-results').innerHTML = `<p class="error">${esc(error.message)}</p>`;
  }
});

async function remove() {
  if (!(await confirmDialog(`${w.delete_contact_confirm} ${contactName(contact)}?`, w.delete))) return;
  try {
    await api('DELETE', `/api/contacts/${encodeURIComponent(id)}`);
    location.href = '/contacts';
  } catch (error) {
    showError(error);
  }
}

shortcuts({
  e: () => $('edit') && edit(),
  t: addTask,
  d: addDeal,
  c: () => contact && contact.phones[0] && callFromConsole(contact.phones[0].number),
});
load();
