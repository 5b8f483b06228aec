// Administration, business hours: schedules (weekly hours in the call center's time zone and
// exceptions by date) that a voice menu's "business hours" step and a queue use. The hours of
// a day are typed as 09:00-18:00 (several separated by commas); exceptions are days with hours
// of their own or closed. The Russian production calendar (CSV or Excel, as data.gov.ru
// publishes it) fills the exceptions; the rows it could not read are listed with their line.

import { w, $, esc, api, get, showError, confirmDialog, locale } from './common.js';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const ZONES = ['Europe/Kaliningrad', 'Europe/Moscow', 'Europe/Samara', 'Asia/Yekaterinburg', 'Asia/Omsk', 'Asia/Novosibirsk',
  'Asia/Krasnoyarsk', 'Asia/Irkutsk', 'Asia/Yakutsk', 'Asia/Vladivostok', 'Asia/Magadan', 'Asia/Kamchatka', 'UTC'];

/// The server's words for a problem with a schedule, said in the page's language.
function scheduleProblem(error) {
  const message = (error.body && error.body.message) || error.message;
  const known = [['not a known time zone', w.sched_bad_zone], ['overlap', w.sched_overlap], ['is not HH:MM-HH:MM', w.sched_bad_span],
    ['closes before it opens', w.sched_backwards], ['not a date', w.sched_bad_date], ['uses this schedule', w.sched_in_use]];
  const found = known.find(([start]) => message.includes(start));
  const field = (error.body && error.body.field) || '';
  const where = field.startsWith('week.') ? `${w[`day_${field.slice(5).split('[')[0]}`] || field}: ` : field.startsWith('exceptions.') ? `${field.slice(11)}: ` : '';
  return `${where}${found ? found[1] : message}`;
}

/// A calendar row's problem: "line 3: январь: «40» не день месяца".
function calendarProblem(p) {
  const reasons = [['is not a day of the month', w.cal_not_day], ['is not a year', w.cal_not_year], ['columns; a year and twelve', w.cal_columns],
    ['is listed twice', w.cal_twice], ['is not a year the calendar covers', w.cal_range]];
  const known = reasons.find(([text]) => p.reason.includes(text));
  const said = known ? p.reason.replace(/ is not a day of the month| is not a year the calendar covers.*| is not a year| is listed twice|\d+ columns; .*/, ` — ${known[1]}`) : p.reason;
  return `${w.line} ${p.line}: ${said}`;
}

const spans = (list) => list.join(', ');
/// "2025-01-03 (пт)": the date as stored, with its day of the week.
const dayLabel = (date) => `${date} (${new Date(`${date}T12:00:00Z`).toLocaleDateString(locale, { weekday: 'short', timeZone: 'UTC' })})`;
const parseSpans = (text) => text.split(',').map((s) => s.trim()).filter(Boolean);

