// A job's progress: the bar, rows done of total, rate and ETA.
import { h } from './dom.js';
import { count, duration } from './format.js';

const ended = new Set(['done', 'failed']);

// True once a job has ended (done or failed).
export function hasEnded(job) {
  return ended.has(job.status);
}

// Rows per second since the job started (its whole run when it has ended), or null before it starts.
export function rowsPerSecond(job, now = Date.now()) {
  if (!job.started_at) return null;
  const end = job.finished_at ? Date.parse(job.finished_at) : now;
  const seconds = (end - Date.parse(job.started_at)) / 1000;
  return seconds > 0.5 ? job.processed_rows / seconds : null;
}

// The job's run time in seconds: duration_seconds when the API gives it, else from its times.
export function runSeconds(job, now = Date.now()) {
  if (typeof job.duration_seconds === 'number') return job.duration_seconds;
  if (!job.started_at) return null;
  return ((job.finished_at ? Date.parse(job.finished_at) : now) - Date.parse(job.started_at)) / 1000;
}

// The fraction done, 0..1.
export function fraction(job) {
  if (job.status === 'done') return 1;
  if (!job.total_rows) return 0;
  return Math.min(1, job.processed_rows / job.total_rows);
}

// The bar alone, labelled for assistive technology.
export function progressBar(job) {
  const percent = Math.round(fraction(job) * 100);
  return h('div', {
    class: `bar bar-${job.status}`,
    role: 'progressbar',
    'aria-label': `Progress of job ${job.job_id}`,
    'aria-valuemin': 0,
    'aria-valuemax': 100,
    'aria-valuenow': percent,
    'aria-valuetext': `${percent}%, ${job.status}`,
    'data-status': job.status,
  }, h('span', { class: 'bar-fill', 'data-percent': percent }));
}

// "1,200 of 5,000 rows · 40/s · ETA 1m 35s"
export function progressText(job, now = Date.now()) {
  const parts = [`${count(job.processed_rows)} of ${count(job.total_rows)} rows`];
  const rate = rowsPerSecond(job, now);
  if (rate !== null) parts.push(`${count(Math.round(rate))}/s`);
  if (!hasEnded(job) && rate) parts.push(`ETA ${duration((job.total_rows - job.processed_rows) / rate)}`);
  if (job.failed_rows) parts.push(`${count(job.failed_rows)} failed`);
  return parts.join(' · ');
}

// Bar plus text, as one block.
export function progressBlock(job) {
  const block = h('div', { class: 'progress' }, progressBar(job), h('span', { class: 'progress-text' }, progressText(job)),
    job.error ? h('span', { class: 'progress-error' }, job.error) : null);
  setWidths(block);
  return block;
}

// Sets each bar's fill width from its data-percent (CSSOM, which the content security policy allows, unlike
// inline style attributes).
export function setWidths(root) {
  for (const fill of root.querySelectorAll('.bar-fill')) fill.style.width = `${fill.dataset.percent}%`;
}
