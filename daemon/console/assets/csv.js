// Row errors as CSV (RFC 4180), with cells that a spreadsheet would run as a formula made inert.

// One cell: quoted when it holds a comma, quote or line break; a leading = + - @ (not a plain number) gets a '.
export function csvCell(value) {
  let s = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(s) && !/^[+-]?\d+(\.\d+)?$/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

// One line of cells, CRLF-terminated.
export function csvLine(cells) {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

// Saves text as a file download.
export function download(filename, text, type = 'text/csv;charset=utf-8') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
