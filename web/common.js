// Shared by the CRM pages: the word table, the signed-in user, calls to the API with errors
// shown as the API names them, dates and money in the page's language, dialogs, shortcuts.

import { shortcutKey } from './keys.js';
import { taskSubject, fmtPhone } from './card.js';

export { fmtPhone };

export { taskSubject };

export const w = JSON.parse(document.getElementById('i18n').textContent);
export const lang = document.documentElement.lang;
export const locale = lang === 'ru' ? 'ru-RU' : 'en-GB';
export const $ = (id) => document.getElementById(id);
export const esc = (text) => String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
export const app = $('app');

const userTag = $('user-name');
export const me = { id: userTag.dataset.id, role: userTag.dataset.role, team: userTag.dataset.team, name: userTag.textContent };

// What the role may do (the API decides; this only hides buttons that would be refused).
const rank = { operator: 0, supervisor: 1, manager: 2, admin: 3 };
export const may = {
  editAny: rank[me.role] >= 1,
  remove: rank[me.role] >= 2,
  importExport: rank[me.role] >= 2,
  admin: me.role === 'admin',
  monitor: rank[me.role] >= 1,
};
export const mayEdit = (ownerId) => may.editAny || ownerId === me.id;

/// An API failure, with the message the API gave and the field it named.
export class ApiError extends Error {
  constructor(status, body) {
    // The API's message is in the page's language and names the field itself.
    super(String((body && (body.message || body.error)) || status));
    this.status = status;
    this.body = body || {};
  }
}

export async function api(method, url, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  if (response.status === 401) {
    location.href = '/login';
    throw new ApiError(401, {});
  }
  const text = await response.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = { message: text }; }
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}
export const get = (url) => api('GET', url);

export function showError(error, where = 'error') {
  const box = $(where);
  if (!box) return;
  box.textContent = error ? `${w.error}: ${error.message || error}` : '';
  box.hidden = !error;
}

export const fmtDate = (ms) => (ms ? new Date(ms).toLocaleDateString(locale) : '');
export const fmtDateTime = (ms) => (ms ? new Date(ms).toLocaleString(locale, { dateStyle: 'short', timeStyle: 'short' }) : '');
export const fmtTime = (ms) => (ms ? new Date(ms).toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' }) : '');
export function fmtMoney(minor, currency) {
  if (minor === null || minor === undefined) return '';
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency: currency || 'RUB', maximumFractionDigits: minor % 100 ? 2 : 0 }).format(minor / 100);
  } catch {
    return `${(minor / 100).toLocaleString(locale)} ${currency || ''}`;
  }
}
export const contactName = (c) => [c.last_name, c.first_name, c.middle_name].filter(Boolean).join(' ') || (c.phones && c.phones[0] && c.phones[0].number) || (c.emails && c.emails[0]) || '—';
export const word = (prefix, key) => w[`${prefix}_${key}`] || key;
/// Lists an administrator keeps (dispositions, loss reasons) hold labels in any script, or the
/// system's keys, which are said in the page's words; `keyOf` turns such words typed back
/// into their key.
export const dispositionLabel = (key) => word('disp', key);
export const lossLabel = (key) => word('why_lost', key);
export function keyOf(prefix, label) {
  const found = Object.keys(w).find((k) => k.startsWith(`${prefix}_`) && w[k] === label);
  return found ? found.slice(prefix.length + 1) : label;
}
/// A catalogue message with its arguments: `{name}` in the text takes `args.name` (numbers in
/// the page's format), and a plural message (variants by CLDR category) takes the form the
/// browser's plural rules pick for `args.count` (`2 строки`, `5 строк`, `1 row`).
const plurals = new Intl.PluralRules(locale);
export function say(key, args = {}) {
  const message = w[key];
  if (message === undefined) return key;
  const text = typeof message === 'string' ? message : message[plurals.select(Number(args.count))] ?? message.other;
  return text.replace(/\{(\w+)\}/g, (all, name) => {
    const v = args[name];
    if (v === undefined || v === null) return '';
    return typeof v === 'number' ? v.toLocaleString(locale) : String(v);
  });
}
export const countOf = (n, key) => say(key, { count: Number(n) });

