// The header of every signed-in page: sign-out, and Alt+1…9 to open the header's pages in order.
const out = document.getElementById('sign-out');
if (out) {
  out.addEventListener('click', async () => {
    await fetch('/api/auth/logout', { method: 'POST' });
    location.href = '/login';
  });
}
const links = [...document.querySelectorAll('header.top nav a')];
links.forEach((a, i) => { if (i < 9) a.title = `Alt+${i + 1}`; });
document.addEventListener('keydown', (event) => {
  if (!event.altKey || event.ctrlKey || event.metaKey) return;
  // By the physical key: the digits' row whatever the layout.
  const n = Number((event.code || '').startsWith('Digit') ? event.code.slice(5) : event.key);
  if (n >= 1 && n <= links.length) {
    event.preventDefault();
    location.href = links[n - 1].href;
  }
});
