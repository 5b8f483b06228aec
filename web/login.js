// Sign-in: posts the form as JSON, then goes to the console. A refusal says why: wrong
// credentials, or too many failed attempts (429). A server too busy to check the password
// now (503, at shift start) is asked again after the Retry-After it gives, a few times,
// while the page says it is waiting.
const form = document.getElementById('login-form');
const words = JSON.parse(document.getElementById('i18n').textContent);
const error = document.getElementById('login-error');
const button = document.getElementById('sign-in');

async function signIn(body) {
  for (let attempt = 0; ; attempt += 1) {
    const response = await fetch('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    if (response.status !== 503 || attempt >= 10) return response;
    error.textContent = words.server_busy_retrying;
    error.hidden = false;
    const seconds = Number(response.headers.get('retry-after')) || 1;
    await new Promise((resolve) => setTimeout(resolve, Math.min(seconds, 5) * 1000));
  }
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  button.disabled = true;
  const response = await signIn(JSON.stringify({ login: form.login.value, password: form.password.value }));
  button.disabled = false;
  if (response.ok) {
    location.href = '/console';
    return;
  }
  error.textContent = response.status === 429 ? words.login_throttled : response.status === 503 ? words.server_busy : words.bad_login;
  error.hidden = false;
});
