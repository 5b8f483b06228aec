// My account: change one's own password. The API ends every session of the user when the
// password changes, so the page signs in again with the new one and stays.

import { w, $, esc, app, get } from './common.js';

const profile = await get('/api/me');

app.innerHTML = `<section class="panel narrow"><h2>${esc(w.change_password)}</h2>
<p id="account-who">${esc(profile.name)} · ${esc(profile.login)}</p>
<form id="password-form" class="stack">
<input type="text" name="username" autocomplete="username" hidden>
<label>${esc(w.current_password)}<input type="password" id="current-password" autocomplete="current-password" required></label>
<label>${esc(w.new_password)}<input type="password" id="new-password" autocomplete="new-password" minlength="8" required></label>
<label>${esc(w.repeat_password)}<input type="password" id="repeat-password" autocomplete="new-password" minlength="8" required></label>
<p class="muted">${esc(w.password_rules)}</p>
<button type="submit" id="change-password">${esc(w.change_password)}</button>
<p class="error" id="error" hidden></p>
<p id="password-changed" hidden>${esc(w.password_changed)}</p>
</form></section>`;

const say = (id, text) => {
  $('error').hidden = id !== 'error';
  $('password-changed').hidden = id !== 'password-changed';
  if (text) $(id).textContent = text;
};

$('password-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  say(null);
  const current = $('current-password').value;
  const next = $('new-password').value;
  if (next !== $('repeat-password').value) return say('error', w.passwords_differ);
  if ([...next].length < 8) return say('error', w.password_too_short);
  const response = await fetch('/api/me/password', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ current_password: current, new_password: next }),
  });
  if (response.status === 204) {
    // This session ended with the others: sign in again with the new password.
    await fetch('/api/auth/login', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: profile.login, password: next }),
    });
    event.target.reset();
    return say('password-changed');
  }
  const body = await response.json().catch(() => ({}));
  if (body.field === 'current_password') return say('error', w.wrong_current_password);
  if (body.field === 'new_password') return say('error', w.password_too_short);
  if (response.status === 429) return say('error', w.login_throttled);
  if (response.status === 503) return say('error', w.server_busy);
  say('error', `${w.error}: ${body.message || response.status}`);
});
