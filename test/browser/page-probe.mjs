// Injected into the inspector page by the browser test before the page's own scripts: records when
// each event id's row first appears and first shows a finished state (in this machine's clock), and
// how many times the page was loaded in this tab (sessionStorage outlives a reload).
const loads = Number(sessionStorage.getItem('probeLoads') ?? 0) + 1;
sessionStorage.setItem('probeLoads', String(loads));
window.__probe = { loads, seen: {} };
document.addEventListener('DOMContentLoaded', () => {
  new MutationObserver((mutations) => {
    const now = Date.now();
    for (const mutation of mutations) {
      for (const node of mutation.addedNodes) {
        if (!(node instanceof HTMLTableRowElement) || !node.dataset.eventId) continue;
        const entry = (window.__probe.seen[node.dataset.eventId] ??= {});
        entry.appeared ??= now;
        if (node.dataset.state === 'processed' || node.dataset.state === 'duplicate') entry.processed ??= now;
      }
    }
  }).observe(document.querySelector('#deliveries tbody'), { childList: true });
});
