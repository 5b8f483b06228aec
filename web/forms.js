// Create and edit forms shared by several pages: contact, company, deal. Each saves through
// the API from inside the dialog, so a refusal (a bad phone, a duplicate) is shown next to the
// form and nothing typed is lost.

import { w, esc, api, get, dialog, customFields, userOptions, may, me, stages, pipelines, stageOptions, word, say, contactName, fmtPhone, lossLabel } from './common.js';

function customInputs(defs, values = {}) {
  return defs.map((d) => {
    const name = `cf.${d.key}`;
    const value = values[d.key] ?? '';
    let input;
    if (d.field_type === 'choice') {
      input = `<select name="${esc(name)}"><option value="">—</option>${d.choices.map((c) => `<option${c === value ? ' selected' : ''}>${esc(c)}</option>`).join('')}</select>`;
    } else {
      const type = d.field_type === 'date' ? 'date' : 'text';
      input = `<input type="${type}" name="${esc(name)}" value="${esc(value)}"${d.required ? ' required' : ''}>`;
    }
    return `<label>${esc(d.label)}${input}</label>`;
  }).join('');
}

function customValues(values, defs, before = {}) {
  const out = {};
  for (const d of defs) {
    const v = (values[`cf.${d.key}`] ?? '').trim();
    if (v) out[d.key] = v;
    else if (before[d.key] !== undefined) out[d.key] = null;
  }
  return out;
}

const lines = (text) => (text || '').split(/[\n,;]+/).map((s) => s.trim()).filter(Boolean);

/// The id of the existing company named `name` (case aside), or null.
export async function findCompany(name) {
  const trimmed = (name || '').trim();
  if (!trimmed) return null;
  const found = await get(`/api/companies?q=${encodeURIComponent(trimmed)}&per_page=50`);
  const same = found.items.find((c) => c.name.toLowerCase() === trimmed.toLowerCase());
  return same ? same.id : null;
}

/// Suggestions under a text field as the user types: `search(text)` returns [{id, label}];
/// the field's datalist offers the labels, and `picked()` tells the id of the label typed.
function suggest(input, search) {
  const list = document.createElement('datalist');
  list.id = `${input.id}-list`;
  input.setAttribute('list', list.id);
  input.after(list);
  let found = new Map();
  let timer = null;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const text = input.value.trim();
      if (text.length < 2) return;
      try {
        const items = await search(text);
        found = new Map(items.map((i) => [i.label, i.id]));
        list.innerHTML = items.map((i) => `<option value="${esc(i.label)}"></option>`).join('');
      } catch { /* suggestions are a help; typing still works */ }
    }, 200);
  });
  return { picked: () => found.get(input.value.trim()) || null };
}

/// The company field's suggestions: existing companies by name.
function suggestCompanies(input) {
  return suggest(input, async (text) => (await get(`/api/companies?q=${encodeURIComponent(text)}&per_page=10`)).items.map((c) => ({ id: c.id, label: c.name })));
}

/// The company a form names: an existing one, or, when the name is new, only once the user
/// has ticked "create it" (a typo must not make a second company). Returns {id} or {create:
/// name} or {problem}.
async function resolveCompany(values, form, prefix) {
  const name = (values.company || '').trim();
  if (!name) return { id: null };
  const id = await findCompany(name);
  if (id) return { id };
  if (values.new_company === 'on') return { create: name };
  const box = form.querySelector(`#${prefix}-new-company-box`);
  box.hidden = false;
  box.querySelector('span').textContent = say('company_create', { name });
  return { problem: say('company_unknown', { name }) };
}

const newCompanyBox = (prefix) => `<p class="force" id="${prefix}-new-company-box" hidden><label><input type="checkbox" name="new_company" id="${prefix}-new-company"> <span></span></label></p>`;

async function companyName(id) {
  if (!id) return '';
  try { return (await get(`/api/companies/${encodeURIComponent(id)}`)).name; } catch { return ''; }
}

