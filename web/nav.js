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

// Notifications (a stage rule's notice, an overdue callback): a count beside the user's name,
// checked every minute; the list opens under it, each entry a link that marks it read.
const words = (() => { try { return JSON.parse(document.getElementById('i18n').textContent); } catch { return {}; } })();
const who = document.getElementById('user-name');
if (who && words.notifications) {
  const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  who.insertAdjacentHTML('beforebegin', `<span class="bell-box"><button type="button" id="bell" aria-haspopup="true" aria-expanded="false" title="${esc(words.notifications)}" aria-label="${esc(words.notifications)}"><svg width="16" height="16" viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1z"/></svg><span id="bell-count" class="count" hidden></span></button><div id="bell-list" class="bell-list" hidden></div></span>`);
  const bell = document.getElementById('bell');
  const list = document.getElementById('bell-list');
  let items = [];
  const href = (n) => (n.deal_id ? `/deals/${encodeURIComponent(n.deal_id)}` : n.kind === 'task_escalated' ? '/callbacks' : '/tasks');
  const check = async () => {
    const response = await fetch('/api/notifications?unread=true').catch(() => null);
    if (!response || !response.ok) return;
    items = await response.json();
    const count = document.getElementById('bell-count');
    count.textContent = items.length;
    count.hidden = !items.length;
  };
  bell.addEventListener('click', () => {
    const open = list.hidden;
    list.hidden = !open;
    bell.setAttribute('aria-expanded', String(open));
    if (!open) return;
    list.innerHTML = items.length
      ? `<ul>${items.map((n) => `<li><a href="${href(n)}" data-read="${esc(n.id)}"><strong>${esc(words[`notif_${n.kind}`] || n.kind)}</strong> ${esc(n.body)}</a></li>`).join('')}</ul>`
      : `<p class="muted">${esc(words.no_notifications)}</p>`;
  });
  list.addEventListener('click', (event) => {
    const link = event.target.closest('a[data-read]');
    if (link) fetch(`/api/notifications/${encodeURIComponent(link.dataset.read)}/read`, { method: 'POST' });
  });
  check();
  setInterval(check, 60000);
}
