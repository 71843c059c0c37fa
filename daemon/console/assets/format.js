// Numbers, sizes, times and durations as people read them.

const numbers = new Intl.NumberFormat('en');

// 12,345
export function count(n) {
  return n === null || n === undefined ? '–' : numbers.format(n);
}

// 1.4 MB
export function bytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KB', 'MB', 'GB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

// 2m 05s, 1h 02m, 4.2s
export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

// 2026-12-03 13:17:49 UTC (the API's RFC 3339 times, kept in UTC like the logs)
export function time(rfc3339) {
  if (!rfc3339) return '–';
  return rfc3339.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC');
}

// "3 minutes ago"
export function ago(rfc3339, now = Date.now()) {
  if (!rfc3339) return '';
  const s = Math.max(0, (now - Date.parse(rfc3339)) / 1000);
  if (s < 60) return `${Math.round(s)}s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}