/// Creates (no `contact`) or edits a contact; resolves with the saved contact or null.
export async function contactDialog(contact = null, preset = {}) {
  const defs = await customFields('contact');
  const c = contact || { first_name: '', last_name: '', middle_name: '', position: '', phones: [], emails: [], custom: {}, owner_id: me.id, ...preset };
  const company = await companyName(c.company_id);
  const owner = may.editAny ? `<label>${esc(w.owner)}<select name="owner_id">${await userOptions(c.owner_id || me.id)}</select></label>` : '';
  let saved = null;
  const html = `<div class="grid2">
<label>${esc(w.last_name)}<input name="last_name" id="c-last" value="${esc(c.last_name)}"></label>
<label>${esc(w.first_name)}<input name="first_name" id="c-first" value="${esc(c.first_name)}"></label>
<label>${esc(w.middle_name)}<input name="middle_name" id="c-middle" value="${esc(c.middle_name)}"></label>
<label>${esc(w.position)}<input name="position" id="c-position" value="${esc(c.position || '')}"></label>
<label>${esc(w.phones)}<textarea name="phones" id="c-phones" rows="2" placeholder="+7 916 123-45-67">${esc(c.phones.map((p) => (p.extension ? `${p.number} доб. ${p.extension}` : p.number)).join('\n'))}</textarea></label>
<label>${esc(w.emails)}<textarea name="emails" id="c-emails" rows="2">${esc(c.emails.join('\n'))}</textarea></label>
<label>${esc(w.company)}<input name="company" id="c-company" value="${esc(company)}" autocomplete="off"></label>
${owner}
${customInputs(defs, c.custom)}
</div>${newCompanyBox('c')}
<p class="force" id="c-force-box" hidden><label><input type="checkbox" name="force" id="c-force"> ${esc(w.save_anyway)}</label>
<a id="c-existing" href="#">${esc(w.open_existing)}</a></p>`;
  const pending = dialog(contact ? w.edit_contact : w.new_contact, html, {
    check: async (values, form) => {
      const company = await resolveCompany(values, form, 'c');
      if (company.problem) return company.problem;
      const body = {
        first_name: values.first_name.trim(),
        last_name: values.last_name.trim(),
        middle_name: values.middle_name.trim(),
        position: values.position.trim() || null,
        phones: lines(values.phones),
        emails: lines(values.emails),
        company_id: company.id,
        custom: customValues(values, defs, contact ? contact.custom : {}),
        force: values.force === 'on',
      };
      if (may.editAny && values.owner_id) body.owner_id = values.owner_id;
      try {
        saved = contact ? await api('PATCH', `/api/contacts/${encodeURIComponent(contact.id)}`, body) : await api('POST', '/api/contacts', body);
      } catch (error) {
        if (error.status === 409 && error.body.existing_id) {
          // Nothing was saved (and no company made): say whose the number is, with a link.
          form.querySelector('#c-force-box').hidden = false;
          const link = form.querySelector('#c-existing');
          link.href = `/contacts/${encodeURIComponent(error.body.existing_id)}`;
          let other = '';
          try { other = contactName(await get(`/api/contacts/${encodeURIComponent(error.body.existing_id)}`)); } catch { /* a contact the user may not read */ }
          link.textContent = other ? say('open_contact', { name: other }) : w.open_existing;
          return other ? say('duplicate_of', { value: error.body.input || '', name: other }) : error.message;
        }
        throw error;
      }
      // A new company is made only once the contact is saved, so a refused save leaves none.
      if (company.create) {
        const made = await api('POST', '/api/companies', { name: company.create });
        saved = await api('PATCH', `/api/contacts/${encodeURIComponent(saved.id)}`, { company_id: made.id });
      }
      return null;
    },
  });
  suggestCompanies(document.getElementById('c-company'));
  const result = await pending;
  return result ? saved : null;
}

/// Creates or edits a company.
/// A company's registration and bank details (its ИНН is the tax id above them).
const REQUISITES = ['kpp', 'ogrn', 'bank_name', 'bik', 'bank_account', 'corr_account'];

export async function companyDialog(company = null) {
  const defs = await customFields('company');
  const c = company || { name: '', tax_id: '', website: '', address: '', custom: {}, owner_id: me.id };
  const owner = may.editAny ? `<label>${esc(w.owner)}<select name="owner_id">${await userOptions(c.owner_id || me.id)}</select></label>` : '';
  let saved = null;
  const result = await dialog(company ? w.edit_company : w.new_company, `<div class="grid2">
<label>${esc(w.name)}<input name="name" id="co-name" required value="${esc(c.name)}"></label>
<label>${esc(w.tax_id)}<input name="tax_id" value="${esc(c.tax_id || '')}"></label>
<label>${esc(w.website)}<input name="website" value="${esc(c.website || '')}"></label>
<label>${esc(w.address)}<input name="address" value="${esc(c.address || '')}"></label>
${owner}${customInputs(defs, c.custom)}</div>
<details${Object.values(c.requisites || {}).some(Boolean) ? ' open' : ''}><summary>${esc(w.requisites)}</summary><div class="grid2">
${REQUISITES.map((k) => `<label>${esc(word('req', k))}<input name="req_${k}" value="${esc((c.requisites || {})[k] || '')}"></label>`).join('')}</div></details>`, {
    check: async (values) => {
      const requisites = Object.fromEntries(REQUISITES.map((k) => [k, values[`req_${k}`].trim() || null]));
      const body = { name: values.name.trim(), tax_id: values.tax_id.trim() || null, website: values.website.trim() || null, address: values.address.trim() || null, requisites, custom: customValues(values, defs, company ? company.custom : {}) };
      if (may.editAny && values.owner_id) body.owner_id = values.owner_id;
      saved = company ? await api('PATCH', `/api/companies/${encodeURIComponent(company.id)}`, body) : await api('POST', '/api/companies', body);
      return null;
    },
  });
  return result ? saved : null;
}

