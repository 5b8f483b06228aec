// Documents: on a deal, make one from a template (rendered to PDF by the server), open it,
// approve or reject it (the approver role), and e-mail it; in administration, edit the
// templates (typst with {{placeholders}}), our requisites and the approval limits.

import { w, $, esc, get, api, showError, dialog, fmtMoney, fmtDateTime, me, word, userNames, templateName } from './common.js';

/// The deal's documents into `box`; `changed()` redraws the card.
export async function documentsPanel(box, deal, editable, changed) {
  const [docs, templates, settings, names] = await Promise.all([
    get(`/api/deals/${encodeURIComponent(deal.id)}/documents`),
    get('/api/document-templates'),
    get('/api/documents/settings'),
    userNames(),
  ]);
  const approver = me.role === settings.approver_role || me.role === 'admin';
  const active = templates.filter((t) => t.active);
  box.innerHTML = `<div class="row"><h2>${esc(w.documents)}</h2><span class="spacer"></span>
${editable && active.length ? `<select id="doc-template" aria-label="${esc(w.document_template)}">${active.map((t) => `<option value="${esc(t.id)}">${esc(templateName(t))}</option>`).join('')}</select><button type="button" id="make-document">${esc(w.make_document)}</button>` : ''}</div>
<table class="list" id="documents"><thead><tr><th>${esc(w.document)}</th><th>${esc(w.created_on)}</th><th class="num">${esc(w.sum)}</th><th>${esc(w.status)}</th><th></th></tr></thead><tbody>
${docs.map((d) => `<tr data-id="${esc(d.id)}"><td><a href="/api/documents/${encodeURIComponent(d.id)}/pdf" target="_blank" rel="noopener" title="${esc(d.title)}">${esc(word('doc_kind', d.kind))} № ${esc(d.number)}</a></td><td>${esc(fmtDateTime(d.created_at))}</td><td class="num">${esc(fmtMoney(d.total_minor, d.currency))}</td>
<td><span class="badge" data-status="${esc(d.status)}">${esc(word('doc_status', d.status))}</span>${d.approval_reason && d.status === 'pending' ? ` <span class="muted">${esc(word('doc_reason', d.approval_reason))}</span>` : ''}${d.decision_comment ? `<div class="muted">${esc(names.get(d.decided_by) || '')}: ${esc(d.decision_comment)}</div>` : ''}
${d.sends.map((s) => `<div class="muted">${esc(s.error ? w.doc_send_failed : w.doc_sent)} ${esc(s.to_address)} · ${esc(fmtDateTime(s.sent_at))}</div>`).join('')}</td>
<td>${d.status === 'pending' && approver ? `<button type="button" data-approve="${esc(d.id)}">${esc(w.approve)}</button> <button type="button" data-reject="${esc(d.id)}">${esc(w.reject)}</button>` : ''}
${editable && (d.status === 'ready' || d.status === 'approved') ? `<button type="button" data-send="${esc(d.id)}">${esc(w.send_by_email)}</button>` : ''}</td></tr>`).join('') || `<tr><td colspan="5" class="muted">${esc(w.no_documents)}</td></tr>`}</tbody></table>`;
  const run = async (action) => {
    try {
      await action();
      await changed();
    } catch (error) {
      showError(error);
    }
  };
  const make = $('make-document');
  if (make) make.addEventListener('click', () => run(() => api('POST', `/api/deals/${encodeURIComponent(deal.id)}/documents`, { template_id: $('doc-template').value })));
  box.querySelector('#documents').addEventListener('click', async (event) => {
    const { approve, reject, send: sendId } = event.target.dataset;
    if (approve) await run(() => api('POST', `/api/documents/${approve}/approve`, {}));
    else if (reject) {
      if (await dialog(w.reject, `<label>${esc(w.comment)}<textarea name="comment" required rows="3"></textarea></label>`, { check: async (v) => { await api('POST', `/api/documents/${reject}/reject`, { comment: v.comment }); return null; } })) await changed();
    } else if (sendId) {
      if (!settings.email_enabled) { showError(w.email_not_set_up); return; }
      let email = '';
      if (deal.contact_id) email = ((await get(`/api/contacts/${encodeURIComponent(deal.contact_id)}`).catch(() => ({}))).emails || [])[0] || '';
      if (await dialog(w.send_by_email, `<label>${esc(w.email_address)}<input name="to" type="email" required value="${esc(email)}"></label>
<label>${esc(w.mail_message)}<textarea name="message" rows="3" placeholder="${esc(w.doc_mail_text)}"></textarea></label>`, { submit: w.send, check: async (v) => { await api('POST', `/api/documents/${sendId}/send`, { to: v.to, message: v.message || null }); return null; } })) await changed();
    }
  });
}

