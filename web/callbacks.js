// Callbacks: the work queue of missed calls, messages and callback requests. Operators see
// theirs and their queues'; supervisors their teams' and those nobody has; managers all.
// Filter and sort, tick several and hand them to someone (or back to the queue), take one,
// call it back through the softphone, close it with a result.

import { w, $, esc, app, get, api, may, me, showError, fmtDateTime, fmtPhone, users, teams, dialog, callFromConsole, shortcuts, voicemailPlayer, taskSubject, pager } from './common.js';

const params = new URLSearchParams(location.search);
const state = {
  status: params.get('status') || 'open',
  overdue: params.get('overdue') === '1',
  source: params.get('source') || '',
  queue: params.get('queue_id') || '',
  assignee: params.get('assignee_id') || '',
  sort: params.get('sort') || 'due',
  page: 1,
};
const PER_PAGE = 50;
const RESULTS = ['reached', 'no_answer', 'wrong_number', 'not_needed'];

/// How long ago, as people say it: 5 min, 2 h 10 min, 3 d 4 h.
function waited(since) {
  const minutes = Math.max(0, Math.floor((Date.now() - since) / 60000));
  if (minutes < 60) return `${minutes} ${w.minutes_short}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} ${w.hours_short} ${minutes % 60} ${w.minutes_short}`;
  return `${Math.floor(hours / 24)} ${w.days_short} ${hours % 24} ${w.hours_short}`;
}

const option = (value, label, selected) => `<option value="${esc(value)}"${value === selected ? ' selected' : ''}>${esc(label)}</option>`;

async function render() {
  const [queues, people, teamList] = await Promise.all([
    get('/api/queues').catch(() => []),
    may.monitor ? users() : Promise.resolve([]),
    may.monitor ? teams() : Promise.resolve([]),
  ]);
  const queueList = Array.isArray(queues) ? queues : queues.items || [];
  // A supervisor hands work only within the teams they supervise (the API refuses the rest).
  const supervised = teamList.filter((t) => t.supervisor_id === me.id).map((t) => t.id);
  const assignable = people.filter((u) => u.active !== false
    && (me.role !== 'supervisor' || u.id === me.id || supervised.includes(u.team_id)));
  app.innerHTML = `<section class="panel"><div class="row filters" id="filters">
<h1>${esc(w.callback_queue)}</h1>
<label class="inline">${esc(w.status)}<select id="f-status">${option('open', w.cb_status_open, state.status)}${option('done', w.cb_status_done, state.status)}${option('all', w.cb_status_all, state.status)}</select></label>
<label class="inline"><input type="checkbox" id="f-overdue"${state.overdue ? ' checked' : ''}> ${esc(w.cb_overdue_only)}</label>
<label class="inline">${esc(w.cb_source)}<select id="f-source">${option('', w.cb_any, state.source)}${['missed', 'voicemail', 'request', 'scheduled'].map((s) => option(s, w[`cb_source_${s}`], state.source)).join('')}</select></label>
<label class="inline">${esc(w.queue)}<select id="f-queue">${option('', w.cb_any, state.queue)}${queueList.map((q) => option(q.id, q.name, state.queue)).join('')}</select></label>
<label class="inline">${esc(w.assignee)}<select id="f-assignee">${option('', w.cb_any, state.assignee)}${option('me', w.cb_mine, state.assignee)}${option('none', w.unassigned, state.assignee)}${people.map((u) => option(u.id, u.name, state.assignee)).join('')}</select></label>
<label class="inline">${esc(w.cb_sort)}<select id="f-sort">${['due', 'waiting', 'attempts', 'missed'].map((s) => option(s, w[`cb_sort_${s}`], state.sort)).join('')}</select></label>
</div>
${may.monitor ? `<div class="row" id="bulk"><span id="selected-count" class="muted">${esc(w.cb_selected)}: 0</span>
<label class="inline">${esc(w.cb_assign_to)}<select id="bulk-assignee">${option('none', w.cb_back_to_queue, '')}${assignable.map((u) => option(u.id, u.name, '')).join('')}</select></label>
<button type="button" id="bulk-assign" disabled>${esc(w.cb_assign)}</button></div>` : ''}
<p class="error" id="error" hidden></p></section>
<section class="panel" id="content"></section>`;
  const bind = (id, key, read = (el) => el.value) => $(id).addEventListener('change', (e) => { state[key] = read(e.target); state.page = 1; load(); });
  bind('f-status', 'status');
  bind('f-overdue', 'overdue', (el) => el.checked);
  bind('f-source', 'source');
  bind('f-queue', 'queue');
  bind('f-assignee', 'assignee');
  bind('f-sort', 'sort');
  if ($('bulk-assign')) $('bulk-assign').addEventListener('click', assignSelected);
  $('content').addEventListener('click', onClick);
  $('content').addEventListener('change', onTick);
}

function query() {
  const q = new URLSearchParams({ status: state.status, sort: state.sort, page: String(state.page), per_page: String(PER_PAGE) });
  if (state.overdue) q.set('overdue', 'true');
  if (state.source) q.set('source', state.source);
  if (state.queue) q.set('queue_id', state.queue);
  if (state.assignee) q.set('assignee_id', state.assignee);
  return q.toString();
}

/// A result as closed here: one of RESULTS, then the comment after ": ".
function resultText(result) {
  if (!result) return '';
  const at = result.indexOf(': ');
  const key = at < 0 ? result : result.slice(0, at);
  const label = w[`cb_result_${key}`];
  if (!label) return result;
  return at < 0 ? label : `${label}: ${result.slice(at + 2)}`;
}

