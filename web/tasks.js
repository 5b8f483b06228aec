// Tasks: mine (overdue first, then today, then later), the team's for supervisors and up, and
// a day view by hour. Complete with a result; a callback starts its call in one click.

import { w, $, esc, app, get, api, may, me, showError, fmtDateTime, fmtTime, fmtPhone, userNames, teams, dialog, newTask, callFromConsole, shortcuts, word, locale, voicemailPlayer, taskSubject } from './common.js';

let tab = 'mine';
let day = new Date();
day.setHours(0, 0, 0, 0);

async function render() {
  let teamSelect = '';
  if (may.monitor) {
    const list = (await teams()).filter((t) => me.role !== 'supervisor' || t.supervisor_id === me.id || t.id === me.team);
    teamSelect = `<select id="team" aria-label="${esc(w.team)}">${list.map((t) => `<option value="${esc(t.id)}">${esc(t.name)}</option>`).join('')}</select>`;
  }
  app.innerHTML = `<section class="panel"><div class="row">
<div class="toggle" role="group">
<button type="button" data-tab="mine" id="tab-mine">${esc(w.my_tasks)}</button>
${may.monitor ? `<button type="button" data-tab="team" id="tab-team">${esc(w.team_tasks)}</button>` : ''}
<button type="button" data-tab="day" id="tab-day">${esc(w.day_view)}</button></div>
${teamSelect}
<span id="day-nav" class="row" hidden><button type="button" id="day-prev">←</button><input type="date" id="day-date"><button type="button" id="day-next">→</button>
<label class="inline"><input type="checkbox" id="day-team"${may.monitor ? '' : ' disabled'}> ${esc(w.whole_team)}</label></span>
<span class="spacer"></span><button type="button" id="new-task" title="N">${esc(w.new_task)}</button></div>
<p class="error" id="error" hidden></p></section>
<section class="panel" id="content"></section>`;
  app.querySelectorAll('[data-tab]').forEach((b) => b.addEventListener('click', () => show(b.dataset.tab)));
  $('new-task').addEventListener('click', async () => { try { if (await newTask()) load(); } catch (error) { showError(error); } });
  if ($('team')) $('team').addEventListener('change', load);
  $('day-prev').addEventListener('click', () => { day = new Date(day.getTime() - 86400000); load(); });
  $('day-next').addEventListener('click', () => { day = new Date(day.getTime() + 86400000); load(); });
  $('day-date').addEventListener('change', () => { if ($('day-date').value) { day = new Date(`${$('day-date').value}T00:00:00`); load(); } });
  $('day-team').addEventListener('change', load);
  $('content').addEventListener('click', onClick);
}

function show(which) {
  tab = which;
  load();
}

function who() {
  if (tab === 'team' || (tab === 'day' && $('day-team').checked)) return $('team') && $('team').value ? `team_id=${encodeURIComponent($('team').value)}` : '';
  return 'assignee_id=me';
}

async function load() {
  app.querySelectorAll('[data-tab]').forEach((b) => b.setAttribute('aria-pressed', b.dataset.tab === tab));
  $('day-nav').hidden = tab !== 'day';
  try {
    if (tab === 'day') await loadDay();
    else await loadList();
    showError(null);
  } catch (error) {
    showError(error);
  }
}

