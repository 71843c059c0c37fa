// The web console in a real browser (Debian's chromium, headless) against the real daemon on port 0: sign-in,
// upload with bad rows, live progress to done, the job and its errors paged, the errors as CSV, profile lookup of
// hostile names, the overview, axe-core on every page, and a screenshot of each page at 1280x800 and 390 wide.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startDaemon } from './daemon.mjs';
import { launchBrowser, newPage, screenshot, seriousViolations } from './browser.mjs';
import { goodUsers, parseCsv, usersWithBadRows, writeTempFile } from './files.mjs';

let daemon;
let browser;
let page;
let uploadedJob; // the job the upload test made through the page
const rows = usersWithBadRows(240);

before(async () => {
  // 50 rows a second in chunks of 25: the upload's job takes a few seconds, so its progress is seen moving.
  [daemon, browser] = await Promise.all([startDaemon(['--rows-per-minute', '3000', '--rows-burst', '25']), launchBrowser()]);
  page = await newPage(browser);
});

after(async () => {
  await browser?.close();
  await daemon?.stop();
});

// Signs the page in with key through the sign-in form.
async function signIn(p, key) {
  await p.goto(`${daemon.url}/ui/`);
  await p.getByLabel('Secret API key').fill(key);
  await p.getByRole('button', { name: 'Sign in' }).click();
}

// A link of the console's top navigation.
function navLink(p, name) {
  return p.getByRole('navigation', { name: 'Console' }).getByRole('link', { name, exact: true });
}

// No serious or critical axe-core violation, nothing on the console (CSP violations show there), and a screenshot.
async function checkPage(p, name, fullPage = true) {
  assert.deepEqual(await seriousViolations(p), [], `axe-core on the ${name} page`);
  assert.deepEqual(p.problems, [], `browser console errors on the ${name} page`);
  await screenshot(p, name, fullPage);
}

test('/ and /ui redirect to /ui/, and every console response has the security headers', async () => {
  for (const from of ['/', '/ui']) {
    const r = await fetch(daemon.url + from, { redirect: 'manual' });
    assert.equal(r.status, 302, from);
    assert.equal(r.headers.get('location'), '/ui/');
  }
  const index = await fetch(`${daemon.url}/ui/`);
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type'), /^text\/html/);
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  const html = await index.text();
  const asset = /src="(assets\/[0-9a-f]{12}\/app\.js)"/.exec(html);
  assert.ok(asset, 'index.html names app.js under a versioned folder');
  const js = await fetch(`${daemon.url}/ui/${asset[1]}`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type'), /^text\/javascript/);
  assert.match(js.headers.get('cache-control'), /immutable/);
  const missing = await fetch(`${daemon.url}/ui/assets/000000000000/app.js`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).success, false);
  for (const r of [index, js, missing]) {
    const csp = r.headers.get('content-security-policy');
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /connect-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
  }
});

test('sign-in refuses a public key and an unknown one with a clear message, and keeps a secret key in sessionStorage only', async () => {
  await page.goto(`${daemon.url}/ui/`);
  await checkPage(page, 'signin');
  await signIn(page, daemon.publicKey);
  await page.getByText('That is a public key').waitFor();
  await signIn(page, 'sk_not_a_key_of_this_daemon');
  await page.getByText('not known to this daemon').waitFor();
  await signIn(page, daemon.secretKey);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('profiled.secret_key')), daemon.secretKey);
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  assert.deepEqual(await page.context().cookies(), []);
  // Another tab (context) is not signed in.
  const other = await newPage(browser);
  await other.goto(`${daemon.url}/ui/`);
  await other.getByLabel('Secret API key').waitFor();
  await other.context().close();
});

