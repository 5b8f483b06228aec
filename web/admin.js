// Administration (admins): users and roles, teams and their supervisors, queues with their
// members and strategy, agents' SIP phones and the trunks' live registration state, pipeline
// stages, custom fields, dispositions and recording retention. Every change goes through the
// API, which audit-logs it; the audit log page shows them.

import { w, $, esc, app, api, get, showError, dialog, confirmDialog, word, say, fmtDateTime, stages, pipelines, dispositionLabel, lossLabel, keyOf } from './common.js';
import { productsView } from './products.js';
import { documentsAdminView } from './documents.js';
import { promptsView } from './prompts.js';
import { flowsView } from './flows.js';
import { schedulesView } from './schedules.js';

const ROLES = ['operator', 'supervisor', 'manager', 'admin'];
const STRATEGIES = ['longest_idle', 'skills', 'ring_all', 'round_robin'];
const FIELD_TYPES = ['text', 'number', 'date', 'choice'];
const REQUIRABLE = ['amount', 'contact_id', 'company_id', 'owner_id', 'items'];
const SECTIONS = ['users', 'teams', 'queues', 'flows', 'schedules', 'prompts', 'telephony', 'stages', 'products', 'documents', 'fields', 'forms', 'webhooks', 'settings'];
let section = new URLSearchParams(location.search).get('section') || 'users';
let refresh = null;

