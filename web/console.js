// The operator's console: the agent WebSocket (events in, commands out, reconnecting with
// backoff), the softphone, the call controls and the client card.

import { Softphone } from '/static/softphone.js';
import { renderCard, esc, fmtPhone, taskSubject } from '/static/card.js';
import { shortcutKey } from '/static/keys.js';

const w = JSON.parse(document.getElementById('i18n').textContent);
const lang = document.documentElement.lang;
const $ = (id) => document.getElementById(id);

const ui = {
  state: $('state'), softphone: $('softphone'), status: $('call-status'), number: $('call-number'),
  answer: $('answer'), hangup: $('hangup'), hold: $('hold'), mute: $('mute'), keypad: $('keypad'),
  card: $('card'), error: $('error'),
};

let socket = null;
let backoff = 500;
let replaced = false; // another page of this agent took over
let call = null; // { id, from, phase: 'ringing' | 'connected', held, muted, recordingPaused }
let me = {};

// The words for an API error: the page's own for the switch's reasons, else the server's text.
function why(body, status) {
  return w[`err_${body.error}`] || body.message || body.error || status;
}

function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

const softphone = new Softphone(send, $('remote-audio'), (state) => showSoftphone(state));
window.switchboard = { softphone, get call() { return call; }, get socket() { return socket; } };

function showSoftphone(state) {
  ui.softphone.dataset.state = state;
  ui.softphone.textContent = w[`softphone_${state}`] || state;
}

function showState(state) {
  ui.state.dataset.state = state.state;
  // A pause reason is a key (lunch, connection_lost) said in the page's words, or an agent's
  // own text as they typed it.
  ui.state.textContent = (w[`state_${state.state}`] || state.state) + (state.reason ? ` · ${w[`reason_${state.reason}`] || state.reason}` : '');
}

function showError(text) {
  ui.error.textContent = text;
  ui.error.hidden = !text;
}

function showCall() {
  const phase = call ? call.phase : 'idle';
  ui.status.dataset.status = phase;
  ui.status.textContent = { ringing: call && call.deskPhone ? w.incoming_desk_phone : w.incoming, dialing: w.dialing, connected: w.talking, ended: w.call_ended }[phase] || w.no_call;
  ui.number.textContent = call && phase !== 'ended' ? call.from : '';
  // A desk phone is answered on the phone itself; the page shows the card.
  ui.answer.hidden = phase !== 'ringing' || Boolean(call && call.deskPhone);
  ui.hangup.hidden = phase !== 'connected' && phase !== 'dialing';
  ui.hold.hidden = phase !== 'connected';
  ui.mute.hidden = phase !== 'connected';
  ui.keypad.hidden = phase !== 'connected';
  $('transfer-box').hidden = phase !== 'connected';
  ui.hold.textContent = call && call.held ? w.resume : w.hold;
  ui.mute.textContent = call && call.muted ? w.unmute : w.mute;
  const rec = $('record-pause');
  rec.hidden = phase !== 'connected';
  rec.dataset.paused = String(Boolean(call && call.recordingPaused));
  rec.textContent = call && call.recordingPaused ? w.resume_recording : w.pause_recording;
  // The microphone is on the wire only while a call on this softphone is up.
  softphone.talking((phase === 'connected' || phase === 'dialing') && !(call && call.deskPhone));
  showForm();
}

// The after-call form: during and after the call, for the contact picked on the card.
const form = $('call-form');

function pickedMatch() {
  const id = ui.card.dataset.contact;
  return (ui.card.cardMatches || []).find((m) => m.contact.id === id) || null;
}

/// The caller's details, from the contact picked on the card (the agent on the call may fill
/// them in whoever owns the contact; the owner is not on this form).
const DETAILS = { last_name: 'form-last-name', first_name: 'form-first-name', middle_name: 'form-middle-name', position: 'form-position' };
function fillDetails() {
  const match = pickedMatch();
  $('form-details').hidden = !match;
  if (!match) return;
  for (const [field, id] of Object.entries(DETAILS)) $(id).value = match.contact[field] || '';
  $('form-email').value = (match.contact.emails || [])[0] || '';
}

/// What the agent changed in the details, as a contact update (null when nothing).
function detailChanges() {
  const match = pickedMatch();
  if (!match) return null;
  const changes = {};
  for (const [field, id] of Object.entries(DETAILS)) {
    const value = $(id).value.trim();
    if (value !== (match.contact[field] || '')) changes[field] = field === 'position' ? value || null : value;
  }
  const email = $('form-email').value.trim();
  const emails = match.contact.emails || [];
  if (email !== (emails[0] || '')) changes.emails = email ? [email, ...emails.slice(1)] : emails.slice(1);
  return Object.keys(changes).length ? changes : null;
}