test('an upload with bad rows through the page becomes a job whose progress bar reaches done', async () => {
  await navLink(page, 'Upload').click();
  await page.getByRole('heading', { name: 'Upload a file' }).waitFor();
  await checkPage(page, 'upload');
  // The file picker takes a file...
  await page.setInputFiles('#file', writeTempFile('picked.ndjson', goodUsers(3)));
  await page.getByText('picked.ndjson (').waitFor();
  // ...and a file dropped on the drop zone replaces it: the one uploaded.
  await page.evaluate(([name, text]) => {
    const data = new DataTransfer();
    data.items.add(new File([text], name, { type: 'application/x-ndjson' }));
    const zone = document.querySelector('.dropzone');
    for (const type of ['dragenter', 'dragover', 'drop'])
      zone.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
  }, ['users-with-bad-rows.ndjson', rows.text]);
  await page.getByText('users-with-bad-rows.ndjson (').waitFor();
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await page.waitForURL(/#\/jobs\/[^/]+$/);
  uploadedJob = decodeURIComponent(page.url().split('#/jobs/')[1]);
  const bar = page.getByRole('progressbar', { name: `Progress of job ${uploadedJob}` });
  // The bar moves while the page is open: seen below 100 and then at 100, without a reload.
  const seen = new Set();
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    const now = Number(await bar.getAttribute('aria-valuenow'));
    seen.add(now);
    if (now === 100 && (await bar.getAttribute('data-status')) === 'done') break;
    await page.waitForTimeout(100);
  }
  assert.ok(seen.has(100), `the bar reached 100 (saw ${[...seen].join(', ')})`);
  assert.ok([...seen].some((v) => v < 100), `the bar was seen before the end (saw ${[...seen].join(', ')})`);
  const job = (await daemon.api('GET', `/v1/background_jobs/${uploadedJob}`)).body;
  assert.equal(job.status, 'done');
  assert.equal(job.total_rows, 240);
  assert.equal(job.failed_rows, rows.bad);
  assert.equal(job.filename, 'users-with-bad-rows.ndjson');
  await page.getByText(`${rows.bad} failed`).first().waitFor();
});

test('the job page pages its row errors and downloads all of them as CSV', async () => {
  assert.ok(uploadedJob, 'the upload test made a job');
  await page.goto(`${daemon.url}/ui/#/jobs/${encodeURIComponent(uploadedJob)}`);
  const errorsRegion = page.getByRole('region', { name: 'Row errors' });
  await page.getByRole('heading', { name: `Row errors (${rows.bad})` }).waitFor();
  await checkPage(page, 'job');
  const lines = [];
  for (let pageNo = 1; ; pageNo++) {
    await page.getByText(`Page ${pageNo}`, { exact: true }).waitFor();
    const cells = await errorsRegion.locator('tbody tr td:first-child').allTextContents();
    assert.ok(cells.length <= 50);
    lines.push(...cells.map((c) => Number(c.replace(/,/g, ''))));
    const next = page.getByRole('navigation', { name: 'Row error pages' }).getByRole('button', { name: 'Next →' });
    if (await next.isDisabled()) break;
    await next.click();
  }
  assert.equal(lines.length, rows.bad);
  assert.equal(new Set(lines).size, rows.bad, 'every error shown once');
  assert.ok(lines.includes(4) && lines.includes(6));
  // Back to the first page.
  await page.getByRole('button', { name: '← Previous' }).click();
  await page.getByText('Page 2', { exact: true }).waitFor();

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: `Download all ${rows.bad} errors as CSV` }).click(),
  ]);
  assert.equal(download.suggestedFilename(), `${uploadedJob}-errors.csv`);
  const csv = parseCsv(readFileSync(await download.path(), 'utf8'));
  assert.deepEqual(csv[0], ['line', 'user_id', 'field', 'message']);
  assert.equal(csv.length - 1, rows.bad);
  assert.deepEqual(csv.slice(1).map((r) => Number(r[0])).sort((a, b) => a - b), [...lines].sort((a, b) => a - b));
  const notJson = csv.find((r) => r[0] === '4');
  assert.equal(notJson[1], '', 'a row that is not JSON has no user_id');
  const quoted = csv.find((r) => r[0] === '6');
  assert.equal(quoted[1], `'=HYPERLINK("x"), "quoted"`, 'quotes and commas survive; a formula start is made inert');
  assert.match(quoted[3], /\S/);
  const nested = csv.find((r) => r[0] === '8');
  assert.equal(nested[1], 'bad_8');
  assert.match(nested[2], /plan/);
});

