// Deals: the pipeline board (a column per stage with its count and sum, plus won and lost;
// drag a card to move it, dropping on lost asks why and to whom) and the list with filters.

import { w, $, esc, app, get, api, showError, fmtDate, fmtMoney, userNames, userOptions, pager, exportLinks, shortcuts, word, mayEdit, stages, pipelines, lossLabel } from './common.js';
import { dealDialog, lostDialog } from './forms.js';

const perPage = 25;
const perColumn = 100;
let page = 1;
let view = new URLSearchParams(location.search).get('view') === 'list' ? 'list' : 'board';
let pipeline = new URLSearchParams(location.search).get('pipeline') || '';
let cards = new Map();

async function render() {
  app.innerHTML = `<section class="panel"><form id="filters" class="filters">
<label>${esc(w.search)}<input name="q" id="search" size="24"></label>
<label>${esc(w.owner)}<select name="owner_id" id="f-owner">${await userOptions('')}</select></label>
${await pipelineSwitch()}
<button type="submit">${esc(w.search)}</button>
<span class="spacer"></span>
<div class="toggle" role="group"><button type="button" id="show-board" aria-pressed="${view === 'board'}" title="B">${esc(w.board)}</button><button type="button" id="show-list" aria-pressed="${view === 'list'}" title="L">${esc(w.list)}</button></div>
<button type="button" id="new-deal" title="N">${esc(w.create_deal)}</button><span id="export-links"></span></form>
<p class="error" id="error" hidden></p></section>
<section id="content"></section>`;
  $('filters').addEventListener('submit', (event) => { event.preventDefault(); page = 1; load(); });
  $('show-board').addEventListener('click', () => show('board'));
  $('show-list').addEventListener('click', () => show('list'));
  $('new-deal').addEventListener('click', create);
  const switcher = $('f-pipeline');
  if (switcher) switcher.addEventListener('change', () => { pipeline = switcher.value; page = 1; show(view); });
}

/// The pipeline the board shows (several pipelines: a switcher; one: nothing to choose).
async function pipelineSwitch() {
  const list = await pipelines();
  if (!list.some((p) => p.id === pipeline)) pipeline = list.length ? list[0].id : '';
  if (list.length < 2) return '';
  return `<label>${esc(w.pipeline)}<select id="f-pipeline">${list.map((p) => `<option value="${esc(p.id)}"${p.id === pipeline ? ' selected' : ''}>${esc(p.name)}</option>`).join('')}</select></label>`;
}

function show(which) {
  view = which;
  $('show-board').setAttribute('aria-pressed', view === 'board');
  $('show-list').setAttribute('aria-pressed', view === 'list');
  history.replaceState(null, '', `?view=${view}${pipeline ? `&pipeline=${encodeURIComponent(pipeline)}` : ''}`);
  load();
}

function filters() {
  const form = $('filters');
  const p = new URLSearchParams();
  if (form.q.value.trim()) p.set('q', form.q.value.trim());
  if (form.owner_id.value) p.set('owner_id', form.owner_id.value);
  if (pipeline) p.set('pipeline_id', pipeline);
  return p;
}

function load() {
  $('export-links').innerHTML = exportLinks('deals', filters());
  return (view === 'board' ? loadBoard() : loadList()).catch(showError);
}

// One column's header: how many deals and their sum per currency (from the server's totals,
// so a column with more cards than it shows still sums them all).
function columnTotal(totals) {
  const count = totals.reduce((n, t) => n + t.deals, 0);
  // One sum per currency (the won and lost columns gather rows of every stage).
  const byCurrency = new Map();
  for (const t of totals) if (t.amount_minor) byCurrency.set(t.currency, (byCurrency.get(t.currency) || 0) + t.amount_minor);
  const sums = [...byCurrency].map(([currency, minor]) => fmtMoney(minor, currency)).join(' + ');
  return `<span class="count">${count}</span>${sums ? ` · <span class="sum">${esc(sums)}</span>` : ''}`;
}

async function loadBoard() {
  const filter = filters();
  const list = (status, stage) => {
    const q = new URLSearchParams(filter);
    q.set('status', status);
    if (stage) q.set('stage_id', stage);
    q.set('per_page', perColumn);
    return get(`/api/deals?${q}`).then((r) => r.items);
  };
  const stageList = (await stages()).filter((s) => !pipeline || s.pipeline_id === pipeline);
  const [totals, names, won, lost, ...open] = await Promise.all([get(`/api/pipeline/totals?${filter}`), userNames(), list('won'), list('lost'), ...stageList.map((s) => list('open', s.id))]);
  showError(null);
  cards = new Map([...won, ...lost, ...open.flat()].map((d) => [d.id, d]));
  const column = (key, title, deals, total, cls = '') => `<div class="column ${cls}" data-drop="${esc(key)}"><h3>${esc(title)}</h3><p class="total" data-total="${esc(key)}">${columnTotal(total)}</p>
<div class="cards">${deals.map((d) => card(d, names)).join('')}</div></div>`;
  $('content').innerHTML = `<div class="board" id="board">
${stageList.map((s, i) => column(s.id, `${s.name} · ${s.probability}%`, open[i], totals.filter((t) => t.status === 'open' && t.stage_id === s.id))).join('')}
${column('won', w.status_won, won, totals.filter((t) => t.status === 'won'), 'won')}
${column('lost', w.status_lost, lost, totals.filter((t) => t.status === 'lost'), 'lost')}
</div>`;
  bindBoard();
}