function fillDeals() {
  fillDetails();
  const match = pickedMatch();
  const deals = match ? match.open_deals : [];
  const options = [`<option value="auto">${esc(w.deal_auto)}</option>`, `<option value="none">${esc(w.no_deal)}</option>`]
    .concat(deals.map((d) => `<option value="${esc(d.id)}">${esc(d.title)}</option>`));
  $('form-deal').innerHTML = options.join('');
  if (deals.length === 1) $('form-deal').value = deals[0].id;
}

function showForm() {
  const visible = call !== null && (call.phase === 'connected' || call.phase === 'ended');
  form.hidden = !visible;
  if (visible && form.dataset.call !== call.id) {
    form.reset();
    form.dataset.call = call.id;
    $('form-saved').hidden = true;
    fillDeals();
  }
}

ui.card.addEventListener('contactpicked', fillDeals);

async function saveForm(event) {
  event.preventDefault();
  const callId = form.dataset.call;
  const body = { reason: $('form-reason').value, disposition: $('form-disposition').value, notes: $('form-notes').value };
  const contactId = ui.card.dataset.contact;
  if (contactId) body.contact_id = contactId;
  const details = detailChanges();
  if (details && contactId) {
    const response = await fetch(`/api/contacts/${encodeURIComponent(contactId)}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(details) });
    const updated = await response.json().catch(() => ({}));
    if (!response.ok) { showError(`${w.error}: ${updated.message || updated.error || response.status}`); return; }
    const match = pickedMatch();
    if (match) match.contact = updated;
  }
  const newDeal = $('form-new-deal').value.trim();
  const deal = $('form-deal').value;
  if (newDeal && contactId) {
    const response = await fetch('/api/deals', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: newDeal, contact_id: contactId }) });
    const created = await response.json().catch(() => ({}));
    if (!response.ok) { showError(`${w.error}: ${created.message || created.error || response.status}`); return; }
    body.deal_id = created.id;
  } else if (deal === 'none') {
    body.deal_id = null;
  } else if (deal !== 'auto') {
    body.deal_id = deal;
  }
  const response = await fetch(`/api/calls/${encodeURIComponent(callId)}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const saved = await response.json().catch(() => ({}));
  if (response.ok) {
    showError('');
    $('form-saved').hidden = false;
    form.dataset.saved = JSON.stringify({ contact_id: saved.contact_id, deal_id: saved.deal_id, disposition: saved.disposition });
  } else {
    showError(`${w.error}: ${saved.message || saved.error || response.status}`);
  }
}

form.addEventListener('submit', saveForm);

function onMessage(m) {
  switch (m.type) {
    case 'state': showState(m.state); break;
    case 'softphone':
      // The page's own connection is the truth for what it shows: a "connected" from the
      // server may be a closed page's connection, which this page replaces.
      showSoftphone(softphone.connected ? 'connected' : m.state === 'connected' ? 'connecting' : m.state);
      softphone.serverSays(m.state);
      break;
    case 'replaced':
      replaced = true;
      socket.close();
      softphone.stop();
      showSoftphone('lost');
      $('replaced').hidden = false;
      break;
    case 'answer': softphone.answer(m.sdp); break;
    case 'ringing':
      call = { id: m.call_id, from: m.from, phase: 'ringing', held: false, muted: false, deskPhone: Boolean(m.desk_phone) };
      ui.card.innerHTML = '';
      if (m.card) renderCard(ui.card, m.call_id, m.card, w, lang, me);
      showCall();
      break;
    case 'card':
      if (call && call.id === m.call_id) renderCard(ui.card, m.call_id, m.card, w, lang, me);
      break;
    case 'dialing':
      call = { id: m.call_id, from: m.to, phase: 'dialing', held: false, muted: false };
      ui.card.innerHTML = '';
      showCall();
      break;
    case 'withdrawn':
      if (call && call.id === m.call_id) {
        call = null;
        ui.card.innerHTML = `<p class="muted" id="card-withdrawn">${w.withdrawn}</p>`;
        ui.card.dataset.call = '';
        showCall();
      }
      break;
    case 'connected':
      call = { ...(call || {}), id: m.call_id, from: m.from, phase: 'connected', held: false, muted: false };
      softphone.mute(false);
      showCall();
      break;
    case 'hold':
      if (call && call.id === m.call_id) { call.held = m.on; showCall(); }
      break;
    case 'recording':
      if (call && call.id === m.call_id) { call.recordingPaused = m.paused; showCall(); }
      break;
    case 'task_escalated': showEscalation(m); break;
    case 'ended':
      if (call && call.id === m.call_id) { call.phase = 'ended'; softphone.mute(false); showCall(); }
      break;
    case 'task_due': showTaskDue(m); break;
    case 'error': showError(m.message); break;
    default: break;
  }
}

// The console lists the next few due tasks; the rest wait on the callbacks page (a long list
// here would push the dial box out of reach).
const SHOWN_DUE = 3;

function countDue() {
  const items = [...$('tasks-due').querySelectorAll('li.task-due')];
  items.forEach((li, i) => { li.hidden = i >= SHOWN_DUE; });
  const more = items.length - SHOWN_DUE;
  // The server pushes at most 100: past that the count would understate, and the link says it.
  $('more-due').hidden = more <= 0 || items.length >= 100;
  $('more-due').textContent = more > 0 ? `+${more}` : '';
}

// A due task: a callback gets a one-click "call back" (the call is linked to the task); any
// task can be completed with a result. A new lead comes at once, on top, with the time it is
// to be called by.
function showTaskDue(task) {
  if (document.getElementById(`task-${task.id}`)) return;
  const by = task.due_at && new Date(task.due_at).toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' });
  const due = !task.due_at ? '' : task.lead ? ` · ${w.call_by} ${by}` : ` · ${new Date(task.due_at).toLocaleString(lang)}`;
  const lead = task.lead ? `<strong class="new-lead">${esc(w.new_lead)}</strong> ` : '';
  const number = task.lead && task.phone_e164 ? ` · ${fmtPhone(task.phone_e164)}` : '';
  const missed = task.missed_count > 1 ? ` · ${task.missed_count} ${w.missed_calls}` : '';
  const callBack = task.phone_e164 ? `<button type="button" class="call-back" data-task="${esc(task.id)}">${esc(w.call_back)}</button>` : '';
  // Leads go above the other tasks, in the order they came.
  const firstTask = task.lead && $('tasks-due').querySelector('li.task-due:not(.lead)');
  const [anchor, where] = firstTask ? [firstTask, 'beforebegin'] : [$('tasks-due'), 'beforeend'];
  anchor.insertAdjacentHTML(where, `<li id="task-${esc(task.id)}" class="task-due${task.lead ? ' lead' : ''}" data-task="${esc(task.id)}">${lead}${esc(taskSubject(task, w))}${esc(number)}${esc(due)}${esc(missed)}${callBack}
<span class="row"><input class="task-result" placeholder="${esc(w.result)}" aria-label="${esc(w.result)}" size="14"><button type="button" class="task-done" data-task="${esc(task.id)}">${esc(w.done)}</button></span></li>`);
  countDue();
}

function showEscalation(task) {
  if (document.getElementById(`escalated-${task.id}`)) return;
  $('escalations-title').hidden = false;
  $('escalations').hidden = false;
  const due = task.due_at ? ` · ${w.overdue} ${new Date(task.due_at).toLocaleString(lang)}` : '';
  $('escalations').insertAdjacentHTML('afterbegin', `<li id="escalated-${esc(task.id)}" class="escalation">${esc(taskSubject(task, w))}${esc(due)}</li>`);
}

async function loadNotifications() {
  const response = await fetch('/api/notifications?unread=true');
  if (!response.ok) return;
  for (const n of await response.json()) {
    if (n.kind === 'task_escalated' && n.task_id) {
      const task = await fetch(`/api/tasks/${encodeURIComponent(n.task_id)}`).then((r) => (r.ok ? r.json() : null));
      if (task) showEscalation(task);
    }
  }
}

$('tasks-due').addEventListener('click', async (event) => {
  const target = event.target;
  const id = target.dataset && target.dataset.task;
  if (!id) return;
  if (target.classList.contains('call-back')) {
    dial(null, id);
  } else if (target.classList.contains('task-done')) {
    const result = target.parentElement.querySelector('.task-result').value.trim();
    const response = await fetch(`/api/tasks/${encodeURIComponent(id)}/complete`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(result ? { result } : {}) });
    const body = await response.json().catch(() => ({}));
    if (response.ok) {
      document.getElementById(`task-${id}`)?.remove();
      countDue();
    }
    else showError(`${w.error}: ${why(body, response.status)}`);
  }
});

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  socket = new WebSocket(`${scheme}://${location.host}/api/agent/ws`);
  socket.onopen = () => { backoff = 500; showError(''); };
  socket.onmessage = (event) => onMessage(JSON.parse(event.data));
  socket.onclose = () => {
    if (replaced) return;
    showSoftphone(softphone.connected ? 'connected' : 'lost');
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 10000);
  };
}