test('the jobs page lists jobs by status with live progress, filters and pages with cursors', async () => {
  // More jobs: a second page of the 25-job list, and a companies job.
  for (let i = 0; i < 26; i++) {
    const r = await daemon.api('POST', '/v1/users/bulk_identify', { users: [{ user_id: `paged_${i}`, metadata: { i } }] });
    assert.equal(r.status, 202);
  }
  const companies = await daemon.api('POST', '/v1/companies/bulk_identify', { companies: [{ company_id: 'acme', metadata: { plan: 'pro' } }] });
  assert.equal(companies.status, 202);
  await navLink(page, 'Jobs').click();
  await page.getByRole('heading', { name: 'Jobs' }).waitFor();
  const table = page.getByRole('region', { name: 'Jobs' });
  await table.getByRole('link', { name: companies.body.job_id }).waitFor();
  assert.equal(await table.locator('tbody tr').count(), 25);
  // Live: the companies job reaches done without a reload.
  await table.getByRole('row').filter({ hasText: companies.body.job_id }).getByText('done', { exact: true }).waitFor({ timeout: 20000 });
  await checkPage(page, 'jobs');
  // Paging: older jobs on page 2 hold the uploaded job; Newer goes back.
  await page.getByRole('button', { name: 'Older →' }).click();
  await page.getByText('Page 2', { exact: true }).waitFor();
  await table.getByRole('link', { name: uploadedJob }).waitFor();
  await page.getByRole('button', { name: '← Newer' }).click();
  await page.getByText('Page 1', { exact: true }).waitFor();
  // Filters: failed has none of these jobs; done has the uploaded one.
  await page.getByRole('navigation', { name: 'Filter by status' }).getByRole('link', { name: 'failed' }).click();
  await page.getByText('No failed jobs.').waitFor();
  await page.getByRole('navigation', { name: 'Filter by status' }).getByRole('link', { name: 'done' }).click();
  await table.getByRole('link', { name: companies.body.job_id }).waitFor();
  assert.equal(await table.getByText('queued', { exact: true }).count(), 0);
});

test('profile lookup shows hostile ids and property names as text, resolves aliases and shows the company', async () => {
  const hostile = '<img src=x onerror="window.__xss=1">';
  const identify = await daemon.api('POST', '/v1/identify', {
    user_id: 'hostile<script>window.__xss=2</script>',
    metadata: { [hostile]: '<b onmouseover="window.__xss=3">bold?</b>', plan: 'pro', seats: 3 },
    company: { id: 'acme' },
  }, { 'X-API-Version': '2020-09-22' });
  assert.equal(identify.status, 202);
  const alias = await fetch(`${daemon.url}/public/alias`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ apiKey: daemon.secretKey, alias_id: 'hostile<script>window.__xss=2</script>', original_id: 'anon-42' }),
  });
  assert.equal(alias.status, 200);

  await navLink(page, 'Lookup').click();
  await page.getByRole('heading', { name: 'Profile lookup' }).waitFor();
  await page.getByRole('searchbox', { name: 'Id' }).fill('anon-42');
  await page.getByRole('button', { name: 'Look up' }).click();
  await page.getByRole('heading', { name: /^User hostile/ }).waitFor();
  const main = page.locator('main');
  await main.getByText('anon-42 is an alias of this user.').waitFor();
  await main.getByText(hostile, { exact: true }).waitFor();
  await main.getByText('<b onmouseover="window.__xss=3">bold?</b>', { exact: true }).waitFor();
  await main.getByRole('heading', { name: 'User hostile<script>window.__xss=2</script>' }).waitFor();
  assert.equal(await main.locator('img, script, b').count(), 0, 'nothing of the profile became an element');
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  await checkPage(page, 'lookup');
  // The company link opens the company.
  await main.getByRole('link', { name: 'acme' }).click();
  await page.getByRole('heading', { name: 'Company acme' }).waitFor();
  await main.getByText('pro', { exact: true }).waitFor();
  // An unknown id is a clear message.
  await page.getByRole('searchbox', { name: 'Id' }).fill('nobody');
  await page.getByRole('button', { name: 'Look up' }).click();
  await main.getByText('No company with id nobody in this project.').waitFor();
});

test('the overview shows queue depth, rows per second and jobs done and failed in the last hour', async () => {
  await navLink(page, 'Overview').click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  const done = page.locator('#done-last-hour .tile-value');
  await done.waitFor();
  // 1 upload + 26 + 1 companies jobs ended done in the last hour, none failed.
  assert.equal(await done.textContent(), '28');
  assert.equal(await page.locator('#failed-last-hour .tile-value').textContent(), '0');
  assert.equal(await page.locator('#queue-depth .tile-value').textContent(), '0');
  await page.locator('#rows-per-second .tile-value').filter({ hasText: /^\d/ }).waitFor();
  await checkPage(page, 'overview');
});

test('every page is readable on a 390-px-wide phone: no sideways scrolling, no axe-core violation', async () => {
  const phone = await newPage(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await phone.goto(`${daemon.url}/ui/`);
  await phone.getByLabel('Secret API key').fill(daemon.secretKey);
  await phone.getByRole('button', { name: 'Sign in' }).click();
  for (const [name, hash, heading] of [
    ['overview', '#/overview', 'Overview'], ['jobs', '#/jobs', 'Jobs'],
    ['job', `#/jobs/${encodeURIComponent(uploadedJob)}`, /^Row errors/], ['upload', '#/upload', 'Upload a file'],
    ['lookup', '#/lookup?user=anon-42', /^User hostile/],
  ]) {
    await phone.goto(`${daemon.url}/ui/${hash}`);
    await phone.getByRole('heading', { name: heading }).first().waitFor();
    const width = await phone.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `${name} is ${width}px wide`);
    await checkPage(phone, `phone-${name}`, false);
  }
  await phone.context().close();
});