/// Creates or edits a deal (`preset` links a new one to a contact or company).
export async function dealDialog(deal = null, preset = {}) {
  const defs = await customFields('deal');
  const list = await stages();
  const d = deal || { title: '', amount_minor: null, currency: 'RUB', probability: null, stage_id: list[0] && list[0].id, custom: {}, owner_id: me.id, ...preset };
  const owner = may.editAny ? `<label>${esc(w.owner)}<select name="owner_id">${await userOptions(d.owner_id || me.id)}</select></label>` : '';
  const stageSelect = deal ? '' : `<label>${esc(w.stage)}<select name="stage_id">${stageOptions(list, await pipelines(), d.stage_id)}</select></label>`;
  const company = await companyName(d.company_id);
  // A new deal from the board asks whose it is: a contact found by name or number.
  const askContact = !deal && !d.contact_id && !d.company_id;
  let saved = null;
  const pending = dialog(deal ? w.edit_deal : w.create_deal, `<div class="grid2">
<label>${esc(w.title)}<input name="title" id="d-title" required value="${esc(d.title)}"></label>
${stageSelect}
<label>${esc(w.amount)}<input name="amount" id="d-amount" inputmode="decimal" value="${d.amount_minor === null || d.amount_minor === undefined ? '' : d.amount_minor / 100}"></label>
<label>${esc(w.currency)}<input name="currency" maxlength="3" value="${esc(d.currency || 'RUB')}"></label>
<label>${esc(w.probability)}<input name="probability" type="number" min="0" max="100" placeholder="${esc(w.from_stage)}" value="${d.probability ?? ''}"></label>
<label>${esc(w.company)}<input name="company" id="d-company" value="${esc(company)}" autocomplete="off"></label>
${askContact ? `<label>${esc(w.contact)}<input name="contact" id="d-contact" required autocomplete="off" placeholder="${esc(w.contact_hint)}"></label>` : ''}
${owner}${customInputs(defs, d.custom)}</div>${newCompanyBox('d')}`, {
    check: async (values, form) => {
      let contactId = d.contact_id;
      if (askContact) {
        contactId = contactPick.picked();
        if (!contactId) return say('contact_pick', { name: values.contact.trim() });
      }
      const company = await resolveCompany(values, form, 'd');
      if (company.problem) return company.problem;
      const amount = values.amount.trim().replace(/\s/g, '').replace(',', '.');
      if (amount && !Number.isFinite(Number(amount))) return `${w.amount}: ${w.not_a_number}`;
      const body = {
        title: values.title.trim(),
        amount: amount ? Number(amount) : null,
        currency: values.currency.trim().toUpperCase() || 'RUB',
        probability: values.probability === '' ? null : Number(values.probability),
        company_id: company.id,
        custom: customValues(values, defs, deal ? deal.custom : {}),
      };
      if (company.create) body.company_id = (await api('POST', '/api/companies', { name: company.create })).id;
      if (may.editAny && values.owner_id) body.owner_id = values.owner_id;
      // An amount that follows the products stays so unless it was changed here.
      if (deal && !deal.amount_manual && body.amount === (deal.amount_minor === null ? null : deal.amount_minor / 100)) delete body.amount;
      if (!deal) {
        body.stage_id = values.stage_id;
        if (contactId) body.contact_id = contactId;
        if (body.amount === null) delete body.amount;
        if (body.probability === null) delete body.probability;
      }
      saved = deal ? await api('PATCH', `/api/deals/${encodeURIComponent(deal.id)}`, body) : await api('POST', '/api/deals', body);
      return null;
    },
  });
  suggestCompanies(document.getElementById('d-company'));
  const contactPick = askContact ? suggest(document.getElementById('d-contact'), async (text) => (await get(`/api/contacts?q=${encodeURIComponent(text)}&per_page=10`)).items.map((c) => ({ id: c.id, label: [contactName(c), c.phones && c.phones[0] ? fmtPhone(c.phones[0].number) : ''].filter(Boolean).join(' · ') }))) : null;
  const result = await pending;
  return result ? saved : null;
}

/// Asks why a deal was lost (from the administrator's list, or "other" with a text) and to
/// whom; resolves with {reason, competitor} or null.
export async function lostDialog() {
  const reasons = await get('/api/loss-reasons').catch(() => []);
  const pending = dialog(w.deal_lost, `<label>${esc(w.loss_reason)}<select name="pick" id="lost-pick" required><option value="">—</option>${reasons.map((r) => `<option value="${esc(r)}">${esc(lossLabel(r))}</option>`).join('')}<option value="*">${esc(w.why_lost_other)}</option></select></label>
<label id="lost-other-box" hidden>${esc(w.why_lost_other_text)}<input name="other" id="lost-reason" maxlength="500"></label>
<label>${esc(w.competitor)}<input name="competitor" id="lost-competitor" maxlength="200"></label>`, {
    submit: w.mark_lost,
    check: (values) => (values.pick === '*' && !values.other.trim() ? w.why_lost_other_text : null),
  });
  const pick = document.getElementById('lost-pick');
  pick.addEventListener('change', () => { document.getElementById('lost-other-box').hidden = pick.value !== '*'; });
  const values = await pending;
  if (!values) return null;
  return { ...values, reason: values.pick === '*' ? values.other.trim() : values.pick };
}

export const statusWord = (s) => word('status', s);
