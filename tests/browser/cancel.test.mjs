// Cancel from the job page: the button asks first, then POST /v1/background_jobs/{job_id}/cancel; the running job
// stops at its next chunk and ends failed with error "cancelled". The daemon runs 2 rows a second in chunks of 2.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon } from './daemon.mjs';
import { launchBrowser, newPage, screenshot, seriousViolations } from './browser.mjs';
import { goodUsers } from './files.mjs';

let daemon;
let browser;

before(async () => {
  [daemon, browser] = await Promise.all([startDaemon(['--rows-per-minute', '120', '--rows-burst', '2']), launchBrowser()]);
});

after(async () => {
  await browser?.close();
  await daemon?.stop();
});

test('Cancel on the job page asks for confirmation, then the running job ends failed, cancelled', async () => {
  const users = goodUsers(400, 'slow').trim().split('\n').map((l) => JSON.parse(l));
  const submitted = await daemon.api('POST', '/v1/users/bulk_identify', { users });
  assert.equal(submitted.status, 202);
  const id = submitted.body.job_id;
  const page = await newPage(browser);
  await page.goto(`${daemon.url}/ui/`);
  await page.getByLabel('Secret API key').fill(daemon.secretKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.goto(`${daemon.url}/ui/#/jobs/${encodeURIComponent(id)}`);
  await page.getByRole('progressbar').and(page.locator('[data-status="running"]')).waitFor({ timeout: 20000 });

  // "Keep running" closes the dialog and cancels nothing.
  await page.getByRole('button', { name: 'Cancel job…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Cancel this job?' });
  await dialog.waitFor();
  assert.deepEqual(await seriousViolations(page), []);
  await screenshot(page, 'job-cancel-dialog');
  await dialog.getByRole('button', { name: 'Keep running' }).click();
  await dialog.waitFor({ state: 'hidden' });
  assert.equal((await daemon.api('GET', `/v1/background_jobs/${id}`)).body.status, 'running');

  await page.getByRole('button', { name: 'Cancel job…' }).click();
  await dialog.getByRole('button', { name: 'Cancel the job' }).click();
  // The page says what the cancel endpoint answered (before the job-life branch is merged: no such endpoint).
  const notice = page.getByRole('status').filter({ hasText: /cancel/i });
  await notice.waitFor({ timeout: 10000 });
  assert.match(await notice.textContent(), /^Cancellation requested/);
  await page.locator('[data-status="failed"]').first().waitFor({ timeout: 20000 });
  await page.locator('dd', { hasText: /^cancelled$/ }).waitFor();
  const job = (await daemon.api('GET', `/v1/background_jobs/${id}`)).body;
  assert.equal(job.status, 'failed');
  assert.equal(job.error, 'cancelled');
  assert.ok(job.processed_rows < 400, 'stopped before the end');
  assert.equal(await page.getByRole('button', { name: 'Cancel job…' }).count(), 0, 'no Cancel on an ended job');
  assert.deepEqual(page.problems.filter((p) => !/409|404/.test(p)), []);
});
