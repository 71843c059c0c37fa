// Building the page: every piece of data goes in as text (textContent / attributes), never as HTML.

// An element: h('a', {href: '#/jobs', class: 'x'}, 'text', child, ...). Attribute values and strings are text.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

// Appends strings (as text nodes), nodes and arrays of either.
export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// Replaces everything inside el.
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// A table inside a keyboard-scrollable region: columns [{label, cell(row) -> node or text}].
export function table(caption, columns, rows, empty = 'Nothing here.') {
  const head = h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)));
  const body = rows.length
    ? rows.map((r) => h('tr', {}, columns.map((c) => h('td', { class: c.class, 'data-label': c.label }, c.cell(r)))))
    : [h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, empty))];
  return h('div', { class: 'table-wrap', role: 'region', 'aria-label': caption, tabindex: 0 },
    h('table', {}, h('caption', { class: 'visually-hidden' }, caption), h('thead', {}, head), h('tbody', {}, body)));
}

// Says text to screen readers (the page's polite live region).
export function announce(text) {
  const el = document.getElementById('announcer');
  if (el) el.textContent = text;
}

// Runs draw(), which rebuilds part of container, keeping keyboard focus on the element with the same
// data-focus-key afterwards (or, when that one is now disabled, on another of its data-focus-group).
export function keepingFocus(container, draw) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.dataset.focusKey : null;
  const group = key ? active.dataset.focusGroup : null;
  draw();
  if (!key) return;
  const same = container.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);
  if (same && !same.disabled) {
    same.focus();
    return;
  }
  const other = group && [...container.querySelectorAll(`[data-focus-group="${CSS.escape(group)}"]`)].find((e) => !e.disabled);
  if (other) other.focus();
}
