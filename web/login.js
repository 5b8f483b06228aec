// Sign-in: posts the form as JSON, then goes to the console.
const form = document.getElementById('login-form');
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = JSON.stringify({ login: form.login.value, password: form.password.value });
  const response = await fetch('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  if (response.ok) {
    location.href = '/console';
  } else {
    document.getElementById('login-error').hidden = false;
  }
});
