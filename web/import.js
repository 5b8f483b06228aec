// Import and export (managers and admins). Import: upload a CSV or XLSX, check the column
// mapping guessed from the headers (English or Russian), preview the first rows against it,
// run with a progress bar, then read or download the row report. Export: any list as CSV or
// XLSX (the lists link here with their filters too).

import { w, $, esc, app, api, get, showError, users, word, countOf, ApiError } from './common.js';

let upload = null; // the server's answer to the upload: id, headers, guessed mapping, targets
let polling = null;

function targetLabel(target) {
  return target.label ? `${w.custom_field}: ${target.label}` : word('target', target.key);
}

async function render() {
  const owners = (await users()).filter((u) => u.active !== false).map((u) => `<option value="${esc(u.login)}">${esc(u.name)} (${esc(u.login)})</option>`).join('');
  app.innerHTML = `<section class="panel" id="import-panel"><h2>${esc(w.import_contacts)}</h2>
<p class="muted">${esc(w.import_hint)}</p>
<form id="upload-form" class="filters"><label>${esc(w.file)}<input type="file" id="import-file" accept=".csv,.txt,.tsv,.xlsx,.xls,.ods" required></label>
<button type="submit" id="upload">${esc(w.upload)}</button></form>
<p class="error" id="error" hidden></p>
<div id="mapping-step" hidden>
<h3 id="file-title"></h3>
<div class="filters" id="csv-format" hidden><span>${esc(w.read_as)}:</span>
<label>${esc(w.encoding)}<select id="csv-encoding">${['UTF-8', 'windows-1251', 'KOI8-R', 'IBM866', 'UTF-16LE'].map((e) => `<option value="${e}">${e}</option>`).join('')}</select></label>
<label>${esc(w.separator)}<select id="csv-separator"><option value=";">;</option><option value=",">,</option><option value="tab">${esc(w.separator_tab)}</option></select></label>
<span class="muted">${esc(w.format_hint)}</span></div>
<table class="list" id="mapping"><thead><tr><th>${esc(w.column)}</th><th>${esc(w.sample)}</th><th>${esc(w.imports_as)}</th></tr></thead><tbody></tbody></table>
<div class="filters"><label>${esc(w.on_duplicate)}<select id="on-duplicate"><option value="merge">${esc(w.dup_merge)}</option><option value="skip">${esc(w.dup_skip)}</option><option value="create">${esc(w.dup_create)}</option></select></label>
<label>${esc(w.default_owner)}<select id="default-owner"><option value="">—</option>${owners}</select></label>
<button type="button" id="preview-button">${esc(w.preview)}</button> <button type="button" id="run-button" class="primary">${esc(w.run_import)}</button></div>
<p id="preview-counts"></p>
<table class="list" id="preview"><thead></thead><tbody></tbody></table>
</div>
<div id="run-step" hidden>
<progress id="import-progress" value="0" max="1"></progress> <span id="progress-text"></span>
<p id="import-summary"></p>
<p><a id="report-link" hidden>${esc(w.download_report)}</a></p>
<table class="list" id="import-report" hidden><thead><tr><th>${esc(w.line)}</th><th>${esc(w.result)}</th><th>${esc(w.column)}</th><th>${esc(w.reason)}</th><th></th></tr></thead><tbody></tbody></table>
</div></section>
<section class="panel" id="export-panel"><h2>${esc(w.export)}</h2>
<p class="muted">${esc(w.export_hint)}</p>
<ul class="export-list">${['contacts', 'companies', 'deals'].map((list) => `<li>${esc(w[list])}: <a id="export-${list}-csv" href="/api/export/${list}?format=csv" download>CSV</a> · <a id="export-${list}-xlsx" href="/api/export/${list}?format=xlsx" download>XLSX</a></li>`).join('')}</ul>
</section>`;
  $('upload-form').addEventListener('submit', (event) => { event.preventDefault(); send(); });
  // Read the same file again as the user says (the detection guessed wrong).
  for (const id of ['csv-encoding', 'csv-separator']) $(id).addEventListener('change', () => send({ encoding: $('csv-encoding').value, separator: $('csv-separator').value }));
  $('preview-button').addEventListener('click', preview);
  $('run-button').addEventListener('click', run);
}