export async function schedulesView(box, reload) {
  const list = await get('/api/schedules');
  box.innerHTML = `<div class="row"><button type="button" id="new-schedule">${esc(w.new_schedule)}</button></div>
<table class="list" id="schedules"><thead><tr><th>${esc(w.name)}</th><th>${esc(w.time_zone)}</th><th>${esc(w.weekly_hours)}</th><th>${esc(w.exceptions)}</th><th></th></tr></thead><tbody>
${list.map((s) => `<tr data-id="${esc(s.id)}"><td>${esc(s.name)}</td><td>${esc(s.time_zone)}</td>
<td>${DAYS.map((d) => `${esc(w[`day_${d}`].slice(0, 2))} ${esc(spans(s.week[d]) || '—')}`).join('<br>')}</td><td>${Object.keys(s.exceptions).length}</td>
<td><button type="button" data-edit="${esc(s.id)}">${esc(w.edit)}</button> <button type="button" data-delete="${esc(s.id)}">${esc(w.delete)}</button></td></tr>`).join('')
  || `<tr><td colspan="5" class="muted">${esc(w.no_schedules)}</td></tr>`}</tbody></table>
<section id="schedule-editor" hidden></section>`;

  const edit = (schedule) => {
    const state = schedule ? JSON.parse(JSON.stringify(schedule)) : {
      name: '', time_zone: 'Europe/Moscow', week: Object.fromEntries(DAYS.map((d) => [d, d === 'sat' || d === 'sun' ? [] : ['09:00-18:00']])), exceptions: {},
    };
    const editor = $('schedule-editor');
    editor.hidden = false;
    let imported = null;
    const draw = () => {
      const dates = Object.keys(state.exceptions).sort();
      editor.innerHTML = `<h3>${esc(schedule ? `${w.edit}: ${schedule.name}` : w.new_schedule)}</h3>
<div class="row"><label>${esc(w.name)}<input id="sched-name" value="${esc(state.name)}" required maxlength="100"></label>
<label>${esc(w.time_zone)}<input id="sched-zone" list="zones" value="${esc(state.time_zone)}"></label><datalist id="zones">${ZONES.map((z) => `<option value="${z}">`).join('')}</datalist></div>
<p class="muted">${esc(w.hours_hint)}</p>
<table class="keys" id="week">${DAYS.map((d) => `<tr><td>${esc(w[`day_${d}`])}</td><td><input data-day="${d}" size="28" value="${esc(spans(state.week[d]))}" placeholder="${esc(w.exception_closed)}"></td></tr>`).join('')}</table>
<h4>${esc(w.exceptions)}</h4>
<table class="keys" id="exceptions">${dates.map((date) => `<tr><td>${esc(dayLabel(date))}</td><td><input data-exception="${esc(date)}" size="28" value="${esc(spans(state.exceptions[date]))}" placeholder="${esc(w.closed_all_day)}"></td>
<td><button type="button" class="link" data-remove-exception="${esc(date)}">×</button></td></tr>`).join('')}</table>
<div class="row"><input type="date" id="new-exception-date"><button type="button" id="add-exception">${esc(w.add_exception)}</button></div>
${schedule ? `<h4>${esc(w.import_calendar)}</h4><p class="muted">${esc(w.calendar_hint)}</p>
<div class="row"><input type="file" id="calendar-file" accept=".csv,.xlsx,.xls,.ods,text/csv"><button type="button" id="import-calendar">${esc(w.upload)}</button></div>` : ''}
${imported ? `<div id="calendar-result"><p>${esc(w.calendar_done)}: ${imported.days} (${esc(w.calendar_years)}: ${imported.years.join(', ')})</p>
${imported.rejected.length ? `<p class="error">${esc(w.calendar_rejected)}:</p><ul class="error" id="calendar-rejected">${imported.rejected.map((p) => `<li>${esc(calendarProblem(p))}</li>`).join('')}</ul>` : ''}</div>` : ''}
<p class="error" id="schedule-error" hidden></p>
<div class="row"><button type="button" id="save-schedule">${esc(w.save)}</button><button type="button" id="cancel-schedule">${esc(w.cancel)}</button></div>`;
    };
    editor.onchange = (event) => {
      const t = event.target;
      if (t.dataset.day) state.week[t.dataset.day] = parseSpans(t.value);
      else if (t.dataset.exception) state.exceptions[t.dataset.exception] = parseSpans(t.value);
      else if (t.id === 'sched-name') state.name = t.value;
      else if (t.id === 'sched-zone') state.time_zone = t.value.trim();
    };
    editor.onclick = async (event) => {
      const t = event.target;
      if (t.dataset.removeException) {
        delete state.exceptions[t.dataset.removeException];
        draw();
      } else if (t.id === 'add-exception') {
        const date = $('new-exception-date').value;
        if (date && !state.exceptions[date]) { state.exceptions[date] = []; draw(); }
      } else if (t.id === 'cancel-schedule') {
        editor.hidden = true;
      } else if (t.id === 'import-calendar') {
        const file = $('calendar-file').files[0];
        if (!file) return;
        const query = new URLSearchParams({ file_name: file.name });
        const response = await fetch(`/api/schedules/${schedule.id}/calendar?${query}`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: file });
        const body = await response.json().catch(() => ({}));
        if (!response.ok) {
          const reason = (body.message || String(response.status)).replace(/^line (\d+): /, '');
          const line = (body.message || '').match(/^line (\d+): /);
          showError(line ? calendarProblem({ line: line[1], reason }) : reason, 'schedule-error');
          return;
        }
        imported = body;
        state.exceptions = body.schedule.exceptions;
        draw();
      } else if (t.id === 'save-schedule') {
        const body = { name: state.name, time_zone: state.time_zone, week: state.week, exceptions: state.exceptions };
        try {
          if (schedule) await api('PUT', `/api/schedules/${schedule.id}`, body);
          else await api('POST', '/api/schedules', body);
          await reload();
        } catch (error) {
          showError(scheduleProblem(error), 'schedule-error');
        }
      }
    };
    draw();
    editor.scrollIntoView({ block: 'start' });
  };

  $('new-schedule').addEventListener('click', () => edit(null));
  box.querySelector('#schedules').addEventListener('click', async (event) => {
    const s = list.find((x) => x.id === (event.target.dataset.edit || event.target.dataset.delete));
    if (!s) return;
    if (event.target.dataset.edit) edit(s);
    else if (await confirmDialog(`${w.delete}: ${s.name}?`, w.delete)) {
      try { await api('DELETE', `/api/schedules/${s.id}`); await reload(); } catch (error) { showError(scheduleProblem(error)); }
    }
  });
}
