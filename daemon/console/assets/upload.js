// Upload: an NDJSON (or {"users": [...]} JSON) file of users or companies, by drag and drop or the file picker,
// with upload progress; then the new job's page.
import { uploadFile } from './api.js';
import { announce, h, replace } from './dom.js';
import { bytes } from './format.js';

export function renderUpload(main) {
  document.title = 'Upload · profiled';
  const typeChoice = ['users', 'companies'].map((t, i) => h('label', { class: 'choice' },
    h('input', { type: 'radio', name: 'type', value: t, checked: i === 0 }), ` ${t}`));
  const input = h('input', {
    id: 'file', name: 'file', type: 'file', class: 'visually-hidden-file',
    accept: '.ndjson,.jsonl,.json,application/x-ndjson,application/json', 'aria-describedby': 'file-help',
  });
  const chosen = h('p', { class: 'chosen', 'aria-live': 'polite' }, 'No file chosen.');
  const zone = h('div', { class: 'dropzone' },
    h('p', {}, 'Drop a file here, or'),
    h('label', { for: 'file', class: 'button' }, 'Choose a file…'), input, chosen);
  const bar = h('progress', { max: 100, value: 0, 'aria-label': 'Upload progress', hidden: true });
  const status = h('p', { class: 'hint', role: 'status' });
  const error = h('p', { class: 'error', role: 'alert' });
  const submit = h('button', { type: 'submit', disabled: true }, 'Upload');
  const form = h('form', { class: 'card' },
    h('fieldset', {}, h('legend', {}, 'Profiles in the file'), typeChoice),
    zone,
    h('p', { id: 'file-help', class: 'hint' },
      'NDJSON: one {"user_id": …, "metadata": {…}} (or "company_id") object per line. A .json file is sent as one ',
      h('code', {}, '{"users": […]}'), ' document. Up to the daemon\'s upload limits (50 MB, 10,000 rows by default).'),
    bar, status, error, submit);
  replace(main, h('h1', {}, 'Upload a file'), form);

  let file = null;
  function choose(f) {
    file = f || null;
    chosen.textContent = file ? `${file.name} (${bytes(file.size)})` : 'No file chosen.';
    submit.disabled = !file;
    error.textContent = '';
  }
  input.addEventListener('change', () => choose(input.files[0]));
  for (const name of ['dragenter', 'dragover']) {
    zone.addEventListener(name, (e) => { e.preventDefault(); zone.classList.add('over'); });
  }
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    if (e.dataTransfer && e.dataTransfer.files.length) choose(e.dataTransfer.files[0]);
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!file) return;
    const type = form.querySelector('input[name=type]:checked').value;
    submit.disabled = true;
    bar.hidden = false;
    bar.value = 0;
    error.textContent = '';
    status.textContent = 'Uploading…';
    try {
      const job = await uploadFile(type, file, (sent, total) => {
        bar.value = total ? Math.round((sent / total) * 100) : 0;
        status.textContent = `Uploading… ${bytes(sent)} of ${bytes(total)}`;
      });
      bar.value = 100;
      announce(`Uploaded. Job ${job.job_id} is ${job.status}.`);
      location.hash = `#/jobs/${encodeURIComponent(job.job_id)}`;
    } catch (err) {
      status.textContent = '';
      bar.hidden = true;
      error.textContent = `The upload was refused: ${err.message}`;
      submit.disabled = false;
    }
  });
}
