// The daemon's API as the console uses it: the secret key from sessionStorage as a Bearer token, JSON answers,
// and the common error body turned into an ApiError with its first message.

const storageName = 'profiled.secret_key';

// The key this tab signed in with, or null.
export function currentKey() {
  return sessionStorage.getItem(storageName);
}

export function rememberKey(key) {
  sessionStorage.setItem(storageName, key);
}

export function forgetKey() {
  sessionStorage.removeItem(storageName);
}

// A refusal from the API: HTTP status, error_code and message of the common error body.
export class ApiError extends Error {
  constructor(status, body, fallback) {
    const first = body && Array.isArray(body.errors) && body.errors[0];
    super(first && first.message ? first.message : fallback || `HTTP ${status}`);
    this.status = status;
    this.code = first ? first.error_code : null;
  }
}

// Called when the key is refused (401): the app goes back to sign-in.
let onUnauthorized = () => {};
export function whenUnauthorized(callback) {
  onUnauthorized = callback;
}

async function parse(response) {
  const text = await response.text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

// A JSON request with the given key (default: the signed-in one); the parsed answer, or an ApiError.
export async function request(path, { method = 'GET', body, key = currentKey(), signal } = {}) {
  const headers = { Authorization: `Bearer ${key}`, Accept: 'application/json' };
  const init = { method, headers, signal, cache: 'no-store', credentials: 'omit' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, null, 'The daemon cannot be reached.');
  }
  const data = await parse(response);
  if (!response.ok) {
    const error = new ApiError(response.status, data, response.statusText);
    if (response.status === 401 && key === currentKey()) onUnauthorized(error);
    throw error;
  }
  return data;
}

// A path with its query: path('/v1/x', {a: 1, b: null}) -> '/v1/x?a=1'.
export function path(base, query = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `${base}?${s}` : base;
}

// Sends a bulk file: NDJSON as multipart (field "file", the name kept), a .json document as its own body.
// onProgress(sentBytes, totalBytes) while it goes up; resolves to the job object.
export function uploadFile(type, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/v1/${type}/bulk_identify`);
    xhr.setRequestHeader('Authorization', `Bearer ${currentKey()}`);
    xhr.responseType = 'text';
    xhr.upload.addEventListener('progress', (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size));
    xhr.addEventListener('load', () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, data, xhr.statusText));
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, null, 'The upload was cut off.')));
    xhr.addEventListener('abort', () => reject(new ApiError(0, null, 'The upload was cancelled.')));
    if (/\.json$/i.test(file.name)) {
      xhr.setRequestHeader('Content-Type', 'application/json');
      xhr.send(file);
    } else {
      const form = new FormData();
      form.append('file', file, file.name);
      xhr.send(form);
    }
  });
}
