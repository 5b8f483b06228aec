// The audit log (managers and admins): who did what to which record, newest first, with
// filters by user, record and action.

import { w, $, esc, app, get, showError, fmtDateTime, userNames, userOptions, pager, say } from './common.js';

const perPage = 50;
let page = 1;
const links = { contact: '/contacts/', company: '/companies/', deal: '/deals/' };
const KINDS = ['contact', 'company', 'deal', 'task', 'note', 'call', 'recording', 'user', 'team', 'queue', 'stage', 'custom_field', 'setting', 'entry_point', 'schedule', 'prompt', 'api_token'];

/// `contact.update` as a sentence in the page's language ("Мария Иванова: изменение
/// контакта «Петров Иван» — Телефоны: +79161234567"); an action the catalogue has no words
/// for is shown as it is.
function sentence(a, who, names) {
  const own = w[`audit_action_${a.action.replace('.', '_')}`];
  if (own) return `${who}: ${own}`;
  const [entity, ...rest] = a.action.split('.');
  const verb = w[`audit_verb_${rest.join('_')}`];
  const of = w[`audit_of_${entity}`];
  if (!verb || !of) return `${who}: ${a.action}`;
  const name = recordName(a.detail);
  const line = say('audit_line', { who, action: verb, entity: of }) + (name ? ` «${name}»` : '');
  const changed = rest.join('_') === 'update' ? changes(a.detail, names) : '';
  return changed ? `${line} — ${changed}` : line;
}

/// The record's name as the change wrote it down (a contact's name, a deal's title ...).
function recordName(d) {
  if (!d || typeof d !== 'object') return '';
  if (Array.isArray(d.name)) return d.name.filter(Boolean).join(' ');
  const name = d.title || d.name || d.subject || d.login;
  return typeof name === 'string' ? name : '';
}

/// The fields an update set, each by its label in the page's words with its new value; ids
/// and fields without words stay in the record behind the toggle.
function changes(d, names) {
  if (!d || typeof d !== 'object') return '';
  const shown = (k) => !k.endsWith('_id') || k === 'owner_id' || k === 'assignee_id';
  return Object.entries(d).filter(([k, v]) => v !== null && v !== undefined && shown(k) && w[`field_${k}`] && (typeof v !== 'object' || Array.isArray(v))).map(([k, v]) => {
    let value = Array.isArray(v) ? v.join(', ') : String(v);
    if (k === 'owner_id' || k === 'assignee_id') value = names.get(v) || value;
    return `${w[`field_${k}`]}: ${value}`;
  }).join('; ');
}

async function render() {
  app.innerHTML = `<section class="panel"><form id="filters" class="filters">
<label>${esc(w.user)}<select name="user_id">${await userOptions('')}</select></label>
<label>${esc(w.record_kind)}<select name="entity"><option value="">—</option>${KINDS.map((e) => `<option value="${e}">${esc(say(`audit_kind_${e}`))}</option>`).join('')}</select></label>
<label>${esc(w.record_id)}<input name="entity_id" size="28"></label>
<label>${esc(w.action)}<input name="action" size="16"></label>
<button type="submit">${esc(w.search)}</button></form><p class="error" id="error" hidden></p></section>
<section class="panel"><table class="list" id="audit"><thead><tr><th>${esc(w.when)}</th><th>${esc(w.action)}</th><th>${esc(w.record_id)}</th><th>${esc(w.details)}</th></tr></thead><tbody></tbody></table>
<div id="pager"></div></section>`;
  $('filters').addEventListener('submit', (event) => { event.preventDefault(); page = 1; load(); });
  $('pager').addEventListener('click', (event) => { if (event.target.dataset.page) { page = Number(event.target.dataset.page); load(); } });
}

async function load() {
  const form = $('filters');
  const q = new URLSearchParams();
  for (const name of ['user_id', 'entity', 'entity_id', 'action']) if (form[name].value.trim()) q.set(name, form[name].value.trim());
  q.set('page', page);
  q.set('per_page', perPage);
  try {
    const [result, names] = await Promise.all([get(`/api/audit?${q}`), userNames()]);
    showError(null);
    $('audit').tBodies[0].innerHTML = result.items.map((a) => {
      const target = a.entity_id && links[a.entity] ? `<a href="${links[a.entity]}${encodeURIComponent(a.entity_id)}">${esc(a.entity_id)}</a>` : esc(a.entity_id || '');
      const who = names.get(a.user_id) || a.user_id || w.system;
      // The raw record of the change stays one click away, for whoever needs the exact values.
      const raw = a.detail && Object.keys(a.detail).length ? `<details><summary>${esc(w.show_json)}</summary><code>${esc(JSON.stringify(a.detail, null, 1))}</code></details>` : '';
      return `<tr data-action="${esc(a.action)}"><td>${esc(fmtDateTime(a.at))}</td><td class="sentence">${esc(sentence(a, who, names))}</td><td>${target}</td>
<td class="detail">${raw}</td></tr>`;
    }).join('') || `<tr><td colspan="4" class="muted">${esc(w.nothing_found)}</td></tr>`;
    $('pager').innerHTML = pager(page, perPage, result.total);
  } catch (error) {
    showError(error);
  }
}

render().then(load);
