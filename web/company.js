// A company's card: its details and custom fields, its people and its deals.

import { w, $, esc, app, get, api, may, mayEdit, showError, fmtDate, fmtMoney, contactName, fmtPhone, userNames, customFields, confirmDialog, shortcuts, word, stages } from './common.js';
import { companyDialog, contactDialog, dealDialog } from './forms.js';

const id = app.dataset.id;
let company = null;

async function load() {
  try {
    company = await get(`/api/companies/${encodeURIComponent(id)}`);
  } catch (error) {
    app.innerHTML = `<section class="panel"><p class="error">${esc(error.status === 404 ? w.not_found : error.message)}</p><a href="/companies">${esc(w.companies)}</a></section>`;
    return;
  }
  document.title = `${company.name} · Switchboard`;
  const [names, defs, people, deals, allStages] = await Promise.all([
    userNames(), customFields('company'),
    get(`/api/contacts?company_id=${encodeURIComponent(id)}&per_page=100`),
    get(`/api/deals?company_id=${encodeURIComponent(id)}&per_page=100`),
    stages(),
  ]);
  const stageName = new Map(allStages.map((s) => [s.id, s.name]));
  const custom = defs.filter((d) => company.custom[d.key] !== undefined && company.custom[d.key] !== null);
  app.innerHTML = `<div class="card-layout"><div class="card-main">
<section class="panel" id="company-card"><div class="row"><h1>${esc(company.name)}</h1><span class="spacer"></span>
${mayEdit(company.owner_id) ? `<button type="button" id="edit" title="E">${esc(w.edit)}</button>` : ''}
<button type="button" id="add-person">${esc(w.new_contact)}</button>
<button type="button" id="add-deal">${esc(w.create_deal)}</button>
${may.remove ? `<button type="button" id="delete" class="danger">${esc(w.delete)}</button>` : ''}</div>
<table class="fields">
<tr><th>${esc(w.tax_id)}</th><td>${esc(company.tax_id || '—')}</td></tr>
<tr><th>${esc(w.website)}</th><td>${company.website ? `<a href="${esc(/^https?:/.test(company.website) ? company.website : `https://${company.website}`)}" rel="noopener noreferrer" target="_blank">${esc(company.website)}</a>` : '—'}</td></tr>
<tr><th>${esc(w.address)}</th><td>${esc(company.address || '—')}</td></tr>
<tr><th>${esc(w.owner)}</th><td>${esc(names.get(company.owner_id) || '—')}</td></tr>
${custom.map((d) => `<tr><th>${esc(d.label)}</th><td>${esc(company.custom[d.key])}</td></tr>`).join('')}
<tr><th>${esc(w.created_on)}</th><td>${esc(fmtDate(company.created_at))}</td></tr></table>
<p class="error" id="error" hidden></p></section></div>
<div class="card-main">
<section class="panel"><h2>${esc(w.company_people)} (${people.total})</h2><ul id="people">${people.items.map((c) => `<li><a href="/contacts/${encodeURIComponent(c.id)}">${esc(contactName(c))}</a> <span class="muted">${esc(c.position || '')} ${c.phones[0] ? esc(fmtPhone(c.phones[0].number)) : ''}</span></li>`).join('') || '<li class="muted">—</li>'}</ul></section>
<section class="panel"><h2>${esc(w.deals)} (${deals.total})</h2><ul id="deals">${deals.items.map((d) => `<li><a href="/deals/${encodeURIComponent(d.id)}">${esc(d.title)}</a> <span class="muted">${esc(stageName.get(d.stage_id) || '')} · ${esc(word('status', d.status))} · ${esc(fmtMoney(d.amount_minor, d.currency))}</span></li>`).join('') || '<li class="muted">—</li>'}</ul></section>
</div></div>`;
  const on = (elementId, handler) => { const el = $(elementId); if (el) el.addEventListener('click', handler); };
  on('edit', async () => { if (await companyDialog(company)) load(); });
  on('add-person', async () => { const c = await contactDialog(null, { company_id: id }); if (c) load(); });
  on('add-deal', async () => { if (await dealDialog(null, { company_id: id })) load(); });
  on('delete', async () => {
    if (!(await confirmDialog(`${w.delete_company_confirm} ${company.name}?`, w.delete))) return;
    try {
      await api('DELETE', `/api/companies/${encodeURIComponent(id)}`);
      location.href = '/companies';
    } catch (error) {
      showError(error);
    }
  });
}

shortcuts({ e: () => $('edit') && $('edit').click() });
load();