async function setState(state, reason) {
  const response = await fetch('/api/agent/state', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(reason ? { state, reason } : { state }) });
  const body = await response.json().catch(() => ({}));
  if (response.ok) { showError(''); showState(body); } else showError(`${w.error}: ${why(body, response.status)}`);
}

// Transfer targets: the other agents and the queues (loaded once; the server checks the
// target is free when the agent transfers).
async function loadTransferTargets() {
  const [users, queues, self] = await Promise.all(['/api/users', '/api/queues', '/api/me'].map((u) => fetch(u).then((r) => (r.ok ? r.json() : []))));
  me = self;
  const people = (Array.isArray(users) ? users : users.items || []).filter((u) => u.active !== false && u.id !== me.id);
  const group = (label, items) => `<optgroup label="${esc(label)}">${items.join('')}</optgroup>`;
  $('transfer-target').innerHTML =
    group(w.agents, people.map((u) => `<option value="agent:${esc(u.id)}">${esc(u.name)}</option>`)) +
    group(w.queues, (Array.isArray(queues) ? queues : []).map((q) => `<option value="queue:${esc(q.id)}">${esc(q.name)}${q.number ? ' · ' + esc(q.number) : ''}</option>`));
}

$('transfer').addEventListener('click', () => {
  if (!call) return;
  const number = $('transfer-number').value.trim();
  if (number) {
    send({ type: 'transfer', call_id: call.id, to: { number } });
    $('transfer-number').value = '';
    return;
  }
  const [kind, id] = $('transfer-target').value.split(':');
  if (id) send({ type: 'transfer', call_id: call.id, to: { [kind]: id } });
});

