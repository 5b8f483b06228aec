// Administration, voice menus: entry points (the numbers callers dial) and their call flows,
// edited as a small tree. Each node is a card, indented under the node that leads to it,
// starting from the first one; a menu lists its keys with the node each leads to, so adding
// a key and a node grows the tree in place. The server checks the flow on saving (a branch
// that leads nowhere, an unknown queue or prompt, a loop the caller cannot leave by a key) and
// names the node; the card with the problem is marked. Broken links found later (a prompt
// deleted) are shown in the list. Steps: prompts, a menu, a queue, business hours (open and
// closed branches), an agent alone first and then a queue, voicemail (a message for a queue's
// agents), a callback offer for when the queue opens, an outside number (with the step taken
// when it does not answer), hang up.

import { w, $, esc, api, get, showError, confirmDialog, fmtDateTime } from './common.js';

const TYPES = ['play', 'menu', 'queue', 'agent', 'hours', 'voicemail', 'callback', 'forward', 'hangup'];
const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '*', '#'];
const opt = (value, label, selected) => `<option value="${esc(value)}"${value === selected ? ' selected' : ''}>${esc(label)}</option>`;

/// A problem the server found, said in the page's language: "<step>: <what>". The server
/// names each as "nodes.<step>.<field>: <message>" (in English, for the API's users).
const PROBLEMS = [
  ['which is not a node', 'fp_dangling'], ['no queue', 'fp_no_queue'], ['no prompt', 'fp_no_prompt'],
  ['loops without', 'fp_loop'], ['not a key', 'fp_key'], ['nothing to play', 'fp_empty'], ['at least one key', 'fp_no_keys'],
  ['5 to 600 seconds', 'fp_max_s'], ['5 to 300 seconds', 'fp_ring_s'], ['no agent', 'fp_no_agent'], ['at most 60 seconds', 'fp_silence_s'], ['seconds', 'fp_timeout'], ['at most 9', 'fp_retries'], ['no node named', 'fp_start'], ['is the number of the queue', 'fp_queue_number'],
  ['already starts the entry point', 'fp_number_taken'], ['must not be empty', 'fp_required'], ['no schedule', 'fp_no_schedule'], ['an international number', 'fp_forward_number'],
];
export function flowProblems(message) {
  return message.split('; ').map((part) => {
    const m = part.match(/^(?:flow\.)?nodes\.([^.]+)(?:\.[^:]*)?: (.*)$/);
    const [step, text] = m ? [m[1], m[2]] : ['', part];
    const known = PROBLEMS.find(([start]) => text.includes(start));
    const said = known ? w[known[1]] : text;
    const detail = text.match(/: (.+ -> .+)$/);
    return `${step ? `${step}: ` : ''}${said}${detail ? ` (${detail[1]})` : ''}`;
  }).join('; ');
}

/// A node of each type as it starts out.
function fresh(type, other) {
  switch (type) {
    case 'play': return { type, prompts: ['builtin:greeting'], next: other };
    case 'menu': return { type, prompts: [], choices: {}, timeout_s: 5, retries: 2, invalid_prompts: ['builtin:invalid_choice'], on_fail: other };
    case 'queue': return { type, queue_id: '' };
    case 'agent': return { type, agent_id: '', ring_s: 20, queue_id: '' };
    case 'hours': return { type, schedule_id: '', open: other, closed: other };
    case 'voicemail': return { type, prompts: ['builtin:voicemail'], queue_id: '', max_s: 120, silence_s: 5 };
    case 'callback': return { type, prompts: ['builtin:callback_offer_closed'], queue_id: '' };
    case 'forward': return { type, number: '', ring_s: 30, on_fail: other };
    default: return { type: 'hangup', prompts: ['builtin:goodbye'] };
  }
}

/// The branches of a node, as [label, target] pairs.
function branches(node) {
  if (node.type === 'play') return [[w.flow_then, node.next]];
  if (node.type === 'menu') return [...Object.entries(node.choices).map(([k, to]) => [`${w.flow_key} ${k}`, to]), [w.flow_on_fail, node.on_fail]];
  if (node.type === 'hours') return [[w.flow_open, node.open], [w.flow_closed, node.closed]];
  if (node.type === 'forward') return [[w.flow_not_reached, node.on_fail]];
  return [];
}

