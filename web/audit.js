// The audit log (managers and admins): who did what to which record, newest first, with
// filters by user, record and action.

import { w, $, esc, app, get, showError, fmtDateTime, userNames, userOptions, pager } from './common.js';

const perPage = 50;
let page = 1;
const links = { contact: '/contacts/', company: '/companies/', deal: '/deals/' };

async function render() {
  app.innerHTML = `<section class="panel"><form id="filters" class="filters">
<label>${esc(w.user)}<select name="user_id">${await userOptions('')}</select></label>
<label>${esc(w.record_kind)}<select name="entity"><option value="">—</option>${['contact', 'company', 'deal', 'task', 'note', 'call', 'user', 'team', 'queue', 'stage', 'custom_field', 'setting'].map((e) => `<option>${e}</option>`).join('')}</select></label>
<label>${esc(w.record_id)}<input name="entity_id" size="28"></label>
<label>${esc(w.action)}<input name="action" size="16" placeholder="contact."></label>
<button type="submit">${esc(w.search)}</button></form><p class="error" id="error" hidden></p></section>
<section class="panel"><table class="list" id="audit"><thead><tr><th>${esc(w.when)}</th><th>${esc(w.user)}</th><th>${esc(w.action)}</th><th>${esc(w.record_kind)}</th><th>${esc(w.details)}</th></tr></thead><tbody></tbody></table>
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
      return `<tr><td>${esc(fmtDateTime(a.at))}</td><td>${esc(names.get(a.user_id) || a.user_id || w.system)}</td><td>${esc(a.action)}</td><td>${esc(a.entity)} ${target}</td>
<td class="detail"><code>${esc(JSON.stringify(a.detail))}</code></td></tr>`;
    }).join('') || `<tr><td colspan="5" class="muted">${esc(w.nothing_found)}</td></tr>`;
    $('pager').innerHTML = pager(page, perPage, result.total);
  } catch (error) {
    showError(error);
  }
}

render().then(load);