/// One callback; open ones have no result yet, so the open list has no result column.
function row(c, now) {
  const overdue = c.status === 'open' && c.due_at && c.due_at < now;
  const number = c.phone_e164;
  const free = !c.assignee_id;
  return `<tr data-id="${esc(c.id)}" class="${overdue ? 'overdue' : ''}">
${may.monitor ? `<td><input type="checkbox" class="pick" value="${esc(c.id)}" aria-label="${esc(w.cb_pick)} ${esc(number ? fmtPhone(number) : c.id)}"${c.status === 'open' ? '' : ' disabled'}></td>` : ''}
<td class="due"${overdue ? ` title="${esc(w.overdue)}"` : ''}>${esc(c.due_at ? fmtDateTime(c.due_at) : w.no_due)}</td>
<td class="waited">${esc(waited(c.created_at))}</td>
<td class="caller">${c.source === 'scheduled' ? `<span class="subject">${esc(taskSubject(c, w))}</span><br>` : ''}${number ? `<strong class="number">${esc(fmtPhone(number))}</strong>` : ''}
${c.contact_id ? ` <a href="/contacts/${encodeURIComponent(c.contact_id)}">${esc(c.contact_name || w.contact)}</a>` : ''}${voicemailPlayer(c)}</td>
<td class="source">${esc(w[`cb_source_${c.source}`])}</td>
<td class="num missed">${c.missed_count}</td>
<td class="num attempts" title="${esc(c.last_attempt_at ? fmtDateTime(c.last_attempt_at) : '')}">${c.attempts}</td>
<td>${esc(c.queue_name || '')}</td>
<td class="assignee">${esc(c.assignee_name || w.unassigned)}</td>
${state.status === 'open' ? '' : `<td class="result">${esc(resultText(c.result))}</td>`}
<td class="actions">${c.status === 'open' ? `${free ? `<button type="button" class="take" data-id="${esc(c.id)}">${esc(w.cb_take)}</button>` : ''}
${number ? `<button type="button" class="call" data-id="${esc(c.id)}" data-number="${esc(number)}">${esc(w.call_back)}</button>` : ''}
<button type="button" class="close" data-id="${esc(c.id)}">${esc(w.cb_close)}</button>` : ''}</td></tr>`;
}

async function load() {
  try {
    const result = await get(`/api/callbacks?${query()}`);
    const now = Date.now();
    $('content').innerHTML = result.items.length ? `<table class="list" id="callbacks"><thead><tr>
${may.monitor ? `<th><input type="checkbox" id="pick-all" aria-label="${esc(w.cb_pick_all)}"></th>` : ''}
<th>${esc(w.due)}</th><th>${esc(w.cb_waiting)}</th><th>${esc(w.cb_caller)}</th><th>${esc(w.cb_source)}</th><th>${esc(w.cb_missed)}</th><th>${esc(w.cb_attempts)}</th><th>${esc(w.queue)}</th><th>${esc(w.assignee)}</th>${state.status === 'open' ? '' : `<th>${esc(w.result)}</th>`}<th></th></tr></thead>
<tbody>${result.items.map((c) => row(c, now)).join('')}</tbody></table>${pager(result.page, result.per_page, result.total)}`
      : `<p class="muted" id="empty">${esc(state.status === 'open' ? w.cb_none_open : w.cb_none)}</p>`;
    $('content').querySelectorAll('.pager [data-page]').forEach((b) => b.addEventListener('click', () => { state.page = Number(b.dataset.page); load(); }));
    onTick();
    showError(null);
  } catch (error) {
    showError(error);
  }
}

function picked() {
  return [...$('content').querySelectorAll('.pick:checked')].map((b) => b.value);
}

function onTick(event) {
  if (event && event.target.id === 'pick-all') {
    $('content').querySelectorAll('.pick:not(:disabled)').forEach((b) => { b.checked = event.target.checked; });
  }
  if (!$('selected-count')) return;
  const n = picked().length;
  $('selected-count').textContent = `${w.cb_selected}: ${n}`;
  $('bulk-assign').disabled = n === 0;
}

async function assignSelected() {
  const ids = picked();
  const to = $('bulk-assignee').value;
  try {
    await api('POST', '/api/callbacks/assign', { task_ids: ids, assignee_id: to === 'none' ? null : to });
    await load();
  } catch (error) {
    showError(error);
  }
}

async function onClick(event) {
  const button = event.target.closest('button');
  if (!button) return;
  const id = button.dataset.id;
  try {
    if (button.classList.contains('call')) {
      callFromConsole(button.dataset.number, id);
    } else if (button.classList.contains('take')) {
      await api('POST', '/api/callbacks/assign', { task_ids: [id], assignee_id: me.id });
      await load();
    } else if (button.classList.contains('close')) {
      const choices = RESULTS.map((r) => option(r, w[`cb_result_${r}`], 'reached')).join('');
      const values = await dialog(w.cb_close, `<label>${esc(w.result)}<select name="result" id="close-result">${choices}</select></label>
<label>${esc(w.cb_comment)}<input name="comment" id="close-comment" maxlength="1000"></label>`, { submit: w.cb_close });
      if (!values) return;
      const result = values.comment ? `${values.result}: ${values.comment}` : values.result;
      await api('POST', `/api/tasks/${encodeURIComponent(id)}/complete`, { result });
      await load();
    }
  } catch (error) {
    showError(error);
  }
}

// A list opened from elsewhere (the console, the wallboard) shows what it was opened for:
// the filters come from the address.
shortcuts({ a: () => $('bulk-assign') && !$('bulk-assign').disabled && $('bulk-assign').click() });
render().then(load);
