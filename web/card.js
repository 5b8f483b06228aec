// The client card: every contact with the caller's number (pick one when several match), or a
// form to create one (and a deal) when the number is unknown.

export const esc = (text) => String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

/// A number as people read it: `+7 916 123-45-67` for Russian numbers, E.164 otherwise.
export function fmtPhone(e164) {
  const m = /^\+7(\d{3})(\d{3})(\d{2})(\d{2})$/.exec(e164 || '');
  return m ? `+7 ${m[1]} ${m[2]}-${m[3]}-${m[4]}` : e164 || '';
}

/// A task's subject in the page's language: the callbacks the system makes for missed calls
/// have no subject and are said here from their number ("Перезвонить +7 916 123-45-67");
/// older ones were stored as "Call back <number> (<name>)" and are said the same way.
export function taskSubject(task, w) {
  if (task.callback && !task.subject) return `${w.callback_subject} ${fmtPhone(task.phone_e164)}`.trim();
  const system = task.callback && /^Call back (\+?\d+)(?: \((.*)\))?$/.exec(task.subject || '');
  if (!system) return task.subject || '';
  return `${w.callback_subject} ${system[1]}${system[2] ? ` (${system[2]})` : ''}`;
}

function money(minor, currency, lang) {
  if (minor === null || minor === undefined) return '';
  try {
    return new Intl.NumberFormat(lang, { style: 'currency', currency }).format(minor / 100);
  } catch {
    return `${(minor / 100).toFixed(2)} ${currency}`;
  }
}

function when(ms, lang) {
  return ms ? new Date(ms).toLocaleString(lang) : '';
}

// A recorded call's player, for those allowed to hear it (the server checks again).
function player(call, me) {
  if (!call.recorded || call.recording_purged_at) return '';
  const allowed = ['supervisor', 'manager', 'admin'].includes(me && me.role) || (me && call.agent_id === me.id);
  if (!allowed) return '';
  return ` <audio class="call-player" controls preload="none" src="/api/recordings/${encodeURIComponent(call.id)}/audio"></audio>`;
}

// One of the caller's recent calls: when, which way and how it ended, in the page's words.
function callItem(call, w, lang, me) {
  const said = (prefix, key) => (key ? w[`${prefix}_${key}`] || key : '');
  const outcome = call.disposition ? said('disp', call.disposition) : said('end', call.end_reason);
  return `<li>${esc(when(call.offered_at, lang))} · ${esc(w[call.direction] || call.direction)} · ${esc(outcome)}${player(call, me)}</li>`;
}

// Schedule a callback to the caller's number at a chosen time.
function scheduleForm(number, w) {
  return `<form id="schedule-callback" class="row" data-number="${esc(number)}">
<input type="datetime-local" name="due" id="callback-due" required aria-label="${w.schedule_callback}">
<button type="submit" id="schedule-callback-button">${w.schedule_callback}</button>
<span id="callback-scheduled" hidden>${w.callback_scheduled}</span>
</form>`;
}

