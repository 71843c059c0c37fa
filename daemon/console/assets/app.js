// The console's shell: sign-in gate, hash routes (#/overview, #/jobs, #/jobs/ID, #/upload, #/lookup), the nav.
import { currentKey, forgetKey, whenUnauthorized } from './api.js';
import { h, replace } from './dom.js';
import { renderSignIn } from './signin.js';
import { renderOverview } from './overview.js';
import { renderJobs } from './jobs.js';
import { renderJob } from './job.js';
import { renderUpload } from './upload.js';
import { renderLookup } from './lookup.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const signOut = document.getElementById('sign-out');
let stopCurrent = () => {};

// The route of the location's hash: {page, id, query}.
function currentRoute() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [pathPart, queryPart = ''] = hash.split('?');
  const parts = pathPart.split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] || 'overview', id: parts[1], query: new URLSearchParams(queryPart) };
}

function show() {
  stopCurrent();
  stopCurrent = () => {};
  const signedIn = Boolean(currentKey());
  nav.hidden = !signedIn;
  signOut.hidden = !signedIn;
  if (!signedIn) {
    document.title = 'Sign in · profiled';
    stopCurrent = renderSignIn(main, () => show()) || stopCurrent;
    return;
  }
  const route = currentRoute();
  for (const link of nav.querySelectorAll('a')) {
    if (link.dataset.page === route.page) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const views = {
    overview: () => renderOverview(main),
    jobs: () => (route.id ? renderJob(main, route.id, route.query) : renderJobs(main, route.query)),
    upload: () => renderUpload(main),
    lookup: () => renderLookup(main, route.query),
  };
  const view = views[route.page];
  if (!view) {
    document.title = 'Not found · profiled';
    replace(main, h('h1', {}, 'Not found'), h('p', {}, 'No such page. ', h('a', { href: '#/jobs' }, 'See the jobs.')));
    return;
  }
  stopCurrent = view() || stopCurrent;
}

signOut.addEventListener('click', () => {
  forgetKey();
  location.hash = '#/overview';
  show();
});
whenUnauthorized(() => {
  forgetKey();
  show();
});
window.addEventListener('hashchange', () => {
  show();
  main.focus({ preventScroll: true });
});
show();
