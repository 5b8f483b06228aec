// Sign-in: posts the form as JSON, then goes to the console. A refusal says why: wrong
// credentials, too many failed attempts (429), or a server too busy to check now (503).
const form = document.getElementById('login-form');
const words = JSON.parse(document.getElementById('i18n').textContent);
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = JSON.stringify({ login: form.login.value, password: form.password.value });
  const response = await fetch('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  if (response.ok) {
    location.href = '/console';
    return;
  }
  const error = document.getElementById('login-error');
  error.textContent = response.status === 429 ? words.login_throttled : response.status === 503 ? words.server_busy : words.bad_login;
  error.hidden = false;
});