async function scheduleCallback(event, root, w) {
  event.preventDefault();
  const form = event.target;
  const due = new Date(form.due.value).getTime();
  const number = form.dataset.number;
  const body = { subject: `${w.callback_subject} ${number}`, callback_phone: number, due_at: due };
  if (root.dataset.contact) body.contact_id = root.dataset.contact;
  const response = await fetch('/api/tasks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const result = await response.json().catch(() => ({}));
  if (!response.ok) {
    showError(root, result, w);
    return;
  }
  form.querySelector('#callback-scheduled').hidden = false;
  form.dataset.task = result.id;
}

function contactBlock(match, index, w, lang, me) {
  const c = match.contact;
  const custom = Object.entries(c.custom || {}).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(typeof v === 'object' ? JSON.stringify(v) : v)}</td></tr>`).join('');
  const deals = match.open_deals.map((d) => `<li class="deal">${esc(d.title)} — ${esc(d.stage)} ${esc(money(d.amount_minor, d.currency, lang))}</li>`).join('') || `<li class="muted">${w.none}</li>`;
  const calls = match.last_calls.map((call) => callItem(call, w, lang, me)).join('') || `<li class="muted">${w.none}</li>`;
  const message = (task) => (task.voicemail_call_id ? ` <span class="voicemail">${esc(w.voicemail_message)} <audio controls preload="none" src="/api/recordings/${encodeURIComponent(task.voicemail_call_id)}/audio"></audio></span>` : '');
  const tasks = match.open_tasks.map((task) => `<li>${esc(taskSubject(task, w))} ${task.due_at ? '· ' + esc(when(task.due_at, lang)) : ''}${message(task)}</li>`).join('') || `<li class="muted">${w.none}</li>`;
  return `<article class="contact${index === 0 ? ' picked' : ''}" data-contact-id="${esc(c.id)}">
<h3 class="contact-name">${esc(match.name)}</h3>
<table>
<tr><th>${w.company}</th><td class="contact-company">${esc(match.company?.name || '')}</td></tr>
<tr><th>${w.owner}</th><td class="contact-owner">${esc(match.owner?.name || '')}</td></tr>
<tr><th>${w.phones}</th><td>${(c.phones || []).map((p) => `${esc(p.number)} <button type="button" class="dial-phone" data-dial="${esc(p.number)}">${w.dial_button}</button>`).join('<br>')}</td></tr>
${custom}
</table>
<strong>${w.open_deals}</strong><ul class="deals">${deals}</ul>
<strong>${w.last_calls}</strong><ul class="calls">${calls}</ul>
<strong>${w.open_tasks}</strong><ul class="tasks">${tasks}</ul>
</article>`;
}

function createForm(number, w) {
  return `<form id="create-contact" class="row">
<input name="first_name" placeholder="${w.first_name}" aria-label="${w.first_name}">
<input name="last_name" placeholder="${w.last_name}" aria-label="${w.last_name}">
<input name="phone" value="${esc(number)}" aria-label="${w.phone}">
<input name="deal" placeholder="${w.deal_title}" aria-label="${w.deal_title}">
<button type="submit" id="create-contact-button">${w.create_contact}</button>
</form>`;
}

// Renders `card` for `callId` into `root`.
export function renderCard(root, callId, card, w, lang, me) {
  root.dataset.call = callId;
  root.cardMatches = card.matches;
  delete root.dataset.contact;
  const head = `<p class="number" id="card-number">${esc(card.number)}</p>${scheduleForm(card.number, w)}`;
  const wire = () => root.querySelector('#schedule-callback').addEventListener('submit', (event) => scheduleCallback(event, root, w));
  if (card.matches.length === 0) {
    const calls = card.recent_calls.map((call) => callItem(call, w, lang, me)).join('');
    root.innerHTML = `${head}<p id="card-unknown">${w.unknown_caller}</p>${createForm(card.number, w)}${calls ? `<strong>${w.last_calls}</strong><ul>${calls}</ul>` : ''}`;
    root.querySelector('#create-contact').addEventListener('submit', (event) => createContact(event, root, callId, w, lang, me));
    wire();
    root.dispatchEvent(new Event('contactpicked'));
    return;
  }
  const several = card.matches.length > 1 ? `<p id="card-several">${w.several_matches}</p>` : '';
  root.innerHTML = head + several + card.matches.map((m, i) => contactBlock(m, i, w, lang, me)).join('');
  wire();
  root.querySelectorAll('.contact').forEach((el) => el.addEventListener('click', () => {
    root.querySelectorAll('.contact').forEach((other) => other.classList.toggle('picked', other === el));
    root.dataset.contact = el.dataset.contactId;
    root.dispatchEvent(new Event('contactpicked'));
  }));
  root.dataset.contact = card.matches[0].contact.id;
  root.dispatchEvent(new Event('contactpicked'));
}

async function createContact(event, root, callId, w, lang, me) {
  event.preventDefault();
  const form = event.target;
  const body = { first_name: form.first_name.value.trim(), last_name: form.last_name.value.trim(), phones: [form.phone.value.trim()] };
  const response = await fetch('/api/contacts', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const result = await response.json().catch(() => ({}));
  if (!response.ok) {
    showError(root, result, w);
    return;
  }
  let deals = [];
  const title = form.deal.value.trim();
  if (title) {
    const dealResponse = await fetch('/api/deals', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title, contact_id: result.id }) });
    const deal = await dealResponse.json().catch(() => ({}));
    if (dealResponse.ok) deals = [{ id: deal.id, title: deal.title, stage: '', amount_minor: deal.amount_minor, currency: deal.currency }];
  }
  const name = [result.last_name, result.first_name].filter(Boolean).join(' ');
  renderCard(root, callId, { number: form.phone.value, matches: [{ contact: result, name, company: null, owner: null, open_deals: deals, last_calls: [], open_tasks: [] }], recent_calls: [] }, w, lang, me);
  root.insertAdjacentHTML('afterbegin', `<p id="card-created">${w.created}</p>`);
}

function showError(root, result, w) {
  const text = `${w.error}: ${result.error || ''} ${result.field || ''} ${result.message || ''}`.trim();
  let el = root.querySelector('.error');
  if (!el) {
    el = document.createElement('p');
    el.className = 'error';
    root.appendChild(el);
  }
  el.textContent = text;
}