// Names of users, stages and companies, fetched once per page.
const cache = new Map();
function once(key, load) {
  if (!cache.has(key)) cache.set(key, load().catch(() => []));
  return cache.get(key);
}
export const users = () => once('users', () => get('/api/users').then((r) => (Array.isArray(r) ? r : r.items || [])));
export const teams = () => once('teams', () => get('/api/teams'));
/// The pipeline's stages, each named in the page's language while it has the system's key.
export const stageLabel = (s) => (s.key && w[`stage_${s.key}`]) || s.name;
export const stages = () => get('/api/pipeline/stages').then((list) => list.map((s) => ({ ...s, name: stageLabel(s) })));
/// The pipelines in order, the system's own named in the page's language.
export const pipelines = () => once('pipelines', () => get('/api/pipelines').then((list) => list.map((p) => ({ ...p, name: (p.key && w[`pipeline_${p.key}`]) || p.name }))));
/// Stage options grouped by pipeline (one pipeline: no groups).
export function stageOptions(stageList, pipelineList, selected) {
  const option = (s) => `<option value="${esc(s.id)}"${s.id === selected ? ' selected' : ''}>${esc(s.name)}</option>`;
  if (pipelineList.length < 2) return stageList.map(option).join('');
  return pipelineList.map((p) => `<optgroup label="${esc(p.name)}">${stageList.filter((s) => s.pipeline_id === p.id).map(option).join('')}</optgroup>`).join('');
}
/// A document template's name: the catalogue's words while it has the system's key.
export const templateName = (t) => (t.key && w[`doc_template_${t.key}`]) || t.name;
/// A percent kept in hundredths (2200) as the page's language writes it (22 %).
export const fmtPercent = (hundredths) => (hundredths === null || hundredths === undefined ? '—' : `${(hundredths / 100).toLocaleString(document.documentElement.lang)}\u00a0%`);
/// A quantity kept in thousandths as the page's language writes it.
export const fmtQuantity = (milli) => (milli / 1000).toLocaleString(document.documentElement.lang, { maximumFractionDigits: 3 });
export const customFields = (entity) => once(`cf-${entity}`, () => get(`/api/custom-fields?entity=${entity}`));
export async function userName(id) {
  if (!id) return '';
  const u = (await users()).find((x) => x.id === id);
  return u ? u.name : '';
}
export async function userOptions(selected, blank = true) {
  const list = (await users()).filter((u) => u.active !== false);
  return (blank ? `<option value="">—</option>` : '') + list.map((u) => `<option value="${esc(u.id)}"${u.id === selected ? ' selected' : ''}>${esc(u.name)}</option>`).join('');
}

/// Opens the page's dialog with `html` inside a form; resolves with the form's values when it
/// is submitted (and `check` accepts them), or null when cancelled.
export function dialog(title, html, { submit = w.save, check } = {}) {
  const box = $('dialog');
  box.innerHTML = `<form method="dialog" class="dialog-form"><h2>${esc(title)}</h2>${html}
<p class="error" id="dialog-error" hidden></p>
<div class="row"><button type="submit" value="ok" id="dialog-ok">${esc(submit)}</button><button type="button" id="dialog-cancel">${esc(w.cancel)}</button></div></form>`;
  const form = box.querySelector('form');
  return new Promise((resolve) => {
    const close = (value) => {
      box.close();
      resolve(value);
    };
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const values = Object.fromEntries(new FormData(form).entries());
      if (check) {
        try {
          const problem = await check(values, form);
          if (problem) {
            showError(problem, 'dialog-error');
            return;
          }
        } catch (error) {
          showError(error, 'dialog-error');
          return;
        }
      }
      close(values);
    });
    box.querySelector('#dialog-cancel').addEventListener('click', () => close(null));
    box.addEventListener('cancel', () => resolve(null), { once: true });
    box.showModal();
    const first = form.querySelector('input, select, textarea');
    if (first) first.focus();
  });
}

export function confirmDialog(text, submit = w.confirm) {
  return dialog(text, '', { submit }).then((v) => v !== null);
}

/// Page shortcuts: `keys` maps a key ("n", "/") to an action, by the physical key, so they
/// work on the Russian layout too. Ignored while typing in a field; Escape leaves a field.
export function shortcuts(keys) {
  document.addEventListener('keydown', (event) => {
    const target = event.target;
    const typing = target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT' || target.isContentEditable);
    if (event.key === 'Escape' && typing) {
      target.blur();
      return;
    }
    if (typing || event.ctrlKey || event.metaKey || event.altKey || $('dialog').open) return;
    const action = keys[shortcutKey(event)];
    if (action) {
      event.preventDefault();
      action();
    }
  });
}

/// Export links for a list with its current filters (for the roles that may export).
export function exportLinks(list, filter) {
  if (!may.importExport) return '';
  const link = (format) => {
    const q = new URLSearchParams(filter);
    q.set('format', format);
    return `<a id="export-${format}" href="/api/export/${list}?${q}" download>${format.toUpperCase()}</a>`;
  };
  return `<span class="export">${esc(w.export)}: ${link('csv')} · ${link('xlsx')}</span>`;
}

