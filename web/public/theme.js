// Applies the stored theme before the first paint, so a dark-theme user sees no light flash.
// A plain script file (not inline) so that a strict Content-Security-Policy allows it.
try {
  var stored = localStorage.getItem('vscope-theme');
  if (stored === 'light' || stored === 'dark') document.documentElement.dataset.theme = stored;
} catch {
  // Storage can be disabled; the system preference applies then.
}