test('keyboard only: the nav, filters and pager are reachable with Tab and work with Enter', async () => {
  const p = await newPage(browser);
  await signIn(p, daemon.secretKey);
  await p.getByRole('heading', { name: 'Overview' }).waitFor();
  // Tab from the top of the page to the Jobs link and follow it.
  await p.keyboard.press('Tab');
  let found = false;
  for (let i = 0; i < 10 && !found; i++) {
    found = await p.evaluate(() => document.activeElement?.textContent === 'Jobs');
    if (!found) await p.keyboard.press('Tab');
  }
  assert.ok(found, 'the Jobs link takes focus');
  await p.keyboard.press('Enter');
  await p.getByRole('heading', { name: 'Jobs' }).waitFor();
  await p.getByRole('button', { name: 'Older →' }).focus();
  await p.keyboard.press('Enter');
  await p.getByText('Page 2', { exact: true }).waitFor();
  // The list redraws every second; focus stays on the pager (on Newer once Older is disabled on the last page).
  await p.waitForTimeout(1500);
  assert.equal(await p.evaluate(() => document.activeElement?.dataset.focusGroup), 'Jobs pages', 'focus stays on the pager');
  // A job link keeps focus across the live redraws too.
  const link = p.getByRole('region', { name: 'Jobs' }).getByRole('link').first();
  await link.focus();
  const id = await link.textContent();
  await p.waitForTimeout(1500);
  assert.equal(await p.evaluate(() => document.activeElement?.textContent), id);
  await p.keyboard.press('Enter');
  await p.getByRole('heading', { name: `Job ${id}` }).waitFor();
  await p.context().close();
});

test('a busy jobs page: a running job bar moves, with rate and ETA, a queued one waits, a failed one says so', async () => {
  const allBad = Array.from({ length: 20 }, (_, i) => JSON.stringify({ user_id: `x${i}`, metadata: { deep: { i } } })).join('\n');
  const failed = await daemon.api('POST', '/v1/users/bulk_identify', `--b\r\nContent-Disposition: form-data; name="file"; filename="all-invalid.ndjson"\r\n\r\n${allBad}\n\r\n--b--\r\n`,
    { 'Content-Type': 'multipart/form-data; boundary=b' });
  assert.equal(failed.status, 202);
  const upload = (name, text) => daemon.api('POST', '/v1/users/bulk_identify',
    `--b\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n\r\n${text}\r\n--b--\r\n`,
    { 'Content-Type': 'multipart/form-data; boundary=b' });
  const big = await upload('signups-2026-12.ndjson', goodUsers(3000, 'signup'));
  const next = await upload('crm-sync.ndjson', goodUsers(800, 'crm'));
  assert.equal(big.status, 202);
  assert.equal(next.status, 202);
  await page.goto(`${daemon.url}/ui/#/jobs`);
  const table = page.getByRole('region', { name: 'Jobs' });
  const bar = table.getByRole('progressbar', { name: `Progress of job ${big.body.job_id}` });
  await bar.and(page.locator('[data-status="running"]')).waitFor({ timeout: 20000 });
  const first = Number(await bar.getAttribute('aria-valuenow'));
  await page.waitForFunction(([id, before]) => {
    const el = document.querySelector(`[aria-label="Progress of job ${id}"]`);
    return el && Number(el.getAttribute('aria-valuenow')) >= before + 5;
  }, [big.body.job_id, first], { timeout: 20000 });
  await table.getByRole('row').filter({ hasText: big.body.job_id }).getByText(/ETA /).waitFor();
  await table.getByRole('row').filter({ hasText: failed.body.job_id }).getByText('failed', { exact: true }).waitFor();
  await table.getByRole('row').filter({ hasText: next.body.job_id }).getByText('queued', { exact: true }).waitFor();
  const failedJob = (await daemon.api('GET', `/v1/background_jobs/${failed.body.job_id}`)).body;
  assert.equal(failedJob.status, 'failed');
  assert.ok(failedJob.error);
  await table.getByRole('row').filter({ hasText: failed.body.job_id }).getByText(failedJob.error, { exact: true }).waitFor();
  // What the README shows (tests/browser/screenshots/jobs.png is a copy of it).
  await checkPage(page, 'jobs-busy', false);
});
