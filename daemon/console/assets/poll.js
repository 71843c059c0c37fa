// Runs a refresh now and again every interval while the page is open (not while the tab is hidden), one at a time.
// Returns the function that stops it.
export function every(intervalMs, refresh) {
  let stopped = false;
  let timer = null;
  const controller = new AbortController();
  async function tick() {
    if (stopped) return;
    if (!document.hidden) {
      try {
        const again = await refresh(controller.signal);
        if (again === false) return;
      } catch (e) {
        if (e.name === 'AbortError') return;
        // A refresh that failed shows its own error; the next one tries again.
      }
    }
    if (!stopped) timer = setTimeout(tick, intervalMs);
  }
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
    controller.abort();
  };
}