const options = (values, selected, label = (v) => v) => values.map((v) => `<option value="${esc(v)}"${v === selected ? ' selected' : ''}>${esc(label(v))}</option>`).join('');
const idOptions = (items, selected, blank = true) => (blank ? '<option value="">—</option>' : '') + items.map((i) => `<option value="${esc(i.id)}"${i.id === selected ? ' selected' : ''}>${esc(i.name)}</option>`).join('');
const checked = (on) => (on ? ' checked' : '');
const seconds = (ms) => Math.round(ms / 1000);
/// Skills as typed: "english:3, 1c" (a level 1-5 after the colon, 1 when left out).
const skillsText = (skills) => Object.entries(skills || {}).map(([k, l]) => `${k}:${l}`).join(', ');
function parseSkills(text) {
  const out = {};
  for (const part of (text || '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const [name, level] = part.split(':').map((x) => x.trim());
    out[name] = level === undefined || level === '' ? 1 : Number(level);
  }
  return out;
}

/// Opens a dialog whose submit runs `save(values)`; an API error stays in the dialog.
async function edit(title, html, save) {
  const done = await dialog(title, html, { check: async (values, form) => { await save(values, form); return null; } });
  if (done) await show(section);
}

/// What an administrator must act on now (recordings failing, the disk nearly full, the
/// database away), from the telephony status; checked again every 15 s.
async function showAlerts() {
  const box = $('alerts');
  if (!box) return;
  let alerts = [];
  try { alerts = (await get('/api/telephony/status')).alerts || []; } catch { alerts = []; }
  const mb = (bytes) => `${Math.floor(bytes / 1048576).toLocaleString(document.documentElement.lang)} ${w.megabytes}`;
  const line = (a) => {
    const facts = {
      recording_failed: [[w.alert_failed_count, a.count], [w.alert_last_failure, fmtDateTime(a.since)]],
      recordings_disk_low: [[w.alert_free, mb(a.count)]],
      database_unavailable: [[w.alert_waiting_writes, a.count], [w.alert_since, fmtDateTime(a.since)]],
    }[a.kind] || [];
    return `<li data-kind="${esc(a.kind)}"><strong>${esc(word('alert', a.kind))}</strong>
${facts.map(([k, v]) => `<span class="fact">${esc(k)}: ${esc(v)}</span>`).join(' ')}${a.error ? ` <code>${esc(a.error)}</code>` : ''}</li>`;
  };
  box.innerHTML = alerts.length ? `<ul>${alerts.map(line).join('')}</ul>` : '';
  box.hidden = !alerts.length;
}

function render() {
  app.innerHTML = `<div class="alerts" id="alerts" role="alert" hidden></div><nav class="tabs" id="admin-tabs">${SECTIONS.map((s) => `<button type="button" data-section="${s}" id="tab-${s}">${esc(word('adm', s))}</button>`).join('')}
<a href="/audit" class="tab-link">${esc(w.audit_log)}</a></nav>
<p class="error" id="error" hidden></p><section class="panel" id="admin-body"></section>`;
  $('admin-tabs').addEventListener('click', (event) => { if (event.target.dataset.section) show(event.target.dataset.section); });
  show(SECTIONS.includes(section) ? section : 'users');
  showAlerts();
  setInterval(showAlerts, 15000);
}

async function show(name) {
  section = name;
  clearInterval(refresh);
  history.replaceState(null, '', `/admin?section=${name}`);
  for (const b of document.querySelectorAll('#admin-tabs button')) b.classList.toggle('active', b.dataset.section === name);
  try {
    showError(null);
    await VIEWS[name]($('admin-body'));
  } catch (error) {
    showError(error);
  }
}

async function usersView(box) {
  const [list, teams] = await Promise.all([get('/api/users'), get('/api/teams')]);
  const teamName = new Map(teams.map((t) => [t.id, t.name]));
  box.innerHTML = `<div class="row"><button type="button" id="new-user">${esc(w.new_user)}</button></div>
<table class="list" id="users"><thead><tr><th>${esc(w.user_full_name)}</th><th>${esc(w.login)}</th><th>${esc(w.role)}</th><th>${esc(w.team)}</th><th>${esc(w.active)}</th><th></th></tr></thead><tbody>
${list.map((u) => `<tr data-id="${esc(u.id)}" class="${u.active ? '' : 'muted'}"><td>${esc(u.name)}</td><td>${esc(u.login)}</td><td>${esc(word('role', u.role))}</td><td>${esc(teamName.get(u.team_id) || '')}</td>
<td>${u.active ? '✓' : '✗'}</td><td><button type="button" data-edit="${esc(u.id)}">${esc(w.edit)}</button> <button type="button" data-sip="${esc(u.id)}">${esc(w.sip_phone)}</button></td></tr>`).join('')}</tbody></table>`;
  const userForm = (u = {}) => `${u.id ? '' : `<label>${esc(w.login)}<input name="login" required maxlength="64" autocomplete="off"></label>`}
<label>${esc(w.user_full_name)}<input name="name" required value="${esc(u.name || '')}"></label>
<label>${esc(w.role)}<select name="role">${options(ROLES, u.role || 'operator', (r) => word('role', r))}</select></label>
<label>${esc(w.team)}<select name="team_id">${idOptions(teams, u.team_id)}</select></label>
${u.id ? `<label class="check"><input type="checkbox" name="active"${checked(u.active)}> ${esc(w.active)}</label>` : ''}
<label>${esc(u.id ? w.new_password : w.password)}<input type="password" name="password" minlength="8" autocomplete="new-password" placeholder="${esc(u.id ? w.unchanged : w.generated_if_empty)}"></label>
${u.id ? `<label>${esc(w.skills)}<input name="skills" value="${esc(skillsText(u.skills))}" placeholder="english:3, 1c:2"></label><p class="muted">${esc(w.skills_hint)}</p>` : ''}`;
  $('new-user').addEventListener('click', () => edit(w.new_user, userForm(), async (v) => {
    const created = await api('POST', '/api/users', { login: v.login, name: v.name, role: v.role, team_id: v.team_id || null, password: v.password || null });
    if (created.password) await dialog(w.generated_password, `<p>${esc(created.user.login)}: <code id="generated-password">${esc(created.password)}</code></p><p class="muted">${esc(w.shown_once)}</p>`, { submit: w.close });
  }));
  box.querySelector('#users').addEventListener('click', async (event) => {
    const u = list.find((x) => x.id === (event.target.dataset.edit || event.target.dataset.sip));
    if (!u) return;
    if (event.target.dataset.edit) {
      edit(`${w.edit}: ${u.login}`, userForm(u), (v) => api('PATCH', `/api/users/${u.id}`, { name: v.name, role: v.role, team_id: v.team_id || null, active: v.active === 'on', skills: parseSkills(v.skills), ...(v.password ? { password: v.password } : {}) }));
    } else {
      const sip = await get(`/api/users/${u.id}/sip`);
      edit(`${w.sip_phone}: ${u.name}`, `<p class="muted">${esc(w.sip_hint)}</p>
<label>${esc(w.extension)}<input name="extension" value="${esc(sip.extension || '')}" autocomplete="off"></label>
<label>${esc(w.password)}<input type="password" name="password" minlength="8" autocomplete="new-password" placeholder="${esc(sip.extension ? w.unchanged : '')}"></label>
<label>${esc(w.sip_uri)}<input name="uri" value="${esc(sip.uri || '')}" placeholder="sip:101@192.0.2.10:5060"></label>`, (v) => api('PUT', `/api/users/${u.id}/sip`, { extension: v.extension || null, password: v.password || null, uri: v.uri || null }));
    }
  });
}

async function teamsView(box) {
  const [list, users] = await Promise.all([get('/api/teams'), get('/api/users')]);
  const names = new Map(users.map((u) => [u.id, u.name]));
  const supervisors = users.filter((u) => u.active && u.role !== 'operator');
  box.innerHTML = `<div class="row"><button type="button" id="new-team">${esc(w.new_team)}</button></div>
<table class="list" id="teams"><thead><tr><th>${esc(w.name)}</th><th>${esc(w.supervisor)}</th><th>${esc(w.members)}</th><th></th></tr></thead><tbody>
${list.map((t) => `<tr><td>${esc(t.name)}</td><td>${esc(names.get(t.supervisor_id) || '')}</td><td>${users.filter((u) => u.team_id === t.id).map((u) => esc(u.name)).join(', ')}</td>
<td><button type="button" data-edit="${esc(t.id)}">${esc(w.edit)}</button></td></tr>`).join('')}</tbody></table>`;
  const form = (t = {}) => `<label>${esc(w.name)}<input name="name" required value="${esc(t.name || '')}"></label>
<label>${esc(w.supervisor)}<select name="supervisor_id">${idOptions(supervisors, t.supervisor_id)}</select></label>`;
  $('new-team').addEventListener('click', () => edit(w.new_team, form(), (v) => api('POST', '/api/teams', { name: v.name, supervisor_id: v.supervisor_id || null })));
  box.querySelector('#teams').addEventListener('click', (event) => {
    const t = list.find((x) => x.id === event.target.dataset.edit);
    if (t) edit(`${w.edit}: ${t.name}`, form(t), (v) => api('PATCH', `/api/teams/${t.id}`, { name: v.name, supervisor_id: v.supervisor_id || null }));
  });
}

async function queuesView(box) {
  const [list, users, prompts, schedules] = await Promise.all([get('/api/queues'), get('/api/users'), get('/api/prompts'), get('/api/schedules')]);
  const names = new Map(users.map((u) => [u.id, u.name]));
  const sounds = [['', w.sound_default], ['ringback', w.sound_ringback], ['music', w.sound_music], ...prompts.prompts.map((p) => [p.id, p.name])];
  const soundOptions = (selected) => sounds.map(([v, l]) => `<option value="${esc(v)}"${v === (selected || '') ? ' selected' : ''}>${esc(l)}</option>`).join('');
  const agents = users.filter((u) => u.active);
  box.innerHTML = `<div class="row"><button type="button" id="new-queue">${esc(w.new_queue)}</button></div>
<table class="list" id="queues"><thead><tr><th>${esc(w.name)}</th><th>${esc(w.number)}</th><th>${esc(w.strategy)}</th><th>${esc(w.members)}</th><th>${esc(w.recorded)}</th><th></th></tr></thead><tbody>
${list.map((q) => `<tr><td>${esc(q.name)}</td><td>${esc(q.number || '')}</td><td>${esc(word('strategy', q.strategy))}</td><td>${q.members.map((m) => esc(names.get(m) || m)).join(', ')}</td>
<td>${q.record ? '✓' : '✗'}</td><td><button type="button" data-edit="${esc(q.id)}">${esc(w.edit)}</button></td></tr>`).join('')}</tbody></table>`;
  const form = (q = { strategy: 'longest_idle', ring_timeout_ms: 20000, max_wait_ms: 300000, wrap_up_ms: 10000, record: true, sl_answer_ms: 20000, sl_target_pct: 80, members: [] }) => `
<label>${esc(w.name)}<input name="name" required value="${esc(q.name || '')}"></label>
<label>${esc(w.number)}<input name="number" value="${esc(q.number || '')}"></label>
<label>${esc(w.strategy)}<select name="strategy">${options(STRATEGIES, q.strategy, (s) => word('strategy', s))}</select></label>
<div class="row"><label>${esc(w.ring_timeout_s)}<input type="number" name="ring" min="1" value="${seconds(q.ring_timeout_ms)}"></label>
<label>${esc(w.max_wait_s)}<input type="number" name="wait" min="1" value="${seconds(q.max_wait_ms)}"></label>
<label>${esc(w.wrap_up_s)}<input type="number" name="wrap" min="0" value="${seconds(q.wrap_up_ms)}"></label></div>
<div class="row"><label>${esc(w.sl_answer_s)}<input type="number" name="sl" min="1" value="${seconds(q.sl_answer_ms)}"></label>
<label>${esc(w.sl_target)}<input type="number" name="slpct" min="1" max="100" value="${q.sl_target_pct}"></label>
<label class="check"><input type="checkbox" name="record"${checked(q.record)}> ${esc(w.recorded)}</label></div>
<div class="row"><label>${esc(w.waiting_sound)}<select name="waiting_sound">${soundOptions(q.waiting_sound)}</select></label>
<label>${esc(w.announce_every)}<input type="number" name="announce" min="0" max="600" value="${q.announce_every_s || 0}"></label>
<label>${esc(w.owner_first)}<input type="number" name="owner_first" min="0" max="600" value="${q.owner_first_s || 0}"></label>
<label>${esc(w.vip_field)}<input name="vip_field" value="${esc(q.vip_field || '')}" placeholder="vip" pattern="[a-z0-9_]*"></label>
<label>${esc(w.language)}<select name="language">${['ru', 'en'].map((l) => `<option value="${l}"${l === (q.language || 'ru') ? ' selected' : ''}>${esc(w[`lang_${l}`])}</option>`).join('')}</select></label></div>
<div class="row"><label>${esc(w.schedule)}<select name="schedule_id"><option value="">${esc(w.always_open)}</option>${schedules.map((s) => `<option value="${esc(s.id)}"${s.id === q.schedule_id ? ' selected' : ''}>${esc(s.name)}</option>`).join('')}</select></label>
<label>${esc(w.after_hours)}<select name="after_hours">${options(['voicemail', 'callback', 'hangup'], q.after_hours || 'voicemail', (v) => w[`after_hours_${v}`])}</select></label></div>
<label>${esc(w.queue_skills)}<input name="skills" value="${esc(skillsText(q.skills))}" placeholder="english:3"></label>
<fieldset><legend>${esc(w.queue_callback)}</legend><div class="row">
<label>${esc(w.callback_after)}<input type="number" name="cb_after" min="0" max="3600" value="${q.callback_after_s || 0}"></label>
<label>${esc(w.callback_over_wait)}<input type="number" name="cb_over" min="0" max="3600" value="${q.callback_over_wait_s || 0}"></label>
<label>${esc(w.callback_attempts)}<input type="number" name="cb_attempts" min="1" max="10" value="${q.callback_attempts || 3}"></label>
<label>${esc(w.callback_retry)}<input type="number" name="cb_retry" min="10" max="86400" value="${q.callback_retry_s || 300}"></label></div>
<p class="muted">${esc(w.queue_callback_hint)}</p></fieldset>
<fieldset class="members"><legend>${esc(w.members)}</legend>${agents.map((u) => `<label class="check"><input type="checkbox" name="m-${esc(u.id)}"${checked(q.members.includes(u.id))}> ${esc(u.name)}</label>`).join('')}</fieldset>`;
  const body = (v) => ({
    name: v.name, number: v.number || null, strategy: v.strategy, ring_timeout_ms: Number(v.ring) * 1000, max_wait_ms: Number(v.wait) * 1000, wrap_up_ms: Number(v.wrap) * 1000,
    sl_answer_ms: Number(v.sl) * 1000, sl_target_pct: Number(v.slpct), record: v.record === 'on', members: agents.filter((u) => v[`m-${u.id}`] === 'on').map((u) => u.id),
    waiting_sound: v.waiting_sound || null, announce_every_s: Number(v.announce), language: v.language,
    owner_first_s: Number(v.owner_first), vip_field: v.vip_field || null, schedule_id: v.schedule_id || null, after_hours: v.after_hours,
    callback_after_s: Number(v.cb_after), callback_over_wait_s: Number(v.cb_over), callback_attempts: Number(v.cb_attempts), callback_retry_s: Number(v.cb_retry), skills: parseSkills(v.skills),
  });
  $('new-queue').addEventListener('click', () => edit(w.new_queue, form(), (v) => api('POST', '/api/queues', body(v))));
  box.querySelector('#queues').addEventListener('click', (event) => {
    const q = list.find((x) => x.id === event.target.dataset.edit);
    if (q) edit(`${w.edit}: ${q.name}`, form(q), (v) => api('PATCH', `/api/queues/${q.id}`, body(v)));
  });
}

async function telephonyView(box) {
  const draw = async () => {
    let status;
    try {
      status = await get('/api/telephony/status');
    } catch (error) {
      box.innerHTML = `<p class="muted" id="telephony-off">${esc(w.telephony_off)}: ${esc(error.message)}</p>`;
      return;
    }
    box.innerHTML = `<h3>${esc(w.trunks)}</h3><p class="muted">${esc(w.trunks_hint)} · SIP ${esc(status.sip_listen)} · ${esc(w.active_calls)}: ${status.active_calls}</p>
<table class="list" id="trunks"><thead><tr><th>${esc(w.name)}</th><th>${esc(w.registrar)}</th><th>${esc(w.reg_state)}</th><th>${esc(w.last_code)}</th><th>${esc(w.registered_at)}</th></tr></thead><tbody>
${status.registrations.map((r) => `<tr data-state="${esc(r.state)}"><td>${esc(r.name)}</td><td>${esc(r.registrar)}</td><td class="reg-${esc(r.state)}">${esc(word('reg', r.state))}${r.last_error ? ` <span class="muted">${esc(r.last_error)}</span>` : ''}</td>
<td>${esc(r.last_code || '')}</td><td>${esc(fmtDateTime(r.registered_at))}</td></tr>`).join('') || `<tr><td colspan="5" class="muted">${esc(w.no_trunks)}</td></tr>`}</tbody></table>
<h3>${esc(w.registered_phones)}</h3>
<table class="list" id="extensions"><thead><tr><th>${esc(w.extension)}</th><th>${esc(w.contact_uri)}</th><th>${esc(w.expires_in)}</th></tr></thead><tbody>
${status.extensions.map((e) => `<tr><td>${esc(e.extension)}</td><td>${esc(e.contact)}</td><td>${e.expires_in_s} s</td></tr>`).join('') || `<tr><td colspan="3" class="muted">${esc(w.nothing_found)}</td></tr>`}</tbody></table>`;
  };
  await draw();
  refresh = setInterval(draw, 5000);
}

async function stagesView(box) {
  const [all, pipelineList, rules, dealFields, users] = await Promise.all([stages(), pipelines(), get('/api/stage-rules'), get('/api/custom-fields?entity=deal'), get('/api/users')]);
  const params = new URLSearchParams(location.search);
  const current = pipelineList.find((p) => p.id === params.get('pipeline')) || pipelineList[0];
  const list = all.filter((s) => s.pipeline_id === current.id);
  const userName = new Map(users.map((u) => [u.id, u.name]));
  const requirable = [...REQUIRABLE.map((k) => [k, word('req', k)]), ...dealFields.map((f) => [f.key, f.label])];
  const fieldLabel = new Map(requirable);
  const whom = (r) => (r.assignee === 'user' ? userName.get(r.assignee_user_id) || '—' : r.assignee === 'role' ? word('role', r.assignee_role) : w.rule_owner);
  const due = (r) => (r.due_field ? `${esc(w.rule_due_on)} «${esc(fieldLabel.get(r.due_field) || r.due_field)}»` : r.due_hours !== null ? esc(say('rule_due_hours', { count: r.due_hours })) : '');
  const ruleLine = (r) => `<li data-rule="${esc(r.id)}">${esc(r.action === 'task' ? word('kind', r.task_kind) : w.rule_notify)}: «${esc(r.subject)}» → ${esc(whom(r))}${due(r) ? ` · ${due(r)}` : ''} <button type="button" data-delete-rule="${esc(r.id)}" aria-label="${esc(w.delete)}">✕</button></li>`;
  box.innerHTML = `<div class="row"><label>${esc(w.pipeline)}<select id="pipeline-pick">${pipelineList.map((p) => `<option value="${esc(p.id)}"${p.id === current.id ? ' selected' : ''}>${esc(p.name)}</option>`).join('')}</select></label>
<button type="button" id="new-pipeline">${esc(w.new_pipeline)}</button><button type="button" id="rename-pipeline">${esc(w.rename)}</button>${pipelineList.length > 1 ? `<button type="button" id="delete-pipeline">${esc(w.delete)}</button>` : ''}
<span class="spacer"></span><button type="button" id="new-stage">${esc(w.new_stage)}</button></div>
<p class="muted">${esc(w.stage_rules_hint)}</p>
<table class="list" id="stages"><thead><tr><th>#</th><th>${esc(w.name)}</th><th>${esc(w.probability)}</th><th>${esc(w.required_fields)}</th><th>${esc(w.stage_rules)}</th><th></th></tr></thead><tbody>
${list.map((s) => `<tr><td>${s.position}</td><td>${esc(s.name)}</td><td>${s.probability}%</td><td>${esc(s.required_fields.map((f) => fieldLabel.get(f) || f).join(', '))}</td>
<td><ul class="rules">${rules.filter((r) => r.stage_id === s.id).map(ruleLine).join('')}</ul><button type="button" data-rule-for="${esc(s.id)}">${esc(w.add_rule)}</button></td>
<td><button type="button" data-edit="${esc(s.id)}">${esc(w.edit)}</button> <button type="button" data-delete="${esc(s.id)}">${esc(w.delete)}</button></td></tr>`).join('')}</tbody></table>`;
  const form = (s = { probability: 10, position: list.length + 1, required_fields: [] }) => `<label>${esc(w.name)}<input name="name" required value="${esc(s.name || '')}"></label>
<label>#<input type="number" name="position" min="1" value="${s.position}"></label>
<label>${esc(w.probability)}<input type="number" name="probability" min="0" max="100" value="${s.probability}"></label>
<fieldset><legend>${esc(w.required_fields)}</legend>${requirable.map(([k, label]) => `<label class="check"><input type="checkbox" name="req_${esc(k)}"${checked(s.required_fields.includes(k))}> ${esc(label)}</label>`).join('')}</fieldset>`;
  const body = (v) => ({ name: v.name, position: Number(v.position), probability: Number(v.probability), required_fields: requirable.map(([k]) => k).filter((k) => v[`req_${k}`] === 'on') });
  const reload = async () => { history.replaceState(null, '', `/admin?section=stages&pipeline=${encodeURIComponent($('pipeline-pick').value)}`); await show('stages'); };
  $('pipeline-pick').addEventListener('change', reload);
  $('new-pipeline').addEventListener('click', async () => {
    let made = null;
    if (await dialog(w.new_pipeline, `<label>${esc(w.name)}<input name="name" required></label>`, { check: async (v) => { made = await api('POST', '/api/pipelines', { name: v.name }); return null; } })) {
      await api('POST', '/api/pipeline/stages', { pipeline_id: made.id, name: w.stage_new, position: 1, probability: 10 }).catch(showError);
      $('pipeline-pick').insertAdjacentHTML('beforeend', `<option value="${esc(made.id)}" selected></option>`);
      $('pipeline-pick').value = made.id;
      await reload();
    }
  });
  $('rename-pipeline').addEventListener('click', () => edit(`${w.rename}: ${current.name}`, `<label>${esc(w.name)}<input name="name" required value="${esc(current.name)}"></label>`, (v) => api('PATCH', `/api/pipelines/${current.id}`, { name: v.name })));
  if ($('delete-pipeline')) {
    $('delete-pipeline').addEventListener('click', async () => {
      if (!(await confirmDialog(`${w.delete}: ${current.name}?`, w.delete))) return;
      try { await api('DELETE', `/api/pipelines/${current.id}`); history.replaceState(null, '', '/admin?section=stages'); await show('stages'); } catch (error) { showError(error); }
    });
  }
  $('new-stage').addEventListener('click', () => edit(w.new_stage, form(), (v) => api('POST', '/api/pipeline/stages', { ...body(v), pipeline_id: current.id })));
  const ruleForm = `<label>${esc(w.rule_action)}<select name="action"><option value="task">${esc(w.rule_task)}</option><option value="notify">${esc(w.rule_notify)}</option></select></label>
<label>${esc(w.rule_subject)}<input name="subject" required maxlength="300"></label>
<label>${esc(w.kind)}<select name="task_kind">${options(['call', 'meeting', 'email', 'todo'], 'todo', (k) => word('kind', k))}</select></label>
<label>${esc(w.rule_whom)}<select name="assignee"><option value="owner">${esc(w.rule_owner)}</option><option value="user">${esc(w.rule_user)}</option><option value="role">${esc(w.rule_role)}</option></select></label>
<label>${esc(w.rule_user)}<select name="assignee_user_id">${idOptions(users.filter((u) => u.active), null)}</select></label>
<label>${esc(w.rule_role)}<select name="assignee_role">${options(ROLES, 'manager', (r) => word('role', r))}</select></label>
<label>${esc(w.rule_due_in_hours)}<input type="number" name="due_hours" min="0" max="8760"></label>
<label>${esc(w.rule_due_on)}<select name="due_field"><option value="">—</option>${dealFields.filter((f) => f.field_type === 'date').map((f) => `<option value="${esc(f.key)}">${esc(f.label)}</option>`).join('')}</select></label>`;
  box.querySelector('#stages').addEventListener('click', async (event) => {
    const { ruleFor, deleteRule } = event.target.dataset;
    if (ruleFor) {
      edit(w.add_rule, ruleForm, (v) => api('POST', `/api/pipeline/stages/${ruleFor}/rules`, {
        action: v.action, subject: v.subject, task_kind: v.task_kind, assignee: v.assignee,
        assignee_user_id: v.assignee === 'user' ? v.assignee_user_id || null : null,
        assignee_role: v.assignee === 'role' ? v.assignee_role : null,
        due_hours: v.due_hours === '' ? null : Number(v.due_hours), due_field: v.due_field || null,
      }));
      return;
    }
    if (deleteRule) {
      try { await api('DELETE', `/api/stage-rules/${deleteRule}`); await show('stages'); } catch (error) { showError(error); }
      return;
    }
    const s = list.find((x) => x.id === (event.target.dataset.edit || event.target.dataset.delete));
    if (!s) return;
    // The name goes only when it was changed: a stage the system named keeps saying itself in
    // each reader's language until then.
    const changes = (v) => { const b = body(v); if (b.name === s.name) delete b.name; return b; };
    if (event.target.dataset.edit) edit(`${w.edit}: ${s.name}`, form(s), (v) => api('PATCH', `/api/pipeline/stages/${s.id}`, changes(v)));
    else if (await confirmDialog(`${w.delete}: ${s.name}?`, w.delete)) {
      try { await api('DELETE', `/api/pipeline/stages/${s.id}`); await show('stages'); } catch (error) { showError(error); }
    }
  });
}

async function fieldsView(box) {
  const list = await get('/api/custom-fields');
  box.innerHTML = `<div class="row"><button type="button" id="new-field">${esc(w.new_field)}</button></div>
<table class="list" id="fields"><thead><tr><th>${esc(w.record_kind)}</th><th>${esc(w.key)}</th><th>${esc(w.label)}</th><th>${esc(w.field_type)}</th><th>${esc(w.choices)}</th><th>${esc(w.required)}</th><th></th></tr></thead><tbody>
${list.map((f) => `<tr><td>${esc(word('entity', f.entity))}</td><td><code>${esc(f.key)}</code></td><td>${esc(f.label)}</td><td>${esc(word('ftype', f.field_type))}</td><td>${esc((f.choices || []).join(', '))}</td>
<td>${f.required ? '✓' : ''}</td><td><button type="button" data-edit="${esc(f.id)}">${esc(w.edit)}</button> <button type="button" data-delete="${esc(f.id)}">${esc(w.delete)}</button></td></tr>`).join('')}</tbody></table>`;
  $('new-field').addEventListener('click', () => edit(w.new_field, `<label>${esc(w.record_kind)}<select name="entity">${options(['contact', 'company', 'deal'], 'contact', (e) => word('entity', e))}</select></label>
<label>${esc(w.key)}<input name="key" required pattern="[a-z0-9_]+" placeholder="tier"></label>
<label>${esc(w.label)}<input name="label" required></label>
<label>${esc(w.field_type)}<select name="field_type">${options(FIELD_TYPES, 'text', (t) => word('ftype', t))}</select></label>
<label>${esc(w.choices)}<input name="choices" placeholder="gold, silver"></label>
<label class="check"><input type="checkbox" name="required"> ${esc(w.required)}</label>`, (v) => api('POST', '/api/custom-fields', {
    entity: v.entity, key: v.key, label: v.label, field_type: v.field_type, required: v.required === 'on', choices: v.choices ? v.choices.split(',').map((c) => c.trim()).filter(Boolean) : [],
  })));
  box.querySelector('#fields').addEventListener('click', async (event) => {
    const edited = list.find((x) => x.id === event.target.dataset.edit);
    if (edited) {
      edit(`${w.edit}: ${edited.key}`, `<label>${esc(w.label)}<input name="label" required value="${esc(edited.label)}"></label>
${edited.field_type === 'choice' ? `<label>${esc(w.choices)}<input name="choices" value="${esc(edited.choices.join(', '))}"></label>` : ''}
<label class="check"><input type="checkbox" name="required"${checked(edited.required)}> ${esc(w.required)}</label>`, (v) => api('PATCH', `/api/custom-fields/${edited.id}`, {
        label: v.label, required: v.required === 'on', ...(edited.field_type === 'choice' ? { choices: v.choices.split(',').map((c) => c.trim()).filter(Boolean) } : {}),
      }));
      return;
    }
    const f = list.find((x) => x.id === event.target.dataset.delete);
    if (f && await confirmDialog(`${w.delete}: ${f.label}?`, w.delete)) {
      try { await api('DELETE', `/api/custom-fields/${f.id}`); await show('fields'); } catch (error) { showError(error); }
    }
  });
}

/// Web forms that send leads: each has a secret address a website's form posts to, the minutes
/// to call a lead back in, the team whose members take leads in turn, and the sites allowed.
async function formsView(box) {
  const [list, teams] = await Promise.all([get('/api/lead-forms'), get('/api/teams')]);
  const teamName = new Map(teams.map((t) => [t.id, t.name]));
  box.innerHTML = `<div class="row"><button type="button" id="new-form">${esc(w.new_lead_form)}</button></div>
<p class="muted">${esc(w.lead_forms_hint)}</p>
<table class="list" id="lead-forms"><thead><tr><th>${esc(w.name)}</th><th>${esc(w.callback_within)}</th><th>${esc(w.team)}</th><th>${esc(w.allowed_sites)}</th><th>${esc(w.leads_taken)}</th><th>${esc(w.spam_refused)}</th><th></th></tr></thead><tbody>
${list.map((f) => `<tr data-id="${esc(f.id)}"${f.active ? '' : ' class="muted"'}><td>${esc(f.name)}</td><td>${f.callback_minutes}</td><td>${esc(teamName.get(f.team_id) || '')}</td><td>${esc(f.allowed_origins.join(', '))}</td><td>${f.leads}</td><td>${f.spam}</td>
<td><button type="button" data-edit="${esc(f.id)}">${esc(w.edit)}</button> <button type="button" data-snippet="${esc(f.id)}">${esc(w.form_snippet)}</button></td></tr>`).join('')}</tbody></table>
<div id="snippet-box" hidden><label>${esc(w.form_snippet_hint)}<textarea id="snippet" rows="12" readonly></textarea></label></div>`;
  const form = (f = { callback_minutes: 15, allowed_origins: [], active: true }) => `<label>${esc(w.name)}<input name="name" required maxlength="100" value="${esc(f.name || '')}"></label>
<label>${esc(w.callback_within)}<input type="number" name="callback_minutes" min="1" max="1440" value="${f.callback_minutes}"></label>
<label>${esc(w.team)}<select name="team_id">${idOptions(teams, f.team_id)}</select></label>
<label>${esc(w.allowed_sites)}<textarea name="allowed_origins" rows="3" placeholder="https://example.ru">${esc(f.allowed_origins.join('\n'))}</textarea></label>
<label><input type="checkbox" name="active"${checked(f.active)}> ${esc(w.active)}</label>`;
  const body = (v) => ({ name: v.name, callback_minutes: Number(v.callback_minutes), team_id: v.team_id || null, allowed_origins: v.allowed_origins.split('\n').map((o) => o.trim()).filter(Boolean), active: v.active === 'on' });
  $('new-form').addEventListener('click', () => edit(w.new_lead_form, form(), (v) => api('POST', '/api/lead-forms', body(v))));
  box.querySelector('#lead-forms').addEventListener('click', async (event) => {
    const f = list.find((x) => x.id === (event.target.dataset.edit || event.target.dataset.snippet));
    if (!f) return;
    if (event.target.dataset.edit) {
      edit(`${w.edit}: ${f.name}`, form(f), (v) => api('PATCH', `/api/lead-forms/${f.id}`, body(v)));
    } else {
      const response = await fetch(`/api/lead-forms/${encodeURIComponent(f.id)}/snippet`);
      $('snippet').value = await response.text();
      $('snippet-box').hidden = false;
    }
  });
}

/// Webhooks: a URL subscribed to events, the key its deliveries are signed with, and the
/// delivery log with each attempt's answer and a button to send one again.
/// An event in the page's words (`lead.created` is "New lead"); the code is what receivers see.
const eventLabel = (e) => (e === '*' ? w.event_all : word('event', e.replace('.', '_')));

async function webhooksView(box) {
  const [list, events] = await Promise.all([get('/api/webhooks'), get('/api/webhooks/events')]);
  box.innerHTML = `<div class="row"><button type="button" id="new-webhook">${esc(w.new_webhook)}</button></div>
<p class="muted">${esc(w.webhooks_hint)}</p>
<table class="list" id="webhooks"><thead><tr><th>${esc(w.webhook_url)}</th><th>${esc(w.webhook_events)}</th><th>${esc(w.webhook_secret)}</th><th></th></tr></thead><tbody>
${list.map((h) => `<tr data-id="${esc(h.id)}"${h.active ? '' : ' class="muted"'}><td>${esc(h.url)}</td><td data-events="${esc(h.events.join(' '))}">${h.events.map((e) => esc(eventLabel(e))).join(', ')}</td><td><code>${esc(h.secret)}</code></td>
<td><button type="button" data-edit="${esc(h.id)}">${esc(w.edit)}</button> <button type="button" data-log="${esc(h.id)}">${esc(w.webhook_log)}</button></td></tr>`).join('')}</tbody></table>
<div id="delivery-log"></div>`;
  const form = (h = { url: '', events: [], active: true }) => `<label>${esc(w.webhook_url)}<input name="url" type="url" required value="${esc(h.url)}" placeholder="https://"></label>
<fieldset><legend>${esc(w.webhook_events)}</legend>${events.map((e) => `<label><input type="checkbox" name="ev:${esc(e)}"${checked(h.events.includes(e) || h.events.includes('*'))}> ${esc(eventLabel(e))}</label>`).join(' ')}</fieldset>
<label><input type="checkbox" name="active"${checked(h.active)}> ${esc(w.active)}</label>`;
  const body = (v) => ({ url: v.url.trim(), events: events.filter((e) => v[`ev:${e}`] === 'on'), active: v.active === 'on' });
  $('new-webhook').addEventListener('click', () => edit(w.new_webhook, form(), (v) => api('POST', '/api/webhooks', body(v))));
  const showLog = async (id) => {
    const page = await get(`/api/webhooks/${encodeURIComponent(id)}/deliveries?per_page=50`);
    $('delivery-log').innerHTML = `<h3>${esc(w.webhook_log)}</h3><table class="list" id="deliveries"><thead><tr><th>${esc(w.when)}</th><th>${esc(w.webhook_event)}</th><th>${esc(w.status)}</th><th>${esc(w.webhook_attempts)}</th><th>${esc(w.webhook_answer)}</th><th></th></tr></thead><tbody>
${page.items.map((d) => `<tr data-id="${esc(d.id)}" data-status="${esc(d.status)}"><td>${esc(fmtDateTime(d.created_at))}</td><td data-event="${esc(d.event)}">${esc(eventLabel(d.event))}</td><td>${esc(word('delivery', d.status))}</td><td>${d.attempts}</td><td>${esc(d.last_status ?? '')} ${esc(d.last_error || '')}</td>
<td><button type="button" data-redeliver="${esc(d.id)}">${esc(w.webhook_redeliver)}</button></td></tr>`).join('')}</tbody></table>`;
    $('deliveries').addEventListener('click', async (event) => {
      const delivery = event.target.dataset.redeliver;
      if (!delivery) return;
      try { await api('POST', `/api/webhook-deliveries/${encodeURIComponent(delivery)}/redeliver`); await showLog(id); } catch (error) { showError(error); }
    });
  };
  box.querySelector('#webhooks').addEventListener('click', (event) => {
    const h = list.find((x) => x.id === (event.target.dataset.edit || event.target.dataset.log));
    if (!h) return;
    if (event.target.dataset.edit) edit(`${w.edit}: ${h.url}`, form(h), (v) => api('PATCH', `/api/webhooks/${h.id}`, body(v)));
    else showLog(h.id);
  });
}

async function settingsView(box) {
  const s = await get('/api/settings');
  box.innerHTML = `<form id="settings-form" class="dialog-form">
<label>${esc(w.dispositions)} <span class="muted">(${esc(word('source', s.source.dispositions))})</span><textarea name="dispositions" id="dispositions" rows="6">${esc(s.dispositions.map(dispositionLabel).join('\n'))}</textarea></label>
<p class="muted">${esc(w.dispositions_hint)}</p>
<label>${esc(w.loss_reasons)} <span class="muted">(${esc(word('source', s.source.loss_reasons))})</span><textarea name="loss_reasons" id="loss-reasons" rows="5">${esc(s.loss_reasons.map(lossLabel).join('\n'))}</textarea></label>
<p class="muted">${esc(w.loss_reasons_hint)}</p>
<label>${esc(w.retention_days)} <span class="muted">(${esc(word('source', s.source.retention_days))})</span><input type="number" name="retention_days" id="retention-days" min="0" max="36500" value="${s.retention_days}"></label>
<p class="muted">${esc(w.retention_hint)}</p>
<div class="row"><button type="submit" id="save-settings">${esc(w.save)}</button> <span id="settings-saved" class="muted" hidden>${esc(w.saved)}</span></div></form>`;
  $('settings-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.target;
    try {
      const list = (text, prefix) => text.split('\n').map((d) => d.trim()).filter(Boolean).map((label) => keyOf(prefix, label));
      await api('PATCH', '/api/settings', { dispositions: list(form.dispositions.value, 'disp'), loss_reasons: list(form.loss_reasons.value, 'why_lost'), retention_days: Number(form.retention_days.value) });
      await show('settings');
      $('settings-saved').hidden = false;
    } catch (error) {
      $('settings-saved').hidden = true;
      showError(error);
    }
  });
}

const VIEWS = { users: usersView, teams: teamsView, queues: queuesView, flows: (box) => flowsView(box, () => show('flows')), schedules: (box) => schedulesView(box, () => show('schedules')), prompts: (box) => promptsView(box, () => show('prompts')), telephony: telephonyView, stages: stagesView, products: (box) => productsView(box, () => show('products')), documents: (box) => documentsAdminView(box, () => show('documents')), fields: fieldsView, forms: formsView, webhooks: webhooksView, settings: settingsView };

render();