function row(t, names, showAssignee) {
  const number = t.phone_e164;
  return `<li class="task${t.callback ? ' callback' : ''}" data-id="${esc(t.id)}">
<span class="when">${esc(t.due_at ? fmtDateTime(t.due_at) : w.no_due)}</span>
<span class="kind">${esc(word('kind', t.kind))}</span> <strong class="subject">${esc(taskSubject(t, w))}</strong>
${t.contact_id ? `<a href="/contacts/${encodeURIComponent(t.contact_id)}">${esc(w.contact)}</a>` : ''}
${t.deal_id ? `<a href="/deals/${encodeURIComponent(t.deal_id)}">${esc(w.deal)}</a>` : ''}
${number ? `<span class="number">${esc(fmtPhone(number))}</span>` : ''}${t.missed_count > 1 ? ` <span class="badge">×${t.missed_count}</span>` : ''}
${showAssignee ? `<span class="muted">${esc(names.get(t.assignee_id) || w.unassigned)}</span>` : ''}
${voicemailPlayer(t)}
<span class="spacer"></span>
${number ? `<button type="button" class="call" data-id="${esc(t.id)}" data-number="${esc(number)}">${esc(w.call_back)}</button>` : ''}
<button type="button" class="complete" data-id="${esc(t.id)}">${esc(w.complete)}</button></li>`;
}

async function loadList() {
  const [result, names] = await Promise.all([get(`/api/tasks?${who()}&status=open&per_page=500`), userNames()]);
  const now = Date.now();
  const end = new Date();
  end.setHours(24, 0, 0, 0);
  const groups = [
    ['overdue', w.overdue, (t) => t.due_at && t.due_at < now],
    ['today', w.today, (t) => t.due_at && t.due_at >= now && t.due_at < end.getTime()],
    ['later', w.later, (t) => t.due_at && t.due_at >= end.getTime()],
    ['no-due', w.no_due, (t) => !t.due_at],
  ];
  const team = tab === 'team';
  $('content').innerHTML = groups.map(([key, title, test]) => {
    const items = result.items.filter(test);
    return `<h2 class="group-${key}">${esc(title)} (${items.length})</h2><ul class="tasks" id="tasks-${key}">${items.map((t) => row(t, names, team)).join('') || `<li class="muted">—</li>`}</ul>`;
  }).join('') + (result.total > result.items.length ? `<p class="muted">${esc(w.showing)} ${result.items.length} / ${result.total}</p>` : '');
}

// The day by hour, like a calendar: each task under the hour it is due.
async function loadDay() {
  const from = day.getTime();
  const to = from + 86400000;
  $('day-date').value = new Date(from - day.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
  const [result, names] = await Promise.all([get(`/api/tasks?${who()}&due_after=${from}&due_before=${to}&per_page=500`), userNames()]);
  const byHour = new Map();
  for (const t of result.items) {
    const h = new Date(t.due_at).getHours();
    if (!byHour.has(h)) byHour.set(h, []);
    byHour.get(h).push(t);
  }
  const hours = [];
  const first = Math.min(8, ...byHour.keys());
  const last = Math.max(20, ...byHour.keys());
  for (let h = first; h <= last; h += 1) hours.push(h);
  const label = (h) => fmtTime(new Date(day.getFullYear(), day.getMonth(), day.getDate(), h).getTime());
  $('content').innerHTML = `<h2>${esc(day.toLocaleDateString(locale, { weekday: 'long', day: 'numeric', month: 'long' }))}</h2>
<table class="day" id="day"><tbody>${hours.map((h) => `<tr data-hour="${h}"><th>${esc(label(h))}</th><td><ul class="tasks">${(byHour.get(h) || []).map((t) => row(t, names, $('day-team').checked)).join('')}</ul></td></tr>`).join('')}</tbody></table>`;
}

async function onClick(event) {
  const button = event.target;
  if (button.classList.contains('call')) {
    callFromConsole(button.dataset.number, button.dataset.id);
  } else if (button.classList.contains('complete')) {
    const values = await dialog(w.complete_task, `<label>${esc(w.result)}<input name="result" id="task-result" maxlength="2000"></label>`, { submit: w.complete });
    if (!values) return;
    try {
      await api('POST', `/api/tasks/${encodeURIComponent(button.dataset.id)}/complete`, { result: values.result || null });
      await load();
    } catch (error) {
      showError(error);
    }
  }
}

shortcuts({ n: () => $('new-task').click(), m: () => show('mine'), d: () => show('day'), t: () => may.monitor && show('team') });
render().then(load);
