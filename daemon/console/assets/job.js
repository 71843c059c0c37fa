// One job: its fields and timing, live progress, its row errors paged, all errors as CSV, and Cancel.
import { ApiError, path, request } from './api.js';
import { csvLine, download } from './csv.js';
import { announce, h, keepingFocus, replace, table } from './dom.js';
import { bytes, count, duration, time } from './format.js';
import { cursor_pager } from './pager.js';
import { every } from './poll.js';
import { hasEnded, progressBlock, rowsPerSecond, runSeconds } from './progress.js';
import { statusBadge } from './jobs.js';

const errorsPageSize = 50;
const csvPageSize = 100;

export function renderJob(main, jobId) {
  document.title = `Job ${jobId} · profiled`;
  const jobUrl = `/v1/background_jobs/${encodeURIComponent(jobId)}`;
  const heading = h('h1', {}, 'Job ', h('span', { class: 'mono' }, jobId));
  const error = h('p', { class: 'error', role: 'alert' });
  const summary = h('section', { class: 'card', 'aria-labelledby': 'job-summary' });
  const actions = h('div', { class: 'actions' });
  const notice = h('p', { class: 'notice', role: 'status' });
  const errorsSection = h('section', { class: 'card', 'aria-labelledby': 'row-errors' });
  replace(main, h('p', { class: 'crumbs' }, h('a', { href: '#/jobs' }, '← All jobs')), heading, error, summary,
    actions, notice, errorsSection);

  let job = null;
  let errorsShownFor = -1; // failed_rows when the errors were last drawn
  const pager = new cursor_pager();
  const dialog = cancelDialog(() => cancel());
  main.append(dialog);

  async function refresh(signal) {
    try {
      job = await request(jobUrl, { signal });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      error.textContent = e instanceof ApiError && e.status === 404 ? 'No such job in this project.' : `Could not load the job: ${e.message}`;
      return e instanceof ApiError && e.status === 404 ? false : true;
    }
    error.textContent = '';
    drawSummary();
    drawActions();
    // The first page of errors follows the job while it runs; later pages stay where the reader put them.
    if (pager.page() === 1 && job.failed_rows !== errorsShownFor) await loadErrors(signal);
    return !hasEnded(job);
  }

  function drawSummary() {
    const fields = [
      ['Status', statusBadge(job.status)],
      ['Type', job.type],
      ['File', job.filename || '(request body)'],
      ['File size', bytes(job.file_size)],
      ['Rows', `${count(job.processed_rows)} processed of ${count(job.total_rows)}, ${count(job.failed_rows)} failed`],
      ['Submitted', time(job.submitted_at)],
      ['Started', time(job.started_at)],
      ['Finished', time(job.finished_at)],
      ['Run time', duration(runSeconds(job))],
      ['Rate', rowsPerSecond(job) === null ? '–' : `${count(Math.round(rowsPerSecond(job)))} rows/s`],
    ];
    if (job.cancelled_at) fields.push(['Cancelled', time(job.cancelled_at)]);
    if (job.error) fields.push(['Error', job.error]);
    replace(summary, h('h2', { id: 'job-summary' }, 'Summary'), progressBlock(job),
      h('dl', { class: 'fields' }, fields.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])));
  }

  function drawActions() {
    const buttons = [];
    if (!hasEnded(job)) {
      const b = h('button', { type: 'button', class: 'danger', id: 'cancel-job' }, 'Cancel job…');
      b.addEventListener('click', () => dialog.showModal());
      buttons.push(b);
    }
    if (job.failed_rows > 0) {
      const b = h('button', { type: 'button', id: 'download-errors' }, `Download all ${count(job.failed_rows)} errors as CSV`);
      b.addEventListener('click', () => downloadErrors(b));
      buttons.push(b);
    }
    // Redraw only when the set of buttons changes, so focus and a running download are not disturbed.
    const want = buttons.map((b) => b.id).join(' ');
    if (actions.dataset.buttons !== want || (job.failed_rows > 0 && !actions.querySelector('[disabled]') && actions.dataset.failed !== String(job.failed_rows))) {
      actions.dataset.buttons = want;
      actions.dataset.failed = String(job.failed_rows);
      replace(actions, buttons);
    }
  }

  // The job's errors link when the API gives one (a path on this daemon), else the documented path.
  function errorsUrl() {
    const link = job && job.links && job.links.errors;
    return typeof link === 'string' && link.startsWith('/') && !link.startsWith('//') ? link.split('?')[0] : `${jobUrl}/errors`;
  }

  async function loadErrors(signal) {
    let page;
    try {
      page = await request(path(errorsUrl(), { limit: errorsPageSize, cursor: pager.current }), { signal });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      replace(errorsSection, h('h2', { id: 'row-errors' }, 'Row errors'), h('p', { class: 'error' }, e.message));
      return;
    }
    pager.next = page.next_cursor;
    errorsShownFor = job ? job.failed_rows : -1;
    const columns = [
      { label: 'Line', class: 'num', cell: (e) => count(e.line) },
      { label: 'User id', cell: (e) => h('span', { class: 'mono' }, e.user_id ?? '–') },
      { label: 'Field', cell: (e) => e.field ?? '–' },
      { label: 'Message', cell: (e) => e.message },
    ];
    keepingFocus(errorsSection, () => replace(errorsSection,
      h('h2', { id: 'row-errors' }, `Row errors (${count(page.failed_rows)})`),
      table('Row errors', columns, page.errors, 'No row errors.'),
      page.errors.length || pager.page() > 1 ? pager.controls('Row error pages', () => loadErrors()) : null));
  }

  async function downloadErrors(button) {
    button.disabled = true;
    const label = button.textContent;
    const lines = [csvLine(['line', 'user_id', 'field', 'message'])];
    let cursor = '';
    try {
      do {
        const page = await request(path(errorsUrl(), { limit: csvPageSize, cursor }));
        for (const e of page.errors) lines.push(csvLine([e.line, e.user_id, e.field, e.message]));
        cursor = page.next_cursor;
        button.textContent = `Fetching errors… ${count(lines.length - 1)} of ${count(page.failed_rows)}`;
      } while (cursor);
      download(`${jobId}-errors.csv`, lines.join(''));
      announce(`Downloaded ${lines.length - 1} errors.`);
    } catch (e) {
      notice.textContent = `The download failed: ${e.message}`;
    } finally {
      button.textContent = label;
      button.disabled = false;
    }
  }

  async function cancel() {
    try {
      job = await request(`${jobUrl}/cancel`, { method: 'POST' });
      notice.textContent = 'Cancellation requested: the job stops at its next chunk and ends failed (cancelled).';
      drawSummary();
    } catch (e) {
      notice.textContent = e instanceof ApiError && e.status === 409
        ? 'The job had already ended; nothing to cancel.'
        : `Could not cancel the job: ${e.message}`;
    }
    if (stop) stop();
    stop = every(1000, refresh);
  }

  let stop = every(1000, refresh);
  return () => stop();
}

// The confirmation asked before cancelling: a modal dialog, Escape or "Keep running" closes it.
function cancelDialog(onConfirm) {
  const keep = h('button', { type: 'button', class: 'quiet', value: 'keep' }, 'Keep running');
  const confirm = h('button', { type: 'button', class: 'danger', id: 'confirm-cancel' }, 'Cancel the job');
  const dialog = h('dialog', { 'aria-labelledby': 'cancel-title', 'aria-describedby': 'cancel-text' },
    h('h2', { id: 'cancel-title' }, 'Cancel this job?'),
    h('p', { id: 'cancel-text' }, 'Rows already applied stay applied. The job stops at its next chunk and ends failed, with the error "cancelled".'),
    h('div', { class: 'actions' }, keep, confirm));
  keep.addEventListener('click', () => dialog.close());
  confirm.addEventListener('click', () => {
    dialog.close();
    onConfirm();
  });
  return dialog;
}