/// Node names in tree order from the start (depth-first), with their depth; nodes nothing
/// leads to come last at depth 0.
function treeOrder(flow) {
  const out = [];
  const seen = new Set();
  const walk = (name, depth) => {
    if (seen.has(name) || !flow.nodes[name]) return;
    seen.add(name);
    out.push([name, depth]);
    for (const [, to] of branches(flow.nodes[name])) walk(to, depth + 1);
  };
  walk(flow.start, 0);
  for (const name of Object.keys(flow.nodes)) walk(name, 0);
  return out;
}

export async function flowsView(box, reload) {
  const [entries, queues, prompts, schedules, people] = await Promise.all([get('/api/entry-points'), get('/api/queues'), get('/api/prompts'), get('/api/schedules'), get('/api/users')]);
  const agents = (Array.isArray(people) ? people : people.items || []).filter((u) => u.active);
  box.innerHTML = `<div class="row"><button type="button" id="new-entry">${esc(w.new_entry_point)}</button></div>
<p class="muted">${esc(w.entry_points_hint)}</p>
<table class="list" id="entry-points"><thead><tr><th>${esc(w.name)}</th><th>${esc(w.numbers)}</th><th>${esc(w.flow_scheme)}</th><th>${esc(w.changed)}</th><th></th></tr></thead><tbody>
${entries.map((e) => `<tr data-id="${esc(e.id)}"><td>${esc(e.name)}</td><td>${esc(e.numbers.join(', '))}</td>
<td>${esc(w.flow_start)}: ${esc(e.flow.start)} · ${esc(w.flow_nodes)}: ${Object.keys(e.flow.nodes).length}${e.problems.length ? `<div class="error broken-link">${esc(w.flow_broken)}: ${esc(flowProblems(e.problems.map((p) => `${p.field}: ${p.message}`).join('; ')))}</div>` : ''}</td>
<td>${esc(fmtDateTime(e.updated_at))}</td><td><button type="button" data-edit="${esc(e.id)}">${esc(w.edit)}</button> <button type="button" data-delete="${esc(e.id)}">${esc(w.delete)}</button></td></tr>`).join('')
  || `<tr><td colspan="5" class="muted">${esc(w.no_entry_points)}</td></tr>`}</tbody></table>
<section id="flow-editor" hidden></section>`;

  const promptChoices = [
    ...prompts.built_in.map((p) => {
      const text = document.documentElement.lang === 'ru' ? p.text_ru : p.text_en;
      return [`builtin:${p.key}`, `${w.builtin_short}: ${text.length > 48 ? `${text.slice(0, 47)}…` : text}`];
    }),
    ...prompts.prompts.map((p) => [p.id, p.name]),
  ];
  const promptName = new Map(promptChoices);

  const edit = (entry) => {
    const state = entry ? JSON.parse(JSON.stringify(entry)) : {
      name: '', numbers: [], language: document.documentElement.lang === 'ru' ? 'ru' : 'en', answer: 'answer',
      flow: { start: w.flow_default_menu, nodes: { [w.flow_default_menu]: fresh('menu', w.flow_default_queue), [w.flow_default_queue]: fresh('queue') } },
    };
    delete state.problems;
    const editor = $('flow-editor');
    editor.hidden = false;
    let problemNode = null;

    const promptList = (name, field, list) => `<div class="prompt-list">${list.map((p, i) => `<span class="chip">${esc(promptName.get(p) || p)}
<button type="button" class="link" data-remove-prompt="${esc(name)}|${field}|${i}" title="${esc(w.delete)}">×</button></span>`).join('')}
<select data-add-prompt="${esc(name)}|${field}"><option value="">+ ${esc(w.flow_add_prompt)}</option>${promptChoices.map(([v, l]) => opt(v, l)).join('')}</select></div>`;
    const nodeSelect = (name, field, value) => `<select data-target="${esc(name)}|${field}">${Object.keys(state.flow.nodes).map((n) => opt(n, n, value)).join('')}
<option value="+">+ ${esc(w.flow_new_node)}</option></select>`;

    const card = (name, depth) => {
      const n = state.flow.nodes[name];
      let body = '';
      if (n.type === 'play' || n.type === 'hangup' || n.type === 'voicemail' || n.type === 'callback') body += `<label>${esc(w.flow_prompts)}</label>${promptList(name, 'prompts', n.prompts)}`;
      if (n.type === 'hours') {
        body += `<label>${esc(w.schedule)} <select data-schedule="${esc(name)}"><option value="">—</option>${schedules.map((s) => opt(s.id, s.name, n.schedule_id)).join('')}</select></label>
<label>${esc(w.flow_open)} ${nodeSelect(name, 'open', n.open)}</label><label>${esc(w.flow_closed)} ${nodeSelect(name, 'closed', n.closed)}</label>`;
      }
      if (n.type === 'voicemail') {
        body += `<label>${esc(w.flow_voicemail_queue)} <select data-queue="${esc(name)}"><option value="">—</option>${queues.map((q) => opt(q.id, q.name, n.queue_id)).join('')}</select></label>
<div class="row"><label>${esc(w.flow_max_s)}<input type="number" min="5" max="600" data-number="${esc(name)}|max_s" value="${n.max_s}"></label>
<label>${esc(w.flow_silence_s)}<input type="number" min="0" max="60" data-number="${esc(name)}|silence_s" value="${n.silence_s}"></label></div>`;
      }
      if (n.type === 'play') body += `<label>${esc(w.flow_then)} ${nodeSelect(name, 'next', n.next)}</label>`;
      if (n.type === 'menu') {
        body += `<label>${esc(w.flow_prompts)}</label>${promptList(name, 'prompts', n.prompts)}
<table class="keys">${Object.entries(n.choices).map(([k, to]) => `<tr><td>${esc(w.flow_key)} <b>${esc(k)}</b></td><td>→ ${nodeSelect(name, `choices.${k}`, to)}</td>
<td><button type="button" class="link" data-remove-key="${esc(name)}|${esc(k)}">×</button></td></tr>`).join('')}</table>
<div class="row"><select data-add-key="${esc(name)}"><option value="">+ ${esc(w.flow_add_key)}</option>${KEYS.filter((k) => !(k in n.choices)).map((k) => opt(k, k)).join('')}</select></div>
<div class="row"><label>${esc(w.flow_timeout)}<input type="number" min="1" max="60" data-number="${esc(name)}|timeout_s" value="${n.timeout_s}"></label>
<label>${esc(w.flow_retries)}<input type="number" min="0" max="9" data-number="${esc(name)}|retries" value="${n.retries}"></label></div>
<label>${esc(w.flow_invalid)}</label>${promptList(name, 'invalid_prompts', n.invalid_prompts)}
<label>${esc(w.flow_on_fail)} ${nodeSelect(name, 'on_fail', n.on_fail)}</label>`;
      }
      if (n.type === 'agent') {
        body += `<label>${esc(w.flow_agent)} <select data-agent="${esc(name)}"><option value="">—</option>${agents.map((u) => opt(u.id, u.name, n.agent_id)).join('')}</select></label>
<label>${esc(w.flow_ring_s)}<input type="number" min="5" max="300" data-number="${esc(name)}|ring_s" value="${n.ring_s}"></label>
<label>${esc(w.flow_then_queue)} <select data-queue="${esc(name)}"><option value="">—</option>${queues.map((q) => opt(q.id, q.name, n.queue_id)).join('')}</select></label>`;
      }
      if (n.type === 'callback') body += `<label>${esc(w.flow_callback_queue)} <select data-queue="${esc(name)}"><option value="">—</option>${queues.map((q) => opt(q.id, q.name, n.queue_id)).join('')}</select></label>`;
      if (n.type === 'forward') {
        body += `<label>${esc(w.flow_forward_number)}<input data-text="${esc(name)}|number" value="${esc(n.number)}" placeholder="+7 495 123-45-67"></label>
<label>${esc(w.flow_forward_ring_s)}<input type="number" min="5" max="300" data-number="${esc(name)}|ring_s" value="${n.ring_s}"></label>
<label>${esc(w.flow_not_reached)} ${nodeSelect(name, 'on_fail', n.on_fail)}</label>`;
      }
      if (n.type === 'queue') body += `<label>${esc(w.queue)} <select data-queue="${esc(name)}"><option value="">—</option>${queues.map((q) => opt(q.id, q.name, n.queue_id)).join('')}</select></label>`;
      return `<div class="flow-node${name === problemNode ? ' problem' : ''}" style="margin-left:${depth * 28}px" data-node="${esc(name)}" id="node-${esc(name)}">
<div class="row"><input class="node-name" data-rename="${esc(name)}" value="${esc(name)}" maxlength="64" title="${esc(w.flow_step_name)}">${name === state.flow.start ? ` <span class="badge">${esc(w.flow_start)}</span>` : ''}
<select data-type="${esc(name)}">${TYPES.map((t) => opt(t, w[`flow_type_${t}`] || t, n.type)).join('')}</select>
${name === state.flow.start ? '' : `<button type="button" class="link" data-make-start="${esc(name)}">${esc(w.flow_make_start)}</button> <button type="button" class="link" data-remove-node="${esc(name)}">${esc(w.delete)}</button>`}</div>${body}</div>`;
    };

    const draw = () => {
      editor.innerHTML = `<h3>${esc(entry ? `${w.edit}: ${entry.name}` : w.new_entry_point)}</h3>
<div class="row"><label>${esc(w.name)}<input id="ep-name" value="${esc(state.name)}" required></label>
<label>${esc(w.numbers)}<input id="ep-numbers" value="${esc(state.numbers.join(', '))}" placeholder="200, 74951234567"></label>
<label>${esc(w.language)}<select id="ep-language">${opt('ru', w.lang_ru, state.language)}${opt('en', w.lang_en, state.language)}</select></label>
<label>${esc(w.flow_answer)}<select id="ep-answer">${opt('answer', w.flow_answer_answer, state.answer)}${opt('early', w.flow_answer_early, state.answer)}</select></label></div>
<div id="flow-tree">${treeOrder(state.flow).map(([n, d]) => card(n, d)).join('')}</div>
<p class="error" id="flow-error" hidden></p>
<div class="row"><button type="button" id="save-flow">${esc(w.save)}</button><button type="button" id="cancel-flow">${esc(w.cancel)}</button></div>`;
      if (problemNode) $(`node-${problemNode}`)?.scrollIntoView({ block: 'center' });
    };

    /// A new node, named after what leads to it, of the type the admin picks later.
    const addNode = () => {
      let i = Object.keys(state.flow.nodes).length + 1;
      while (state.flow.nodes[`${w.flow_step} ${i}`]) i += 1;
      const name = `${w.flow_step} ${i}`;
      state.flow.nodes[name] = fresh('queue');
      return name;
    };
    const setTarget = (name, field, value) => {
      const node = state.flow.nodes[name];
      if (field.startsWith('choices.')) node.choices[field.slice(8)] = value;
      else node[field] = value;
    };

    editor.onchange = (event) => {
      const t = event.target;
      const d = t.dataset;
      if (d.rename) {
        const to = t.value.trim();
        if (!to || state.flow.nodes[to]) { t.value = d.rename; return; }
        // The new name everywhere the old one was: the node, the start, every branch.
        const renamed = {};
        for (const [n, node] of Object.entries(state.flow.nodes)) {
          const copy = JSON.parse(JSON.stringify(node));
          if (copy.next === d.rename) copy.next = to;
          if (copy.on_fail === d.rename) copy.on_fail = to;
          if (copy.open === d.rename) copy.open = to;
          if (copy.closed === d.rename) copy.closed = to;
          for (const k of Object.keys(copy.choices || {})) if (copy.choices[k] === d.rename) copy.choices[k] = to;
          renamed[n === d.rename ? to : n] = copy;
        }
        state.flow.nodes = renamed;
        if (state.flow.start === d.rename) state.flow.start = to;
      } else if (d.type) {
        const old = state.flow.nodes[d.type];
        const other = branches(old)[0]?.[1] || Object.keys(state.flow.nodes).find((n) => n !== d.type) || d.type;
        state.flow.nodes[d.type] = fresh(t.value, other);
      } else if (d.target) {
        const [name, field] = d.target.split('|');
        setTarget(name, field, t.value === '+' ? addNode() : t.value);
      } else if (d.addPrompt && t.value) {
        const [name, field] = d.addPrompt.split('|');
        state.flow.nodes[name][field].push(t.value);
      } else if (d.addKey && t.value) {
        state.flow.nodes[d.addKey].choices[t.value] = addNode();
      } else if (d.queue) {
        state.flow.nodes[d.queue].queue_id = t.value;
      } else if (d.agent) {
        state.flow.nodes[d.agent].agent_id = t.value;
      } else if (d.schedule) {
        state.flow.nodes[d.schedule].schedule_id = t.value;
      } else if (d.number) {
        const [name, field] = d.number.split('|');
        state.flow.nodes[name][field] = Number(t.value);
        return;
      } else if (d.text) {
        const [name, field] = d.text.split('|');
        state.flow.nodes[name][field] = t.value.trim();
        return;
      } else if (t.id === 'ep-name') { state.name = t.value; return; } else if (t.id === 'ep-numbers') {
        state.numbers = t.value.split(',').map((n) => n.trim()).filter(Boolean);
        return;
      } else if (t.id === 'ep-language') { state.language = t.value; return; } else if (t.id === 'ep-answer') { state.answer = t.value; return; } else return;
      draw();
    };
    editor.onclick = async (event) => {
      const d = event.target.dataset;
      if (d.removePrompt) {
        const [name, field, i] = d.removePrompt.split('|');
        state.flow.nodes[name][field].splice(Number(i), 1);
      } else if (d.removeKey) {
        const [name, key] = d.removeKey.split('|');
        delete state.flow.nodes[name].choices[key];
      } else if (d.removeNode) {
        delete state.flow.nodes[d.removeNode];
      } else if (d.makeStart) {
        state.flow.start = d.makeStart;
      } else if (event.target.id === 'cancel-flow') {
        editor.hidden = true;
        return;
      } else if (event.target.id === 'save-flow') {
        const body = { name: $('ep-name').value, numbers: $('ep-numbers').value.split(',').map((n) => n.trim()).filter(Boolean), language: state.language, answer: state.answer, flow: state.flow };
        try {
          if (entry) await api('PUT', `/api/entry-points/${entry.id}`, body);
          else await api('POST', '/api/entry-points', body);
          await reload();
        } catch (error) {
          // "flow.nodes.<name>.<field>": mark that node's card.
          const field = (error.body && error.body.field) || '';
          problemNode = field.startsWith('flow.nodes.') ? field.slice(11).split('.')[0] : null;
          draw();
          const message = (error.body && error.body.message) || error.message;
          showError(error.status === 422 ? flowProblems(message) : error.message, 'flow-error');
        }
        return;
      } else return;
      draw();
    };
    draw();
    editor.scrollIntoView({ block: 'start' });
  };

  $('new-entry').addEventListener('click', () => edit(null));
  box.querySelector('#entry-points').addEventListener('click', async (event) => {
    const e = entries.find((x) => x.id === (event.target.dataset.edit || event.target.dataset.delete));
    if (!e) return;
    if (event.target.dataset.edit) edit(e);
    else if (await confirmDialog(`${w.delete}: ${e.name}?`, w.delete)) {
      try { await api('DELETE', `/api/entry-points/${e.id}`); await reload(); } catch (error) { showError(error); }
    }
  });
}
