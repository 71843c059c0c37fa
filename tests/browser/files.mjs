// Test data: NDJSON files with good and bad rows, and a small CSV reader for the downloaded errors.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Writes lines to a fresh temporary file named name; returns its path.
export function writeTempFile(name, text) {
  const path = join(mkdtempSync(join(tmpdir(), 'profiled-browser-file-')), name);
  writeFileSync(path, text);
  return path;
}

// count users: every other row from the second is bad (a nested metadata value); one bad row has a user_id
// with a comma, quotes and a formula-like start, another is not JSON at all. Returns {text, bad}.
export function usersWithBadRows(count) {
  const lines = [];
  let bad = 0;
  for (let i = 1; i <= count; i++) {
    if (i === 4) {
      lines.push('this line is not JSON');
      bad++;
    } else if (i === 6) {
      lines.push(JSON.stringify({ user_id: '=HYPERLINK("x"), "quoted"', metadata: { plan: { nested: true } } }));
      bad++;
    } else if (i % 2 === 0) {
      lines.push(JSON.stringify({ user_id: `bad_${i}`, metadata: { plan: { nested: i } } }));
      bad++;
    } else {
      lines.push(JSON.stringify({ user_id: `user_${i}`, metadata: { plan: 'pro', seats: i } }));
    }
  }
  return { text: `${lines.join('\n')}\n`, bad };
}

// count good user rows.
export function goodUsers(count, prefix = 'user') {
  const lines = [];
  for (let i = 1; i <= count; i++) lines.push(JSON.stringify({ user_id: `${prefix}_${i}`, metadata: { n: i } }));
  return `${lines.join('\n')}\n`;
}

// RFC 4180 CSV text -> rows of cells.
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell); rows.push(row); row = []; cell = ''; i++;
    } else cell += c;
  }
  if (cell || row.length) { row.push(cell); rows.push(row); }
  return rows;
}
