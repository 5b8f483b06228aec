// The supervisors' wallboard: boards pushed over /api/wallboard/ws when anything changes;
// time in state and waits are counted here every second from their start.

const w = JSON.parse(document.getElementById('i18n').textContent);
const $ = (id) => document.getElementById(id);
const esc = (text) => String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const pct = (v) => (v === null || v === undefined ? '–' : `${(v * 100).toFixed(1)}%`);
const secs = (ms) => (ms === null || ms === undefined ? '–' : `${(ms / 1000).toFixed(1)} s`);

let board = null;
let backoff = 500;

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
  ].map(([label, value, key]) => `<div class="tile" data-metric="${key}"><span class="muted">${esc(label)}</span><strong>${esc(value)}</strong></div>`).join('');
  $('queues').tBodies[0].innerHTML = board.queues.map((q) => {
    const d = q.today || {};
    return `<tr data-queue="${esc(q.queue_id)}"><td>${esc(q.name || q.queue_id)}</td><td class="waiting">${q.waiting}</td><td class="oldest">${esc(clock(q.oldest_since))}</td>
<td>${d.offered ?? 0}</td><td class="answered">${d.answered ?? 0}</td><td>${pct(d.service_level)}</td><td>${secs(d.asa_ms)}</td><td>${d.abandoned ?? 0}</td></tr>`;
  }).join('');
  const agents = [...board.agents].sort((a, b) => String(a.name).localeCompare(String(b.name)));
  $('agents').innerHTML = agents.map((a) => {
    const s = a.state || {};
    const label = (w[`state_${s.state}`] || s.state) + (s.reason ? ` · ${s.reason}` : '');
    return `<div class="agent" data-agent="${esc(a.user_id)}" data-state="${esc(s.state)}"><strong>${esc(a.name || a.user_id)}</strong>
<span class="badge" data-state="${esc(s.state)}">${esc(label)}</span> <span class="since">${esc(clock(s.since))}</span></div>`;
  }).join('');
}

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const socket = new WebSocket(`${scheme}://${location.host}/api/wallboard/ws`);
  socket.onopen = () => { backoff = 500; $('live').dataset.state = 'connected'; };
  socket.onmessage = (event) => {
    const m = JSON.parse(event.data);
    if (m.type === 'board') {
      board = m;
      window.switchboard.boards += 1;
      render();
    }
  };
  socket.onclose = () => {
    $('live').dataset.state = 'lost';
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 10000);
  };
}

window.switchboard = { boards: 0, get board() { return board; } };
setInterval(render, 1000);
connect();
