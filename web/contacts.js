// Contacts: one search box (a name, a phone in any spelling or an email), owner and custom
// field filters, create, merge two duplicates, export what the filters show.

import { w, $, esc, app, get, api, may, showError, fmtDate, contactName, fmtPhone, userNames, userOptions, customFields, pager, exportLinks, shortcuts, dialog } from './common.js';
import { contactDialog } from './forms.js';

const perPage = 25;
let page = 1;
let rows = [];

// Digits with phone punctuation only, at least four digits: a phone number, or its last
// digits (4-7 find every number ending so).
const looksLikePhone = (text) => /^[\d\s()+\-.]+$/.test(text) && text.replace(/\D/g, '').length >= 4;

async function render() {
  const defs = await customFields('contact');
  app.innerHTML = `<section class="panel">
<form id="filters" class="filters">
<label>${esc(w.search)}<input name="q" id="search" size="30" placeholder="${esc(w.search_contacts_hint)}" autofocus></label>
<label>${esc(w.owner)}<select name="owner_id" id="f-owner">${await userOptions('')}</select></label>
${defs.length ? `<label>${esc(w.custom_field)}<select name="cf_key" id="f-cf"><option value="">—</option>${defs.map((d) => `<option value="${esc(d.key)}">${esc(d.label)}</option>`).join('')}</select></label>
<label>${esc(w.value)}<input name="cf_value" id="f-cf-value" size="12"></label>` : ''}
<button type="submit" id="search-button">${esc(w.search)}</button>
<span class="spacer"></span>
<button type="button" id="new-contact" title="N">${esc(w.new_contact)}</button>
${may.remove ? `<button type="button" id="merge" disabled title="${esc(w.merge_hint)}">${esc(w.merge)}</button>` : ''}
</form>
<p class="error" id="error" hidden></p>
</section>
<section class="panel">
<div class="row"><span id="total" class="muted"></span><span class="spacer"></span><span id="export-links"></span></div>
<table class="list" id="contacts"><thead><tr><th></th><th>${esc(w.person_name)}</th><th>${esc(w.phones)}</th><th>${esc(w.emails)}</th><th>${esc(w.position)}</th><th>${esc(w.owner)}</th><th>${esc(w.created_on)}</th></tr></thead><tbody></tbody></table>
<div id="pager"></div>
</section>`;
  $('filters').addEventListener('submit', (event) => {
    event.preventDefault();
    page = 1;
    load();
  });
  $('new-contact').addEventListener('click', create);
  if ($('merge')) $('merge').addEventListener('click', merge);
  $('contacts').addEventListener('change', () => {
    if ($('merge')) $('merge').disabled = selected().length !== 2;
  });
  $('pager').addEventListener('click', (event) => {
    const to = event.target.dataset.page;
    if (to) {
      page = Number(to);
      load();
    }
  });
}

function params() {
  const form = $('filters');
  const p = new URLSearchParams();
  const text = form.q.value.trim();
  if (text.includes('@')) p.set('email', text);
  else if (looksLikePhone(text)) p.set('phone', text);
  else if (text) p.set('q', text);
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
    const [result, names] = await Promise.all([get(`/api/contacts?${query}`), userNames()]);
    showError(null);
    rows = result.items;
    $('total').textContent = `${w.found}: ${result.total}`;
    $('export-links').innerHTML = exportLinks('contacts', filter);
    $('contacts').tBodies[0].innerHTML = rows.map((c) => `<tr data-id="${esc(c.id)}">
<td><input type="checkbox" class="pick" value="${esc(c.id)}" aria-label="${esc(w.select)}"></td>
<td><a href="/contacts/${encodeURIComponent(c.id)}" class="name">${esc(contactName(c))}</a></td>
<td class="phones">${c.phones.map((p) => esc(fmtPhone(p.number))).join('<br>')}</td>
<td>${c.emails.map(esc).join('<br>')}</td>
<td>${esc(c.position || '')}</td>
<td>${esc(names.get(c.owner_id) || '')}</td>
<td>${esc(fmtDate(c.created_at))}</td></tr>`).join('') || `<tr><td colspan="7" class="muted">${esc(w.nothing_found)}</td></tr>`;
    $('pager').innerHTML = pager(page, perPage, result.total);
    if ($('merge')) $('merge').disabled = true;
  } catch (error) {
    showError(error);
  }
}

const selected = () => [...document.querySelectorAll('#contacts .pick:checked')].map((box) => rows.find((c) => c.id === box.value)).filter(Boolean);

async function create() {
  const contact = await contactDialog();
  if (contact) location.href = `/contacts/${encodeURIComponent(contact.id)}`;
}

/// Two duplicates: the user picks which one stays; the other's phones, emails, calls, deals,
/// tasks and notes move to it.
async function merge() {
  const [a, b] = selected();
  if (!a || !b) return;
  const describe = (c) => `${esc(contactName(c))} · ${c.phones.map((p) => esc(p.number)).join(', ')} ${c.emails.map(esc).join(', ')}`;
  const values = await dialog(w.merge_contacts, `<p>${esc(w.merge_explain)}</p>
<label class="choice"><input type="radio" name="keep" value="${esc(a.id)}" checked> ${describe(a)}</label>
<label class="choice"><input type="radio" name="keep" value="${esc(b.id)}"> ${describe(b)}</label>`, { submit: w.merge });
  if (!values) return;
  const keep = values.keep;
  const other = keep === a.id ? b.id : a.id;
  try {
    const survivor = await api('POST', `/api/contacts/${encodeURIComponent(keep)}/merge`, { other_id: other });
    location.href = `/contacts/${encodeURIComponent(survivor.id)}`;
  } catch (error) {
    showError(error);
  }
}

shortcuts({ n: create, '/': () => $('search').focus() });
render().then(() => {
  const initial = new URLSearchParams(location.search).get('q');
  if (initial) $('search').value = initial;
  return load();
});
window.switchboard.reload = load;