const SELLER_FIELDS = ['name', 'inn', 'kpp', 'ogrn', 'address', 'bank', 'bik', 'account', 'corr_account', 'director', 'phone', 'email'];

/// Administration: templates, our requisites and the approval limits.
export async function documentsAdminView(box, reload) {
  const [templates, settings, placeholders] = await Promise.all([get('/api/document-templates'), get('/api/documents/settings'), get('/api/document-templates/placeholders')]);
  box.innerHTML = `<div class="row"><button type="button" id="new-template">${esc(w.new_template)}</button><span class="spacer"></span><button type="button" id="doc-settings">${esc(w.doc_settings)}</button></div>
<p class="muted">${esc(settings.seller.name || w.seller_not_set)} · ${esc(w.approval_discount)}: ${settings.approval_discount ?? '—'} % · ${esc(w.approval_amount)}: ${settings.approval_amount ?? '—'} · ${esc(word('role', settings.approver_role))}${settings.email_enabled ? '' : ` · ${esc(w.email_not_set_up)}`}</p>
<table class="list" id="templates"><thead><tr><th>${esc(w.name)}</th><th>${esc(w.kind)}</th><th>${esc(w.active)}</th><th></th></tr></thead><tbody>
${templates.map((t) => `<tr class="${t.active ? '' : 'muted'}"><td>${esc(templateName(t))}</td><td>${esc(word('doc_kind', t.kind))}</td><td>${t.active ? '✓' : '✗'}</td><td><button type="button" data-edit="${esc(t.id)}">${esc(w.edit)}</button></td></tr>`).join('')}</tbody></table>`;
  const help = `<details><summary>${esc(w.placeholders)}</summary><ul class="placeholders">${placeholders.map((p) => `<li><code>{{${esc(p.name)}}}</code></li>`).join('')}</ul></details>`;
  const form = (t) => `${t ? '' : `<label>${esc(w.kind)}<select name="kind">${['offer', 'invoice', 'contract', 'act'].map((k) => `<option value="${k}">${esc(word('doc_kind', k))}</option>`).join('')}</select></label>`}
<label>${esc(w.name)}<input name="name" required value="${esc(t ? templateName(t) : '')}"></label>
${t ? `<label class="check"><input type="checkbox" name="active"${t.active ? ' checked' : ''}> ${esc(w.active)}</label>` : ''}
<label>${esc(w.template_source)}<textarea name="source" rows="22" cols="90" spellcheck="false" class="code">${esc(t ? t.source : '')}</textarea></label>${help}`;
  const save = async (title, html, send) => { if (await dialog(title, html, { check: async (v) => { await send(v); return null; } })) await reload(); };
  $('new-template').addEventListener('click', () => save(w.new_template, form(null), (v) => api('POST', '/api/document-templates', { kind: v.kind, name: v.name, source: v.source })));
  box.querySelector('#templates').addEventListener('click', (event) => {
    const t = templates.find((x) => x.id === event.target.dataset.edit);
    // The name goes only when it was changed: a template the system named keeps saying itself
    // in each reader's language until then.
    if (t) save(`${w.edit}: ${templateName(t)}`, form(t), (v) => api('PATCH', `/api/document-templates/${t.id}`, { ...(v.name === templateName(t) ? {} : { name: v.name }), source: v.source, active: v.active === 'on' }));
  });
  const s = settings.seller;
  $('doc-settings').addEventListener('click', () => save(w.doc_settings, `<fieldset><legend>${esc(w.our_requisites)}</legend><div class="grid2">
${SELLER_FIELDS.map((f) => `<label>${esc(word('seller', f))}<input name="seller_${f}" value="${esc(s[f] || '')}"></label>`).join('')}</div></fieldset>
<div class="grid2"><label>${esc(w.approval_discount)}, %<input name="discount" inputmode="decimal" value="${settings.approval_discount ?? ''}"></label>
<label>${esc(w.approval_amount)}<input name="amount" inputmode="decimal" value="${settings.approval_amount ?? ''}"></label>
<label>${esc(w.approver_role)}<select name="role">${['supervisor', 'manager', 'admin'].map((r) => `<option value="${r}"${r === settings.approver_role ? ' selected' : ''}>${esc(word('role', r))}</option>`).join('')}</select></label></div>`, (v) => {
    const number = (text) => (String(text).trim() === '' ? null : Number(String(text).replace(/\s/g, '').replace(',', '.')));
    return api('PUT', '/api/documents/settings', {
      seller: Object.fromEntries(SELLER_FIELDS.map((f) => [f, v[`seller_${f}`].trim()])),
      approval_discount: number(v.discount), approval_amount: number(v.amount), approver_role: v.role,
    });
  }));
}
