// The real profiled daemon for the browser tests: a temporary data directory, keys made with `profiled keys
// create`, `profiled serve` on 127.0.0.1 port 0, the port read back from its server.ready log line.
import { fileURLToPath } from 'node:url';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export const binary = process.env.PROFILED_BINARY || resolve(fileURLToPath(new URL('.', import.meta.url)), '../../build/bin/profiled');

// A key of the project, from the CLI (on the data directory, before the daemon starts).
function createKey(dataDir, project, kind) {
  return execFileSync(binary, ['keys', 'create', '--data-dir', dataDir, '--project', project, '--kind', kind],
    { encoding: 'utf8' }).trim();
}

// Starts a daemon; extraArgs are more serve flags. Resolves to {url, secretKey, publicKey, api(), stop()}.
export async function startDaemon(extraArgs = []) {
  const dataDir = mkdtempSync(join(tmpdir(), 'profiled-browser-'));
  const secretKey = createKey(dataDir, 'default', 'secret');
  const publicKey = createKey(dataDir, 'default', 'public');
  const child = spawn(binary, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--log-format', 'json',
    ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
  const log = [];
  const port = await new Promise((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`profiled did not become ready:\n${log.join('\n')}`)), 20000);
    createInterface({ input: child.stderr }).on('line', (line) => {
      log.push(line);
      try {
        const event = JSON.parse(line);
        if (event.event === 'server.ready') {
          clearTimeout(timer);
          resolvePort(event.port);
        }
      } catch { /* not a JSON line */ }
    });
    child.on('exit', (code) => reject(new Error(`profiled exited (${code}) during start-up:\n${log.join('\n')}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    secretKey,
    publicKey,
    log,
    // A JSON call with the secret key: {status, headers, body}.
    async api(method, path, body, headers = {}) {
      const init = { method, headers: { Authorization: `Token ${secretKey}`, ...headers } };
      if (body !== undefined) {
        init.headers['Content-Type'] ??= 'application/json';
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
      }
      const r = await fetch(url + path, init);
      const text = await r.text();
      let json = null;
      try { json = JSON.parse(text); } catch { /* not JSON */ }
      return { status: r.status, headers: r.headers, body: json, text };
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
