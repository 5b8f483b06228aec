// Administration's product catalogue (managers and admins keep it through the API; this page
// is the admin's) and the sales settings: VAT rates, whether prices include VAT, currency.

import { w, $, esc, get, api, showError, dialog, fmtMoney, fmtPercent } from './common.js';

export async function productsView(box, reload) {
  const [list, settings] = await Promise.all([get('/api/products?all=true'), get('/api/sales/settings')]);
  const number = (text) => Number(String(text).replace(/\s/g, '').replace(',', '.'));
  box.innerHTML = `<div class="row"><button type="button" id="new-product">${esc(w.new_product)}</button><span class="spacer"></span><button type="button" id="sales-settings">${esc(w.sales_settings)}</button></div>
<p class="muted" id="vat-summary">${esc(settings.prices_include_vat ? w.prices_include_vat : w.prices_exclude_vat)} · ${esc(w.vat_rates)}: ${esc(settings.vat_rates.map(fmtPercent).join(', '))} · ${esc(settings.currency)}</p>
<table class="list" id="products"><thead><tr><th>${esc(w.item_name)}</th><th>${esc(w.sku)}</th><th>${esc(w.unit)}</th><th class="num">${esc(w.price)}</th><th class="num">${esc(w.vat_rate)}</th><th>${esc(w.active)}</th><th></th></tr></thead><tbody>
${list.map((p) => `<tr class="${p.active ? '' : 'muted'}"><td>${esc(p.name)}</td><td>${esc(p.sku || '')}</td><td>${esc(p.unit)}</td><td class="num">${esc(fmtMoney(p.price_minor, p.currency))}</td>
<td class="num">${p.vat_rate === null ? esc(w.no_vat) : esc(fmtPercent(p.vat_rate))}</td><td>${p.active ? '✓' : '✗'}</td><td><button type="button" data-edit="${esc(p.id)}">${esc(w.edit)}</button></td></tr>`).join('') || `<tr><td colspan="7" class="muted">${esc(w.nothing_found)}</td></tr>`}</tbody></table>`;
  const rates = (selected) => `<option value=""${selected === null ? ' selected' : ''}>${esc(w.no_vat)}</option>${settings.vat_rates.map((r) => `<option value="${r / 100}"${r === selected ? ' selected' : ''}>${esc(fmtPercent(r))}</option>`).join('')}`;
  const form = (p = { name: '', sku: '', unit: '', price_minor: 0, currency: settings.currency, vat_rate: settings.default_vat_rate, active: true }) => `<div class="grid2">
<label>${esc(w.item_name)}<input name="name" required maxlength="300" value="${esc(p.name)}"></label>
<label>${esc(w.sku)}<input name="sku" value="${esc(p.sku || '')}"></label>
<label>${esc(w.unit)}<input name="unit" required maxlength="20" placeholder="${esc(w.unit_hint)}" value="${esc(p.unit)}"></label>
<label>${esc(w.price)}<input name="price" inputmode="decimal" required value="${p.price_minor / 100}"></label>
<label>${esc(w.currency)}<input name="currency" maxlength="3" value="${esc(p.currency)}"></label>
<label>${esc(w.vat_rate)}<select name="vat_rate">${rates(p.vat_rate)}</select></label>
${p.id ? `<label class="check"><input type="checkbox" name="active"${p.active ? ' checked' : ''}> ${esc(w.active)}</label>` : ''}</div>`;
  const body = (v) => ({ name: v.name, sku: v.sku.trim() || null, unit: v.unit, price: number(v.price), currency: v.currency.trim().toUpperCase(), vat_rate: v.vat_rate === '' ? null : Number(v.vat_rate) });
  const save = async (title, html, send) => { if (await dialog(title, html, { check: async (v) => { await send(v); return null; } })) await reload(); };
  $('new-product').addEventListener('click', () => save(w.new_product, form(), (v) => api('POST', '/api/products', body(v))));
  box.querySelector('#products').addEventListener('click', (event) => {
    const p = list.find((x) => x.id === event.target.dataset.edit);
    if (p) save(`${w.edit}: ${p.name}`, form(p), (v) => api('PATCH', `/api/products/${p.id}`, { ...body(v), active: v.active === 'on' }));
  });
  $('sales-settings').addEventListener('click', () => save(w.sales_settings, `<label class="check"><input type="checkbox" name="include"${settings.prices_include_vat ? ' checked' : ''}> ${esc(w.prices_include_vat)}</label>
<label>${esc(w.vat_rates)}<input name="rates" value="${esc(settings.vat_rates.map((r) => r / 100).join('; '))}" placeholder="22; 10; 0"></label>
<label>${esc(w.default_vat_rate)}<select name="default">${rates(settings.default_vat_rate)}</select></label>
<label>${esc(w.currency)}<input name="currency" maxlength="3" value="${esc(settings.currency)}"></label>`, (v) => api('PUT', '/api/sales/settings', {
    prices_include_vat: v.include === 'on',
    vat_rates: v.rates.split(';').map((r) => r.trim()).filter(Boolean).map(number),
    default_vat_rate: v.default === '' ? null : Number(v.default),
    currency: v.currency.trim().toUpperCase(),
  })).catch(showError));
}
