// The recordings page: search, play with a waveform (click to seek), download, legal hold.
// The API returns only calls the user may hear; every play and download is audited there.

import { fmtPhone } from '/static/card.js';

const w = JSON.parse(document.getElementById('i18n').textContent);
const lang = document.documentElement.lang;
const $ = (id) => document.getElementById(id);
const esc = (text) => String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

const names = { users: new Map(), queues: new Map() };
let page = 1;
let current = null;
const perPage = 25;

function showError(text) {
  $('error').textContent = text;
  $('error').hidden = !text;
}

function clock(ms) {
  if (ms === null || ms === undefined) return '';
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

async function loadChoices() {
  const [users, queues] = await Promise.all(['/api/users', '/api/queues'].map((u) => fetch(u).then((r) => (r.ok ? r.json() : [])).catch(() => [])));
  for (const u of Array.isArray(users) ? users : users.items || []) names.users.set(u.id, u.name);
  for (const q of Array.isArray(queues) ? queues : []) names.queues.set(q.id, q.name);
  $('f-agent').insertAdjacentHTML('beforeend', [...names.users].map(([id, name]) => `<option value="${esc(id)}">${esc(name)}</option>`).join(''));
  $('f-queue').insertAdjacentHTML('beforeend', [...names.queues].map(([id, name]) => `<option value="${esc(id)}">${esc(name)}</option>`).join(''));
}

function query() {
  const form = $('search');
  const params = new URLSearchParams();
  const day = (value) => (value ? new Date(`${value}T00:00:00`).getTime() : null);
  const from = day(form.from.value);
  const to = day(form.to.value);
  if (from !== null) params.set('from', from);
  if (to !== null) params.set('to', to + 86400000);
  for (const name of ['agent_id', 'queue_id', 'number', 'disposition', 'min_duration_s', 'max_duration_s']) {
    const value = form[name].value.trim();
    if (value) params.set(name, value);
  }
  params.set('page', page);
  params.set('per_page', perPage);
  return params;
}

async function search() {
  const response = await fetch(`/api/recordings?${query()}`);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    showError(`${w.error}: ${body.field ? body.field + ': ' : ''}${body.message || body.error || response.status}`);
    return;
  }
  showError('');
  $('total').textContent = `${w.found}: ${body.total}`;
  $('page').textContent = ` ${page} / ${Math.max(1, Math.ceil(body.total / perPage))} `;
  $('prev').disabled = page <= 1;
  $('next').disabled = page * perPage >= body.total;
  $('results').tBodies[0].innerHTML = body.items.map((c) => {
    const customer = c.direction === 'inbound' ? c.from_e164 : c.to_e164;
    return `<tr data-id="${esc(c.id)}" class="${current === c.id ? 'playing' : ''}">
<td>${esc(new Date(c.offered_at).toLocaleString(lang))}</td>
<td>${esc(w[c.direction] || c.direction)}</td>
<td class="customer">${esc(fmtPhone(customer))}</td>
<td>${esc(names.users.get(c.agent_id) || '')}</td>
<td>${esc(names.queues.get(c.queue_id) || '')}</td>
<td class="duration">${esc(clock(c.recording_duration_ms))}</td>
<td>${esc(c.disposition ? w[`disp_${c.disposition}`] || c.disposition : '')}</td>
<td><button type="button" class="play" data-id="${esc(c.id)}">${esc(w.play)}</button>
<a class="download" href="/api/recordings/${encodeURIComponent(c.id)}/download">${esc(w.download)}</a></td>
</tr>`;
  }).join('');
  window.switchboard.results = body.items;
}

// The waveform: the customer's channel above the middle line, the agent's below.
function drawWaveform(wave) {
  const svg = $('waveform');
  const n = Math.max(wave.left.length, 1);
  const bar = 1000 / n;
  const bars = (peaks, cls, up) => peaks.map((p, i) => {
    const h = Math.max(0.5, (p / 1000) * 48);
    return `<rect class="${cls}" x="${(i * bar).toFixed(2)}" y="${up ? 50 - h : 50}" width="${Math.max(bar - 0.3, 0.3).toFixed(2)}" height="${h.toFixed(2)}"></rect>`;
  }).join('');
  svg.innerHTML = `<title>${esc(w.channel_customer)} / ${esc(w.channel_agent)}</title>${bars(wave.left, 'left', true)}${bars(wave.right, 'right', false)}<line class="cursor" id="cursor" x1="0" x2="0" y1="0" y2="100"></line>`;
}

async function play(id) {
  const call = (window.switchboard.results || []).find((c) => c.id === id);
  current = id;
  document.querySelectorAll('#results tr').forEach((tr) => tr.classList.toggle('playing', tr.dataset.id === id));
  $('player-panel').hidden = false;
  $('player-title').textContent = call ? `${new Date(call.offered_at).toLocaleString(lang)} · ${fmtPhone(call.direction === 'inbound' ? call.from_e164 : call.to_e164)}` : id;
  $('download').href = `/api/recordings/${encodeURIComponent(id)}/download`;
  const holdBox = $('hold-box');
  holdBox.hidden = $('user-name').dataset.hold !== 'true';
  $('legal-hold').checked = Boolean(call && call.legal_hold);
  const player = $('player');
  player.src = `/api/recordings/${encodeURIComponent(id)}/audio`;
  $('waveform').innerHTML = '';
  const response = await fetch(`/api/recordings/${encodeURIComponent(id)}/waveform?points=500`);
  if (response.ok) drawWaveform(await response.json());
  await player.play().catch(() => {});
}

$('waveform').addEventListener('click', (event) => {
  const player = $('player');
  if (!player.duration || !Number.isFinite(player.duration)) return;
  const box = event.currentTarget.getBoundingClientRect();
  player.currentTime = ((event.clientX - box.left) / box.width) * player.duration;
});

$('player').addEventListener('timeupdate', () => {
  const player = $('player');
  const cursor = document.getElementById('cursor');
  if (cursor && player.duration) {
    const x = (player.currentTime / player.duration) * 1000;
    cursor.setAttribute('x1', x);
    cursor.setAttribute('x2', x);
  }
});

$('legal-hold').addEventListener('change', async (event) => {
  if (!current) return;
  const response = await fetch(`/api/recordings/${encodeURIComponent(current)}/legal-hold`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ on: event.target.checked }) });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    event.target.checked = !event.target.checked;
    showError(`${w.error}: ${body.message || body.error || response.status}`);
  }
});

$('results').addEventListener('click', (event) => {
  const id = event.target.dataset && event.target.classList.contains('play') ? event.target.dataset.id : null;
  if (id) play(id);
});
$('search').addEventListener('submit', (event) => {
  event.preventDefault();
  page = 1;
  search();
});
$('prev').addEventListener('click', () => { page = Math.max(1, page - 1); search(); });
$('next').addEventListener('click', () => { page += 1; search(); });

window.switchboard = { play, search, results: [] };
loadChoices().then(search);
