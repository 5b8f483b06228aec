// Keyboard shortcuts by the physical key, so they work whatever the layout: on the Russian
// layout the key that types "ф" is still A.

/// The key a shortcut means: the physical key's Latin letter, its digit, or "/"; any other
/// key as the layout gives it.
export function shortcutKey(event) {
  const code = event.code || '';
  if (code.startsWith('Key')) return code.slice(3).toLowerCase();
  if (code.startsWith('Digit')) return code.slice(5);
  if (code === 'Slash') return '/';
  return (event.key || '').toLowerCase();
}
