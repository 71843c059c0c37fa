// Overview: queue depth, rows per second and jobs by status from /metrics (the daemon's own numbers, all
// projects), and this project's jobs done and failed in the last hour from the jobs list.
import { path, request } from './api.js';
import { h, replace } from './dom.js';
import { count } from './format.js';
import { every } from './poll.js';

// Prometheus text -> [{name, labels: {..}, value}].
export function parseMetrics(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of (m[3] || '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return samples;
}

// The sum of a metric's samples whose labels include want.
function sum(samples, name, want = {}) {
  return samples
    .filter((s) => s.name === name && Object.entries(want).every(([k, v]) => s.labels[k] === v))
    .reduce((t, s) => t + s.value, 0);
}

const lastHourPages = 10; // of 100 jobs each: past 1,000 jobs an hour the count says "1,000+"

// This project's jobs of a status that finished in the last hour, newest first until older than that.
async function endedInLastHour(status, signal) {
  const since = Date.now() - 3600 * 1000;
  let n = 0;
  let cursor = '';
  for (let pages = 0; pages < lastHourPages; pages++) {
    const page = await request(path('/v1/background_jobs', { status, limit: 100, cursor }), { signal });
    for (const j of page.jobs) if (j.finished_at && Date.parse(j.finished_at) >= since) n++;
    const oldest = page.jobs[page.jobs.length - 1];
    // Jobs are listed newest submitted first; one submitted before the hour began ends the search.
    if (!page.next_cursor || !oldest || Date.parse(oldest.submitted_at) < since) return { n, more: false };
    cursor = page.next_cursor;
  }
  return { n, more: true };
}

function tile(label, value, hint, id) {
  return h('div', { class: 'tile', id }, h('p', { class: 'tile-label' }, label), h('p', { class: 'tile-value' }, value),
    hint ? h('p', { class: 'hint' }, hint) : null);
}

export function renderOverview(main) {
  document.title = 'Overview · profiled';
  const tiles = h('div', { class: 'tiles' });
  const error = h('p', { class: 'error', role: 'alert' });
  const note = h('p', { class: 'hint' });
  replace(main, h('h1', {}, 'Overview'), error, h('section', { 'aria-label': 'Numbers' }, tiles), note);
  let previous = null; // {at, rows}: the last scrape, for rows per second
  let rate = null;
  let hour = null;
  let hourAt = 0;

  async function refresh(signal) {
    try {
      const response = await fetch('/metrics', { cache: 'no-store', credentials: 'omit', signal });
      if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
      const samples = parseMetrics(await response.text());
      const rows = sum(samples, 'profiled_rows_total');
      const at = performance.now();
      if (previous && at > previous.at) rate = Math.max(0, (rows - previous.rows) / ((at - previous.at) / 1000));
      previous = { at, rows };
      if (!hour || Date.now() - hourAt > 15000) {
        const [done, failed] = await Promise.all([endedInLastHour('done', signal), endedInLastHour('failed', signal)]);
        hour = { done, failed };
        hourAt = Date.now();
      }
      error.textContent = '';
      const plus = (r) => `${count(r.n)}${r.more ? '+' : ''}`;
      replace(tiles,
        tile('Queue depth', count(sum(samples, 'profiled_job_queue_depth')), 'jobs queued or running', 'queue-depth'),
        tile('Rows per second', rate === null ? '…' : count(Math.round(rate)), 'bulk rows applied or failed, now', 'rows-per-second'),
        tile('Done, last hour', plus(hour.done), 'this project\'s jobs', 'done-last-hour'),
        tile('Failed, last hour', plus(hour.failed), 'this project\'s jobs', 'failed-last-hour'),
        tile('Jobs queued', count(sum(samples, 'profiled_jobs', { status: 'queued' })), 'all projects'),
        tile('Jobs running', count(sum(samples, 'profiled_jobs', { status: 'running' })), 'all projects'),
        tile('Jobs done', count(sum(samples, 'profiled_jobs', { status: 'done' })), 'all projects, ever'),
        tile('Jobs failed', count(sum(samples, 'profiled_jobs', { status: 'failed' })), 'all projects, ever'));
      note.textContent = 'Queue, rates and totals are the daemon\'s /metrics (every project); the last hour counts this project\'s jobs. Updated every 2 seconds.';
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      error.textContent = `Could not load the numbers: ${e.message}`;
    }
  }
  return every(2000, refresh);
}