/// Pager under a list: returns HTML; `page` is 1-based.
export function pager(page, perPage, total) {
  const pages = Math.max(1, Math.ceil(total / perPage));
  return `<div class="row pager"><button type="button" data-page="${page - 1}" ${page <= 1 ? 'disabled' : ''}>←</button>
<span>${page} / ${pages} · ${esc(w.found)}: ${total}</span>
<button type="button" data-page="${page + 1}" ${page >= pages ? 'disabled' : ''}>→</button></div>`;
}

/// The timeline of a contact or deal: calls (with a player where the user may hear the
/// recording), notes, tasks, deals and stage changes.
/// The message a caller left on a callback task (voicemail), with a player; the server
/// decides who may hear it and logs every listen.
export function voicemailPlayer(task) {
  if (!task.voicemail_call_id) return '';
  return `<span class="voicemail">${esc(w.voicemail_message)} <audio controls preload="none" src="/api/recordings/${encodeURIComponent(task.voicemail_call_id)}/audio"></audio></span>`;
}

export function timelineHtml(items, names) {
  if (!items.length) return `<p class="muted">${esc(w.timeline_empty)}</p>`;
  return `<ol class="timeline">${items.map((item) => {
    const who = item.agent_id ? ` · ${esc(names.get(item.agent_id) || '')}` : '';
    const player = item.recording_url ? `<audio controls preload="none" src="${esc(item.recording_url)}"></audio>` : '';
    return `<li class="tl-${esc(item.kind)}" data-kind="${esc(item.kind)}"><span class="when">${esc(fmtDateTime(item.at))}</span>
<span class="kind">${esc(word('tl', item.kind))}</span> <span class="summary">${esc(timelineLine(item))}</span>${who}${player}</li>`;
  }).join('')}</ol>`;
}

/// A timeline item's line in the page's language: the store's own words (numbers, subject,
/// title, stages, reasons) with its direction, outcome, disposition, kind and status translated.
function timelineLine(item) {
  if (item.text === undefined) return item.summary;
  const status = item.status ? word('status', item.status) : '';
  switch (item.kind) {
    case 'call':
      return [w[item.direction] || item.direction, item.text.replace(/\+7\d{10}/g, fmtPhone), item.outcome ? word('end', item.outcome) : w.in_progress, item.disposition ? word('disp', item.disposition) : ''].filter(Boolean).join(' · ');
    case 'task': return `${word('kind', item.task_kind)}: ${taskSubject({ callback: true, subject: item.text }, w)} [${status}]`;
    case 'deal': return `${item.text} [${status}]`;
    case 'document': return `${word('doc_kind', item.doc_kind)} № ${item.text} · ${word('doc_status', item.status)}`;
    case 'deal_change': {
      const text = item.text.replace(/\{stage:(\w+)\}/g, (all, key) => say(`stage_${key}`));
      return status ? `${text} · ${status}` : text;
    }
    default: return item.text;
  }
}

export async function userNames() {
  return new Map((await users()).map((u) => [u.id, u.name]));
}

/// Create a task (from a card, a deal or a call): asks for subject, kind, due and assignee.
export async function newTask(links = {}) {
  const now = new Date(Date.now() + 3600_000);
  const local = new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  const values = await dialog(w.new_task, `
<label>${esc(w.subject)}<input name="subject" required maxlength="500"></label>
<label>${esc(w.task_kind)}<select name="kind">${['call', 'meeting', 'email', 'todo'].map((k) => `<option value="${k}">${esc(word('kind', k))}</option>`).join('')}</select></label>
<label>${esc(w.due)}<input type="datetime-local" name="due" value="${local}"></label>
<label>${esc(w.assignee)}<select name="assignee_id">${await userOptions(me.id, false)}</select></label>
<label>${esc(w.description)}<textarea name="description" rows="3"></textarea></label>`);
  if (!values) return null;
  const body = { subject: values.subject, kind: values.kind, assignee_id: values.assignee_id || null, description: values.description || null, ...links };
  if (values.due) body.due_at = new Date(values.due).getTime();
  return api('POST', '/api/tasks', body);
}

/// Sends the user to the console to call `number` (the softphone lives there).
export function callFromConsole(number, taskId) {
  const params = new URLSearchParams({ dial: number });
  if (taskId) params.set('task', taskId);
  location.href = `/console?${params}`;
}

window.switchboard = window.switchboard || {};
