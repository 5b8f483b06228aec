// The supervisors' wallboard: boards pushed over /api/wallboard/ws when anything changes;
// time in state and waits are counted here every second from their start.
//
// Live listening rides on the same socket: the first "Listen" makes one WebRTC connection
// (the softphone class the console uses), kept while the page is open; the server puts it on
// the chosen call. The microphone is off the wire while only listening and on it when
// whispering to the agent or barging in.

import { Softphone } from '/static/softphone.js';

const w = JSON.parse(document.getElementById('i18n').textContent);
const $ = (id) => document.getElementById(id);
const esc = (text) => String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
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

// TV mode (`?tv=1`): the same board for a screen on the wall, read from 5 m: no header or
// buttons, large figures, each agent a coloured tile with the time in their state.
const tv = new URLSearchParams(location.search).has('tv');
if (tv) {
  document.body.classList.add('tv');
  $('tv-link').href = location.pathname;
  $('tv-link').textContent = w.tv_exit;
}
let board = null;
let backoff = 500;
let socket = null;
// The call the supervisor is on: { call_id, agent_id, mode }.
let listening = null;
// What was asked and waits for the connection: { call_id, mode }.
let pending = null;

const send = (message) => { if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message)); };
const phone = new Softphone(send, $('listen-audio'), (state) => {
  $('listen-bar').dataset.phone = state;
  phone.mute(!listening || listening.mode === 'listen');
  phone.talking(Boolean(listening) && listening.mode !== 'listen');
  if (state === 'connected' && pending) {
    send({ type: 'listen', ...pending });
    pending = null;
  }
});

function listen(callId, mode) {
  $('listen-error').textContent = '';
  if (phone.connected) {
    send({ type: 'listen', call_id: callId, mode });
    return;
  }
  pending = { call_id: callId, mode };
  showListening(w.listen_connecting);
  phone.negotiate();
}

function showListening(note) {
  const bar = $('listen-bar');
  bar.hidden = !listening && !pending && !note;
  bar.dataset.state = listening ? listening.mode : 'idle';
  bar.dataset.call = listening ? listening.call_id : '';
  const agent = listening && board ? board.agents.find((a) => a.user_id === listening.agent_id) : null;
  $('listen-title').textContent = listening ? `${w.listening_to} ${agent ? agent.name || agent.user_id : listening.agent_id}` : (note || '');
  for (const b of bar.querySelectorAll('.mode')) b.setAttribute('aria-pressed', String(!!listening && b.dataset.mode === listening.mode));
  // Heard only when whispering or barging.
  phone.mute(!listening || listening.mode === 'listen');
  phone.talking(Boolean(listening) && listening.mode !== 'listen');
}

async function meter() {
  let level = 0;
  if (listening && phone.pc) {
    const stats = await phone.pc.getStats().catch(() => null);
    const inbound = stats && [...stats.values()].find((s) => s.type === 'inbound-rtp' && s.kind === 'audio');
    level = (inbound && inbound.audioLevel) || 0;
  }
  window.switchboard.level = level;
  $('listen-level').style.width = `${Math.min(100, Math.round(Math.sqrt(level) * 100))}%`;
}

function clock(since) {
  if (!since) return '';
  const s = Math.max(0, Math.floor((Date.now() - since) / 1000));
  const p = (n) => String(n).padStart(2, '0');
  return `${Math.floor(s / 3600)}:${p(Math.floor((s % 3600) / 60))}:${p(s % 60)}`;
}

