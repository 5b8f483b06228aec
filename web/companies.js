// Companies: search by name, owner and custom fields; create; export what the filters show.

import { w, $, esc, app, get, showError, fmtDate, userNames, userOptions, customFields, pager, exportLinks, shortcuts } from './common.js';
import { companyDialog } from './forms.js';

const perPage = 25;
let page = 1;

async function render() {
  const defs = await customFields('company');
  app.innerHTML = `<section class="panel"><form id="filters" class="filters">
<label>${esc(w.search)}<input name="q" id="search" size="30" autofocus></label>
<label>${esc(w.owner)}<select name="owner_id">${await userOptions('')}</select></label>
${defs.length ? `<label>${esc(w.custom_field)}<select name="cf_key"><option value="">—</option>${defs.map((d) => `<option value="${esc(d.key)}">${esc(d.label)}</option>`).join('')}</select></label>
<label>${esc(w.value)}<input name="cf_value" size="12"></label>` : ''}
<button type="submit">${esc(w.search)}</button><span class="spacer"></span>
<button type="button" id="new-company" title="N">${esc(w.new_company)}</button></form>
<p class="error" id="error" hidden></p></section>
<section class="panel"><div class="row"><span id="total" class="muted"></span><span class="spacer"></span><span id="export-links"></span></div>
<table class="list" id="companies"><thead><tr><th>${esc(w.name)}</th><th>${esc(w.tax_id)}</th><th>${esc(w.website)}</th><th>${esc(w.owner)}</th><th>${esc(w.created_on)}</th></tr></thead><tbody></tbody></table>
<div id="pager"></div></section>`;
  $('filters').addEventListener('submit', (event) => { event.preventDefault(); page = 1; load(); });
  $('new-company').addEventListener('click', create);
  $('pager').addEventListener('click', (event) => { if (event.target.dataset.page) { page = Number(event.target.dataset.page); load(); } });
}

function params() {
  const form = $('filters');
  const p = new URLSearchParams();
  if (form.q.value.trim()) p.set('q', form.q.value.trim());
  if (form.owner_id.value) p.set('owner_id', form.owner_id.value);
  if (form.cf_key && form.cf_key.value && form.cf_value.value.trim()) p.set(`cf.${form.cf_key.value}`, form.cf_value.value.trim());
  return p;
}

async function load() {
  const filter = params();
  const query = new URLSearchParams(filter);
  query.set('page', page);
  query.set('per_page', perPage);
  try {
    const [result, names] = await Promise.all([get(`/api/companies?${query}`), userNames()]);
    showError(null);
    $('total').textContent = `${w.found}: ${result.total}`;
    $('export-links').innerHTML = exportLinks('companies', filter);
    $('companies').tBodies[0].innerHTML = result.items.map((c) => `<tr data-id="${esc(c.id)}"><td><a href="/companies/${encodeURIComponent(c.id)}">${esc(c.name)}</a></td>
<td>${esc(c.tax_id || '')}</td><td>${esc(c.website || '')}</td><td>${esc(names.get(c.owner_id) || '')}</td><td>${esc(fmtDate(c.created_at))}</td></tr>`).join('') || `<tr><td colspan="5" class="muted">${esc(w.nothing_found)}</td></tr>`;
    $('pager').innerHTML = pager(page, perPage, result.total);
  } catch (error) {
    showError(error);
  }
}

async function create() {
  const company = await companyDialog();
  if (company) location.href = `/companies/${encodeURIComponent(company.id)}`;
}

shortcuts({ n: create, '/': () => $('search').focus() });
render().then(load);
