// Profile lookup by user_id (aliases resolved by the API) or company_id: properties, origin, aliases, company, times.
import { ApiError, request } from './api.js';
import { h, replace, table } from './dom.js';
import { time } from './format.js';

// A property value as text: strings as they are, everything else as JSON.
function valueText(v) {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

// A map of properties as a two-column table.
function propertyTable(caption, map) {
  const rows = Object.entries(map || {});
  return table(caption, [
    { label: 'Name', cell: ([k]) => h('span', { class: 'mono' }, k) },
    { label: 'Value', cell: ([, v]) => h('span', { class: typeof v === 'string' ? '' : 'mono' }, valueText(v)) },
  ], rows, 'None.');
}

export function renderLookup(main, query) {
  document.title = 'Profile lookup · profiled';
  const kind = query.get('company') !== null ? 'company' : 'user';
  const id = query.get(kind) || '';
  const kinds = [['user', 'User (user_id or alias)'], ['company', 'Company (company_id)']].map(([k, label]) =>
    h('label', { class: 'choice' }, h('input', { type: 'radio', name: 'kind', value: k, checked: k === kind }), ` ${label}`));
  const input = h('input', { id: 'lookup-id', name: 'id', type: 'search', value: id, required: true, autocomplete: 'off', spellcheck: 'false' });
  const form = h('form', { class: 'card lookup', role: 'search' },
    h('fieldset', {}, h('legend', {}, 'Look up a'), kinds),
    h('label', { for: 'lookup-id' }, 'Id'),
    h('div', { class: 'inline' }, input, h('button', { type: 'submit' }, 'Look up')));
  const result = h('div', { class: 'result', 'aria-live': 'polite' });
  replace(main, h('h1', {}, 'Profile lookup'), form, result);

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const k = form.querySelector('input[name=kind]:checked').value;
    const v = input.value.trim();
    if (!v) return;
    const q = new URLSearchParams({ [k]: v });
    const target = `#/lookup?${q}`;
    if (location.hash === target) show(k, v);
    else location.hash = target;
  });

  async function show(k, v) {
    replace(result, h('p', { class: 'hint' }, 'Looking up…'));
    const url = k === 'user' ? `/v1/users/${encodeURIComponent(v)}` : `/v1/companies/${encodeURIComponent(v)}`;
    try {
      const p = await request(url);
      replace(result, k === 'user' ? userCard(p, v) : companyCard(p));
    } catch (e) {
      replace(result, h('p', { class: 'error', role: 'alert' },
        e instanceof ApiError && e.status === 404 ? `No ${k} with id ${v} in this project.` : `The lookup failed: ${e.message}`));
    }
  }
  if (id) show(kind, id);
  else input.focus();
}

function userCard(u, asked) {
  const fields = [
    ['user_id', h('span', { class: 'mono' }, u.user_id)],
    ['Internal id', h('span', { class: 'mono' }, u.id)],
    ['Email', u.email ?? '–'],
    ['Phone', u.phone ?? '–'],
    ['Company', u.company_id
      ? h('a', { href: `#/lookup?${new URLSearchParams({ company: u.company_id })}` }, u.company_id) : '–'],
    ['Aliases', u.aliases && u.aliases.length ? h('ul', { class: 'aliases' }, u.aliases.map((a) => h('li', { class: 'mono' }, a))) : 'none'],
    ['Created', time(u.created_at)],
    ['Updated', time(u.updated_at)],
  ];
  return h('section', { class: 'card', 'aria-labelledby': 'profile-title' },
    h('h2', { id: 'profile-title' }, 'User ', h('span', { class: 'mono' }, u.user_id)),
    asked !== u.user_id ? h('p', { class: 'hint' }, `${asked} is an alias of this user.`) : null,
    h('dl', { class: 'fields' }, fields.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    h('h3', {}, 'Properties'), propertyTable('Properties', u.properties),
    h('h3', {}, 'Origin'), propertyTable('Origin', u.origin));
}

function companyCard(c) {
  return h('section', { class: 'card', 'aria-labelledby': 'profile-title' },
    h('h2', { id: 'profile-title' }, 'Company ', h('span', { class: 'mono' }, c.company_id)),
    h('dl', { class: 'fields' }, [['Created', time(c.created_at)], ['Updated', time(c.updated_at)]]
      .map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    h('h3', {}, 'Properties'), propertyTable('Properties', c.properties));
}
