// A deal's products: the lines (from the catalogue or typed), their discount and VAT, and what
// they come to. The deal's amount follows them unless a user typed it.

import { w, $, esc, get, api, showError, fmtMoney, fmtPercent, fmtQuantity, dialog } from './common.js';

/// Draws the lines of `deal` into `box`; `changed()` runs after any change (to redraw the card).
export async function itemsPanel(box, deal, editable, changed) {
  const path = `/api/deals/${encodeURIComponent(deal.id)}/items`;
  const data = await get(path);
  const money = (minor) => fmtMoney(minor, data.currency);
  const t = data.totals;
  box.innerHTML = `<div class="row"><h2>${esc(w.products)}</h2><span class="spacer"></span>
${editable ? `<button type="button" id="add-item">${esc(w.add_item)}</button>` : ''}</div>
<table class="list" id="items"><thead><tr><th>${esc(w.item_name)}</th><th class="num">${esc(w.quantity)}</th><th>${esc(w.unit)}</th><th class="num">${esc(w.price)}</th><th class="num">${esc(w.discount)}</th><th class="num">${esc(w.vat_rate)}</th><th class="num">${esc(w.sum)}</th><th></th></tr></thead><tbody>
${data.items.map((i) => `<tr data-id="${esc(i.id)}"><td>${esc(i.name)}${i.sku ? ` <span class="muted">${esc(i.sku)}</span>` : ''}</td><td class="num">${esc(fmtQuantity(i.quantity_milli))}</td><td>${esc(i.unit)}</td>
<td class="num">${esc(money(i.price_minor))}</td><td class="num">${i.discount ? esc(fmtPercent(i.discount)) : ''}</td><td class="num">${i.vat_rate === null ? esc(w.no_vat) : esc(fmtPercent(i.vat_rate))}</td><td class="num">${esc(money(i.amount_minor))}</td>
<td>${editable ? `<button type="button" data-edit="${esc(i.id)}">${esc(w.edit)}</button> <button type="button" data-remove="${esc(i.id)}" aria-label="${esc(w.delete)}">✕</button>` : ''}</td></tr>`).join('') || `<tr><td colspan="8" class="muted">${esc(w.no_items)}</td></tr>`}</tbody>
${data.items.length ? `<tfoot>
${t.discount_minor ? `<tr><th colspan="6">${esc(w.discount_total)}</th><td class="num" id="items-discount">${esc(money(t.discount_minor))}</td><td></td></tr>` : ''}
${t.vat_by_rate.map((v) => `<tr><th colspan="6">${esc(t.prices_include_vat ? w.vat_included : w.vat_on_top)} ${esc(fmtPercent(v.rate))}</th><td class="num">${esc(money(v.vat_minor))}</td><td></td></tr>`).join('')}
<tr><th colspan="6">${esc(w.items_total)}</th><td class="num" id="items-total"><strong>${esc(money(t.total_minor))}</strong></td><td></td></tr></tfoot>` : ''}</table>
${deal.amount_manual && data.items.length && deal.amount_minor !== t.total_minor ? `<p class="muted" id="amount-typed">${esc(w.amount_typed)}${editable ? ` <button type="button" id="amount-follow">${esc(w.amount_follow_items)}</button>` : ''}</p>` : ''}`;
  if (!editable) return;
  const follow = $('amount-follow');
  if (follow) follow.addEventListener('click', async () => { try { await api('PATCH', `/api/deals/${encodeURIComponent(deal.id)}`, { amount_follows_items: true }); await changed(); } catch (error) { showError(error); } });
  const settings = await get('/api/sales/settings');
  const rates = (selected) => `<option value=""${selected === null ? ' selected' : ''}>${esc(w.no_vat)}</option>${settings.vat_rates.map((r) => `<option value="${r / 100}"${r === selected ? ' selected' : ''}>${esc(fmtPercent(r))}</option>`).join('')}`;
  const number = (text) => Number(String(text).replace(/\s/g, '').replace(',', '.'));
  const lineForm = (i) => `<div class="grid2">
${i ? `<label>${esc(w.item_name)}<input name="name" required value="${esc(i.name)}"></label>` : `<label>${esc(w.product)}<input name="product" id="item-product" list="product-list" autocomplete="off" placeholder="${esc(w.product_hint)}"></label><datalist id="product-list"></datalist>`}
<label>${esc(w.quantity)}<input name="quantity" inputmode="decimal" required value="${i ? fmtQuantity(i.quantity_milli) : 1}"></label>
${i ? '' : `<label>${esc(w.unit)}<input name="unit" placeholder="${esc(w.unit_hint)}"></label>`}
<label>${esc(w.price)}<input name="price" inputmode="decimal" placeholder="${esc(w.price_from_product)}" value="${i ? i.price_minor / 100 : ''}"></label>
<label>${esc(w.discount)}, %<input name="discount" inputmode="decimal" value="${i ? i.discount / 100 : 0}"></label>
<label>${esc(w.vat_rate)}<select name="vat_rate">${i ? rates(i.vat_rate) : `<option value="product">${esc(w.vat_from_product)}</option>${rates(undefined)}`}</select></label></div>`;
  const body = (v) => {
    const out = { quantity: number(v.quantity), discount: number(v.discount || 0) };
    if (v.price !== '') out.price = number(v.price);
    if (v.vat_rate !== 'product') out.vat_rate = v.vat_rate === '' ? null : Number(v.vat_rate);
    if (v.name !== undefined) out.name = v.name;
    return out;
  };
  // Every product the search showed, by its label: the typed text picks one when it matches.
  const catalogue = new Map();
  $('add-item').addEventListener('click', async () => {
    const pending = dialog(w.add_item, lineForm(null), {
      check: async (v) => {
        const b = body(v);
        const typed = (v.product || '').trim();
        const product = catalogue.get(typed);
        if (product) b.product_id = product;
        else {
          b.name = typed;
          if (v.unit.trim()) b.unit = v.unit.trim();
        }
        await api('POST', path, b);
        return null;
      },
    });
    const input = document.getElementById('item-product');
    input.addEventListener('input', async () => {
      const q = input.value.trim();
      const found = await get(`/api/products?q=${encodeURIComponent(q)}`).catch(() => []);
      const labels = found.map((p) => [`${p.name}${p.sku ? ` (${p.sku})` : ''}`, p.id]);
      for (const [label, productId] of labels) catalogue.set(label, productId);
      document.getElementById('product-list').innerHTML = labels.map(([label]) => `<option value="${esc(label)}"></option>`).join('');
    });
    input.dispatchEvent(new Event('input'));
    if (await pending) await changed();
  });
  box.querySelector('#items').addEventListener('click', async (event) => {
    const { edit, remove } = event.target.dataset;
    try {
      if (remove) {
        await api('DELETE', `${path}/${encodeURIComponent(remove)}`);
        await changed();
      } else if (edit) {
        const item = data.items.find((i) => i.id === edit);
        if (await dialog(`${w.edit}: ${item.name}`, lineForm(item), { check: async (v) => { await api('PATCH', `${path}/${encodeURIComponent(edit)}`, body(v)); return null; } })) await changed();
      }
    } catch (error) {
      showError(error);
    }
  });
}