$('go-available').addEventListener('click', () => setState('available'));
$('go-pause').addEventListener('click', () => setState('paused', $('pause-reason').value));
$('go-offline').addEventListener('click', () => setState('offline'));
ui.answer.addEventListener('click', () => call && send({ type: 'answer', call_id: call.id }));
ui.hangup.addEventListener('click', () => call && send({ type: 'hangup', call_id: call.id }));
ui.hold.addEventListener('click', () => call && send({ type: 'hold', call_id: call.id, on: !call.held }));
$('record-pause').addEventListener('click', () => call && send({ type: 'recording', call_id: call.id, paused: !call.recordingPaused }));
ui.mute.addEventListener('click', () => {
  if (!call) return;
  call.muted = !call.muted;
  softphone.mute(call.muted);
  showCall();
});
ui.keypad.addEventListener('click', (event) => {
  const digit = event.target.dataset && event.target.dataset.digit;
  if (digit) softphone.dtmf(digit);
});
async function dial(number, taskId) {
  const request = taskId ? { task_id: taskId } : { number };
  const response = await fetch('/api/calls/dial', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
  const body = await response.json().catch(() => ({}));
  showError(response.ok ? '' : `${w.error}: ${why(body, response.status)}`);
}
$('dial-form').addEventListener('submit', (event) => {
  event.preventDefault();
  dial($('dial-number').value);
});
// A phone on the card: call it back.
ui.card.addEventListener('click', (event) => {
  const number = event.target.dataset && event.target.dataset.dial;
  if (number) {
    event.stopPropagation();
    dial(number);
  }
});

showCall();
connect();
loadTransferTargets();
loadNotifications();

// Opened from a task or a card elsewhere (`/console?dial=…&task=…`): call once the softphone
// is up, so a callback is one click from the tasks page.
const wanted = new URLSearchParams(location.search);
if (wanted.get('dial') || wanted.get('task')) {
  $('dial-number').value = wanted.get('dial') || '';
  history.replaceState(null, '', '/console');
  const started = Date.now();
  const tryDial = () => {
    if (softphone.connected) dial(wanted.get('dial'), wanted.get('task'));
    else if (Date.now() - started < 15000) setTimeout(tryDial, 250);
    else showError(`${w.error}: ${w.softphone_lost}`);
  };
  tryDial();
}

// The operator's keys (not while typing), by the physical key so they work on the Russian
// layout too (A is Ф there): A answer, H hang up, K hold, M mute, R ready, P pause, D dial.
document.addEventListener('keydown', (event) => {
  const t = event.target;
  if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT') || event.ctrlKey || event.metaKey || event.altKey) return;
  const keys = {
    a: () => !ui.answer.hidden && ui.answer.click(),
    h: () => !ui.hangup.hidden && ui.hangup.click(),
    k: () => !ui.hold.hidden && ui.hold.click(),
    m: () => !ui.mute.hidden && ui.mute.click(),
    r: () => $('go-available').click(),
    p: () => $('go-pause').click(),
    d: () => $('dial-number').focus(),
  };
  const action = keys[shortcutKey(event)];
  if (action) {
    event.preventDefault();
    action();
  }
});
