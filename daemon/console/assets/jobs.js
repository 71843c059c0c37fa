// The jobs page: the project's jobs newest first, filtered by status, paged, with live progress.
import { path, request } from './api.js';
import { announce, h, keepingFocus, replace, table } from './dom.js';
import { ago, bytes, time } from './format.js';
import { cursor_pager } from './pager.js';
import { every } from './poll.js';
import { progressBlock } from './progress.js';

const statuses = ['', 'queued', 'running', 'done', 'failed'];
const pageSize = 25;

// A status as a badge.
export function statusBadge(status) {
  return h('span', { class: `badge badge-${status}` }, status);
}

export function renderJobs(main, query) {
  document.title = 'Jobs · profiled';
  const status = statuses.includes(query.get('status') || '') ? query.get('status') || '' : '';
  const pager = new cursor_pager();
  const filters = h('nav', { class: 'filters', 'aria-label': 'Filter by status' },
    statuses.map((s) => h('a', {
      href: s ? `#/jobs?status=${s}` : '#/jobs',
      'aria-current': s === status ? 'page' : null,
    }, s || 'all')));
  const updated = h('p', { class: 'hint', 'aria-live': 'off' });
  const error = h('p', { class: 'error', role: 'alert' });
  const list = h('div', { class: 'jobs-list' });
  replace(main,
    h('div', { class: 'page-head' }, h('h1', {}, 'Jobs'), h('a', { class: 'button', href: '#/upload' }, 'Upload a file')),
    filters, error, list, updated);

  let moved = true;
  let shown = null; // the page last drawn, to skip redrawing an unchanged one
  async function refresh(signal) {
    try {
      const page = await request(path('/v1/background_jobs', { status, limit: pageSize, cursor: pager.current }), { signal });
      pager.next = page.next_cursor;
      error.textContent = '';
      const key = JSON.stringify([pager.current, page]);
      if (key !== shown) keepingFocus(list, () => draw(page.jobs));
      shown = key;
      updated.textContent = `Updated ${new Date().toISOString().slice(11, 19)} UTC, live.`;
      if (moved) announce(`Jobs page ${pager.page()}, ${page.jobs.length} jobs.`);
      moved = false;
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      error.textContent = `Could not load the jobs: ${e.message}`;
    }
  }

  function draw(jobs) {
    const columns = [
      { label: 'Job', cell: (j) => h('a', { href: `#/jobs/${encodeURIComponent(j.job_id)}`, class: 'mono job-id', 'data-focus-key': j.job_id }, j.job_id) },
      { label: 'Type', cell: (j) => j.type },
      { label: 'Status', cell: (j) => statusBadge(j.status) },
      { label: 'Progress', class: 'wide', cell: (j) => progressBlock(j) },
      { label: 'File', cell: (j) => h('span', {}, j.filename || '(body)', h('span', { class: 'hint block' }, bytes(j.file_size))) },
      { label: 'Submitted', cell: (j) => h('time', { datetime: j.submitted_at, title: time(j.submitted_at) }, ago(j.submitted_at)) },
    ];
    const empty = status ? `No ${status} jobs.` : 'No jobs yet. Upload a file to start one.';
    replace(list, table('Jobs', columns, jobs, empty), pager.controls('Jobs pages', move, 'Older', 'Newer'));
  }

  function move() {
    moved = true;
    refresh();
  }

  return every(1000, refresh);
}