function render() {
  if (!board) return;
  const t = board.today || {};
  $('today').innerHTML = [
    [w.offered, t.offered ?? 0, 'offered'], [w.answered, t.answered ?? 0, 'answered'], [w.service_level, pct(t.service_level), 'service_level'],
    [w.asa, secs(t.asa_ms), 'asa'], [w.abandoned_count, t.abandoned ?? 0, 'abandoned'], [w.overdue_callbacks, board.overdue_callbacks ?? 0, 'overdue'],
  ].map(([label, value, key]) => {
    const tile = `<span class="muted">${esc(label)}</span><strong>${esc(value)}</strong>`;
    // The overdue figure opens the list behind it.
    return key === 'overdue'
      ? `<a class="tile" data-metric="${key}" id="overdue-link" href="/callbacks?overdue=1">${tile}</a>`
      : `<div class="tile" data-metric="${key}">${tile}</div>`;
  }).join('');
  // An empty board says why it is empty.
  if (!board.queues.length) $('queues').tBodies[0].innerHTML = `<tr><td colspan="8" class="empty">${esc(w.wb_no_queues)}</td></tr>`;
  else $('queues').tBodies[0].innerHTML = board.queues.map((q) => {
    const d = q.today || {};
    return `<tr data-queue="${esc(q.queue_id)}"><td>${esc(q.name || q.queue_id)}</td><td class="waiting">${q.waiting}</td><td class="oldest">${esc(clock(q.oldest_since))}</td>
<td>${d.offered ?? 0}</td><td class="answered">${d.answered ?? 0}</td><td>${pct(d.service_level)}</td><td>${secs(d.asa_ms)}</td><td>${d.abandoned ?? 0}</td></tr>`;
  }).join('');
  const agents = [...board.agents].sort((a, b) => String(a.name).localeCompare(String(b.name)));
  if (!agents.length) {
    $('agents').innerHTML = `<p class="empty">${esc(w.wb_no_agents)}</p>`;
    return;
  }
  $('agents').innerHTML = agents.map((a) => {
    const s = a.state || {};
    const label = (w[`state_${s.state}`] || s.state) + (s.reason ? ` · ${w[`reason_${s.reason}`] || s.reason}` : '');
    const on = listening && listening.call_id === s.call_id;
    const button = !tv && s.state === 'on_call' && s.call_id && !on
      ? `<button type="button" class="listen" data-call="${esc(s.call_id)}">${esc(w.listen)}</button>` : '';
    return `<div class="agent" data-agent="${esc(a.user_id)}" data-state="${esc(s.state)}"${on ? ' data-listening="true"' : ''}><strong>${esc(a.name || a.user_id)}</strong>
<span class="badge" data-state="${esc(s.state)}">${esc(label)}</span> <span class="since">${esc(clock(s.since))}</span>${button}</div>`;
  }).join('');
}

function onMessage(m) {
  switch (m.type) {
    case 'board':
      board = m;
      window.switchboard.boards += 1;
      render();
      if (listening) showListening();
      break;
    case 'answer': phone.answer(m.sdp); break;
    case 'softphone':
      // The server has no connection for us (a new socket, or a restart): one is made again
      // only if this page had one, so merely opening the wallboard asks for no microphone.
      if (m.state === 'lost' && phone.pc) phone.serverSays(m.state);
      break;
    case 'listening':
      listening = { call_id: m.call_id, agent_id: m.agent_id, mode: m.mode };
      showListening();
      render();
      break;
    case 'stopped':
      if (listening && listening.call_id === m.call_id) listening = null;
      showListening(m.reason === 'ended' ? w.listen_ended : m.reason === 'taken_over' ? w.listen_taken_over : '');
      render();
      break;
    case 'error':
      pending = null;
      $('listen-error').textContent = m.message;
      $('listen-bar').hidden = false;
      break;
    default: break;
  }
}

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  socket = new WebSocket(`${scheme}://${location.host}/api/wallboard/ws`);
  socket.onopen = () => { backoff = 500; $('live').dataset.state = 'connected'; };
  socket.onmessage = (event) => onMessage(JSON.parse(event.data));
  socket.onclose = () => {
    $('live').dataset.state = 'lost';
    if (listening) { listening = null; showListening(); }
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 10000);
  };
}

$('agents').addEventListener('click', (event) => {
  const button = event.target.closest('button.listen');
  if (button) listen(button.dataset.call, 'listen');
});
for (const b of document.querySelectorAll('#listen-bar .mode')) {
  b.addEventListener('click', () => { if (listening) listen(listening.call_id, b.dataset.mode); });
}
$('listen-stop').addEventListener('click', () => { pending = null; send({ type: 'stop_listening' }); });

window.switchboard = { boards: 0, level: 0, phone, get board() { return board; }, get listening() { return listening; } };
setInterval(render, 1000);
setInterval(meter, 500);
connect();
