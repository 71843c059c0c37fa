// Not a ctest test: how the console does at scale (scripts/bench/console-scale runs it). Makes JOBS one-row jobs
// and one job with ERRORS row errors on a daemon of its own, then times in chromium: the jobs page's first table,
// paging to the next page, the job page's first errors, and downloading all the errors as CSV (checked for its row
// count). Each beside its baseline: the API requests the page makes for it, timed from Node in the same run.
// Usage: node measure-scale.mjs [JOBS=10000] [ERRORS=100000]
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startDaemon } from './daemon.mjs';
import { launchBrowser, newPage } from './browser.mjs';

const jobs = Number(process.argv[2] || 10000);
const errors = Number(process.argv[3] || 100000);
const daemon = await startDaemon(['--rows-per-minute', '0', '--max-job-rows', String(Math.max(errors, 10000)),
  '--rate-limit-bulk', '0', '--max-queued-jobs', String(jobs + 10)]);
const browser = await launchBrowser();
try {
  let started = Date.now();
  const bad = Array.from({ length: errors }, (_, i) => JSON.stringify({ user_id: `u${i}`, metadata: { x: { i } } })).join('\n');
  const big = await daemon.api('POST', '/v1/users/bulk_identify',
    `--b\r\nContent-Disposition: form-data; name="file"; filename="bad.ndjson"\r\n\r\n${bad}\n\r\n--b--\r\n`,
    { 'Content-Type': 'multipart/form-data; boundary=b' });
  assert.equal(big.status, 202, big.text);
  const parallel = 4; // --max-uploads-per-key
  // One tiny job; a 429 or 503 (a busy machine) is tried again after a moment.
  async function submit(n) {
    for (;;) {
      const r = await daemon.api('POST', '/v1/users/bulk_identify', { users: [{ user_id: `j${n}`, metadata: {} }] });
      if (r.status !== 429 && r.status !== 503) return assert.equal(r.status, 202, r.text);
      await new Promise((done) => setTimeout(done, 200));
    }
  }
  for (let i = 0; i < jobs; i += parallel)
    await Promise.all(Array.from({ length: Math.min(parallel, jobs - i) }, (_, k) => submit(i + k)));
  console.log(`made ${jobs} jobs and one of ${errors} rows in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (;;) {
    const j = (await daemon.api('GET', `/v1/background_jobs/${big.body.job_id}`)).body;
    if (j.status === 'done' || j.status === 'failed') break;
    await new Promise((r) => setTimeout(r, 500));
  }

  // The baselines: the same API reads the pages make, without the browser.
  async function timed(what, path, pages = 1) {
    const start = Date.now();
    let cursor = null;
    for (let i = 0; i < pages; i++) {
      const r = await daemon.api('GET', path + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''));
      assert.equal(r.status, 200, r.text);
      cursor = r.body.next_cursor;
      if (!cursor) break;
    }
    console.log(`  baseline, ${what} through the API: ${Date.now() - start} ms`);
  }
  await timed('the first 25 jobs', '/v1/background_jobs?limit=25');
  await timed('the first 50 errors', `/v1/background_jobs/${big.body.job_id}/errors?limit=50`);
  // The CSV download pages through the errors 100 at a time, as the page does (job.js).
  await timed(`all ${errors} errors, 100 a page`, `/v1/background_jobs/${big.body.job_id}/errors?limit=100`,
    Math.ceil(errors / 100));

  const page = await newPage(browser);
  await page.goto(`${daemon.url}/ui/`);
  await page.getByLabel('Secret API key').fill(daemon.secretKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  started = Date.now();
  await page.goto(`${daemon.url}/ui/#/jobs`);
  await page.getByRole('region', { name: 'Jobs' }).locator('tbody tr').nth(24).waitFor();
  console.log(`jobs page, first 25 of ${jobs + 1}: ${Date.now() - started} ms`);
  started = Date.now();
  await page.getByRole('button', { name: 'Older →' }).click();
  await page.getByText('Page 2', { exact: true }).waitFor();
  console.log(`jobs page 2: ${Date.now() - started} ms`);
  started = Date.now();
  await page.goto(`${daemon.url}/ui/#/jobs/${big.body.job_id}`);
  await page.getByRole('region', { name: 'Row errors' }).locator('tbody tr').nth(49).waitFor();
  console.log(`job page, first 50 of ${errors} errors: ${Date.now() - started} ms`);
  started = Date.now();
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 600000 }),
    page.getByRole('button', { name: /^Download all/ }).click(),
  ]);
  const csv = readFileSync(await download.path(), 'utf8');
  const lines = csv.split('\r\n').filter(Boolean).length - 1;
  console.log(`CSV of ${lines} errors (${(csv.length / 1e6).toFixed(1)} MB): ${Date.now() - started} ms`);
  assert.equal(lines, errors);
  const memory = await page.evaluate(() => performance.memory?.usedJSHeapSize);
  if (memory) console.log(`page JS heap after the download: ${(memory / 1e6).toFixed(0)} MB`);
} catch (e) {
  console.error(`failed: ${e.message}\nthe daemon's last log lines:\n${daemon.log.slice(-15).join('\n')}`);
  process.exitCode = 1;
} finally {
  await browser.close();
  await daemon.stop();
}