async function send(format) {
  const file = $('import-file').files[0];
  if (!file) return;
  clearInterval(polling);
  $('run-step').hidden = true;
  $('mapping-step').hidden = true;
  try {
    const query = new URLSearchParams({ name: file.name, ...(format || {}) });
    const response = await fetch(`/api/imports?${query}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: file });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new ApiError(response.status, body);
    upload = body;
    showError(null);
  } catch (error) {
    showError(error);
    return;
  }
  $('file-title').textContent = `${upload.name}: ${countOf(upload.rows, 'rows')}`;
  $('csv-format').hidden = !upload.csv;
  if (upload.csv) {
    $('csv-encoding').value = upload.csv.encoding;
    $('csv-separator').value = upload.csv.separator;
  }
  const options = upload.targets.map((t) => `<option value="${esc(t.key)}">${esc(targetLabel(t))}</option>`).join('');
  $('mapping').tBodies[0].innerHTML = upload.headers.map((header, i) => `<tr><td>${esc(header)}</td><td class="muted" data-column="${i}"></td>
<td><select data-column="${i}" class="target">${options}</select></td></tr>`).join('');
  for (const select of document.querySelectorAll('select.target')) select.value = upload.mapping[Number(select.dataset.column)];
  $('mapping-step').hidden = false;
  await preview();
}

const mapping = () => [...document.querySelectorAll('select.target')].map((s) => s.value);

async function preview() {
  try {
    const result = await api('POST', `/api/imports/${upload.id}/preview`, { mapping: mapping() });
    showError(null);
    $('preview-counts').textContent = `${w.ready_rows}: ${result.ok} · ${w.rejected_rows}: ${result.rejected}${result.ignored.length ? ` · ${w.ignored_columns}: ${result.ignored.join(', ')}` : ''}`;
    $('preview').tHead.innerHTML = `<tr><th>${esc(w.line)}</th>${upload.headers.map((h) => `<th>${esc(h)}</th>`).join('')}<th>${esc(w.check)}</th></tr>`;
    $('preview').tBodies[0].innerHTML = result.rows.map((r) => `<tr class="${r.error ? 'rejected' : ''}"><td>${r.line}</td>${upload.headers.map((_, i) => `<td>${esc(r.cells[i] || '')}</td>`).join('')}
<td>${r.error ? `<span class="error-text">${esc(r.error)}</span>` : '✓'}</td></tr>`).join('');
    for (const cell of document.querySelectorAll('#mapping td[data-column]')) {
      const i = Number(cell.dataset.column);
      cell.textContent = result.rows.slice(0, 2).map((r) => r.cells[i]).filter(Boolean).join(' · ');
    }
  } catch (error) {
    showError(error);
  }
}

async function run() {
  $('run-button').disabled = true;
  try {
    await api('POST', `/api/imports/${upload.id}/run`, { mapping: mapping(), on_duplicate: $('on-duplicate').value, default_owner: $('default-owner').value || null });
    showError(null);
  } catch (error) {
    $('run-button').disabled = false;
    showError(error);
    return;
  }
  $('run-step').hidden = false;
  $('import-report').hidden = true;
  $('report-link').hidden = true;
  $('import-summary').textContent = '';
  polling = setInterval(poll, 400);
  poll();
}

async function poll() {
  let status;
  try {
    status = await get(`/api/imports/${upload.id}`);
  } catch (error) {
    clearInterval(polling);
    showError(error);
    return;
  }
  const bar = $('import-progress');
  bar.max = Math.max(status.rows, 1);
  bar.value = status.processed;
  $('progress-text').textContent = `${status.processed} / ${status.rows}`;
  if (status.status === 'failed') {
    clearInterval(polling);
    showError(status.error);
    $('run-button').disabled = false;
  }
  if (status.status !== 'done') return;
  clearInterval(polling);
  $('import-summary').textContent = [
    [w.imp_created, status.created], [w.imp_merged, status.merged], [w.imp_unchanged, status.unchanged],
    [w.imp_skipped, status.skipped], [w.imp_rejected, status.rejected], [w.imp_blank, status.blank],
  ].map(([label, n]) => `${label}: ${n}`).join(' · ');
  $('import-summary').dataset.rejected = status.rejected;
  const link = $('report-link');
  link.href = `/api/imports/${upload.id}/report`;
  link.hidden = false;
  const table = $('import-report');
  table.tBodies[0].innerHTML = status.report.map((r) => `<tr class="report-${r.result}"><td>${r.line}</td><td>${esc(word('imp', r.result))}</td><td>${esc(r.field)}</td><td>${esc(r.reason)}</td>
<td>${r.contact_id ? `<a href="/contacts/${encodeURIComponent(r.contact_id)}">${esc(w.open)}</a>` : ''}</td></tr>`).join('')
    || `<tr><td colspan="5" class="muted">${esc(w.report_empty)}</td></tr>`;
  table.hidden = false;
}

render();