function card(d, names) {
  const movable = mayEdit(d.owner_id);
  return `<article class="deal-card" draggable="${movable}" data-id="${esc(d.id)}" tabindex="0"${movable ? ` title="${esc(w.board_move_hint)}"` : ''}>
<a href="/deals/${encodeURIComponent(d.id)}">${esc(d.title)}</a>
<div class="muted">${esc(fmtMoney(d.amount_minor, d.currency))}${d.probability !== null ? ` · ${d.probability}%` : ''}</div>
<div class="muted">${esc(names.get(d.owner_id) || '')}${d.loss_reason ? ` · ${esc(lossLabel(d.loss_reason))}` : ''}</div></article>`;
}

function bindBoard() {
  const board = $('board');
  board.addEventListener('dragstart', (event) => {
    const el = event.target.closest && event.target.closest('.deal-card');
    if (!el) return;
    event.dataTransfer.setData('text/plain', el.dataset.id);
    event.dataTransfer.effectAllowed = 'move';
    el.classList.add('dragging');
  });
  board.addEventListener('dragend', (event) => {
    const el = event.target.closest && event.target.closest('.deal-card');
    if (el) el.classList.remove('dragging');
  });
  board.addEventListener('dragover', (event) => {
    const col = event.target.closest('.column');
    if (!col) return;
    event.preventDefault();
    board.querySelectorAll('.column.over').forEach((c) => c !== col && c.classList.remove('over'));
    col.classList.add('over');
  });
  board.addEventListener('dragleave', (event) => {
    const col = event.target.closest('.column');
    if (col && !col.contains(event.relatedTarget)) col.classList.remove('over');
  });
  // The keyboard: a focused card moves one column right or left with the arrow keys (a
  // stage, then won and lost), and keeps the focus.
  board.addEventListener('keydown', async (event) => {
    const el = event.target.closest && event.target.closest('.deal-card');
    if (!el || el.getAttribute('draggable') !== 'true' || event.ctrlKey || event.metaKey || event.altKey) return;
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const columns = [...board.querySelectorAll('.column')].map((c) => c.dataset.drop);
    const at = columns.indexOf(el.closest('.column').dataset.drop);
    const to = columns[at + step];
    if (!to) return;
    event.preventDefault();
    const id = el.dataset.id;
    await moveDeal(id, to);
    const moved = [...document.querySelectorAll('.deal-card')].find((c) => c.dataset.id === id);
    if (moved) moved.focus();
  });
  board.addEventListener('drop', async (event) => {
    const col = event.target.closest('.column');
    if (!col) return;
    event.preventDefault();
    col.classList.remove('over');
    await moveDeal(event.dataTransfer.getData('text/plain'), col.dataset.drop);
  });
}

/// Moves a deal to a stage column, or closes it as won or lost (asking for the reason).
export async function moveDeal(id, target) {
  const deal = cards.get(id);
  if (!deal) return;
  const path = `/api/deals/${encodeURIComponent(id)}`;
  try {
    if (target === 'won') {
      if (deal.status === 'won') return;
      if (deal.status === 'lost') await api('POST', `${path}/reopen`);
      await api('POST', `${path}/won`);
    } else if (target === 'lost') {
      if (deal.status === 'lost') return;
      const why = await lostDialog();
      if (!why) return;
      if (deal.status === 'won') await api('POST', `${path}/reopen`);
      await api('POST', `${path}/lost`, { reason: why.reason, competitor: why.competitor || null });
    } else {
      if (deal.status === 'open' && deal.stage_id === target) return;
      if (deal.status !== 'open') await api('POST', `${path}/reopen`);
      if (deal.stage_id !== target) await api('POST', `${path}/stage`, { stage_id: target });
    }
  } catch (error) {
    showError(error);
  }
  await load();
}

async function loadList() {
  const filter = filters();
  const q = new URLSearchParams(filter);
  q.set('page', page);
  q.set('per_page', perPage);
  const [result, names, stageList] = await Promise.all([get(`/api/deals?${q}`), userNames(), stages()]);
  showError(null);
  const stageName = new Map(stageList.map((s) => [s.id, s.name]));
  $('content').innerHTML = `<div class="panel">
<table class="list" id="deals"><thead><tr><th>${esc(w.title)}</th><th>${esc(w.stage)}</th><th>${esc(w.status)}</th><th>${esc(w.amount)}</th><th>${esc(w.probability)}</th><th>${esc(w.owner)}</th><th>${esc(w.created_on)}</th></tr></thead>
<tbody>${result.items.map((d) => `<tr data-id="${esc(d.id)}"><td><a href="/deals/${encodeURIComponent(d.id)}">${esc(d.title)}</a></td><td>${esc(stageName.get(d.stage_id) || '')}</td>
<td>${esc(word('status', d.status))}</td><td class="num">${esc(fmtMoney(d.amount_minor, d.currency))}</td><td class="num">${d.probability ?? ''}</td><td>${esc(names.get(d.owner_id) || '')}</td><td>${esc(fmtDate(d.created_at))}</td></tr>`).join('') || `<tr><td colspan="7" class="muted">${esc(w.nothing_found)}</td></tr>`}</tbody></table>
<div id="pager">${pager(page, perPage, result.total)}</div></div>`;
  $('pager').addEventListener('click', (event) => { if (event.target.dataset.page) { page = Number(event.target.dataset.page); load(); } });
}

async function create() {
  const first = pipeline ? (await stages()).find((s) => s.pipeline_id === pipeline) : null;
  const deal = await dealDialog(null, first ? { stage_id: first.id } : {});
  if (deal) await load();
}

shortcuts({ n: create, b: () => show('board'), l: () => show('list'), '/': () => $('search').focus() });
window.switchboard.moveDeal = moveDeal;
render().then(load);
