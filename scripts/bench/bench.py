#!/usr/bin/env python3
"""profiled's benchmark suite: each figure next to a baseline measured in the same run.

Called by scripts/bench/run, which installs wrk and nginx, builds profiled (Release) and the
SQLite baseline. Usage: bench.py --binary build/bin/profiled --baseline BIN --schema SQL [--only NAME...]
"""
import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NGINX_PORT = 18080
WRK_CONNECTIONS = 64
WRK_SECONDS = 15


def log(msg):
    """Prints one progress line to stderr."""
    print(msg, file=sys.stderr, flush=True)


def random_id(rng, n=12):
    """A random user id in random order, as real clients send."""
    return "u_" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def make_users_file(path, rows, seed):
    """Writes `rows` users with 8 metadata fields as NDJSON (about 200 bytes a row)."""
    rng = random.Random(seed)
    plans = ["free", "starter", "pro", "enterprise"]
    with open(path, "w") as f:
        for i in range(rows):
            row = {
                "user_id": random_id(rng),
                "metadata": {
                    "name": "User %d" % i,
                    "email": "user%d@example.com" % i,
                    "plan": rng.choice(plans),
                    "seats": rng.randint(1, 500),
                    "active": rng.random() < 0.8,
                    "score": round(rng.random() * 100, 3),
                    "country": rng.choice(["DE", "US", "FR", "JP", "BR"]),
                    "signed_up": "2026-%02d-%02dT10:00:00Z" % (rng.randint(1, 12), rng.randint(1, 28)),
                },
            }
            f.write(json.dumps(row, separators=(",", ":")) + "\n")
    return os.path.getsize(path)


class Daemon:
    """A profiled process on its own data directory and port, with a secret key."""

    def __init__(self, binary, data_dir, extra=()):
        self.binary = binary
        self.data_dir = data_dir
        self.extra = list(extra)
        os.makedirs(data_dir, exist_ok=True)
        self.key = subprocess.check_output(
            [binary, "keys", "create", "--data-dir", data_dir, "--project", "default", "--kind", "secret"],
            text=True).strip()
        self.proc = None
        self.port = None

    def start(self):
        """Starts the daemon on an ephemeral port and waits for server.ready."""
        self.log_path = os.path.join(self.data_dir, "daemon.log")
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", self.data_dir, "--log-format", "json"]
            + self.extra, stdout=subprocess.DEVNULL, stderr=self.log_file)
        deadline = time.time() + 30
        while time.time() < deadline:
            with open(self.log_path) as f:
                for line in f:
                    event = json.loads(line)
                    if event.get("event") == "server.ready":
                        self.port = int(event["port"])
                        return self
            time.sleep(0.05)
        raise RuntimeError("profiled did not become ready")

    def stop(self):
        """SIGTERM and wait."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(60)
        self.log_file.close()

    def peak_rss_mb(self):
        """The process's peak resident memory (VmHWM) in MiB."""
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
        return float("nan")

    def request(self, method, path, body=None, headers=None):
        """One HTTP request with the secret key; returns (status, parsed JSON body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        h = {"Authorization": "Token " + self.key}
        h.update(headers or {})
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, (json.loads(data) if data else None)

    def upload(self, path, kind="users"):
        """Streams a multipart upload of the NDJSON file; returns (seconds from first byte to answer, job)."""
        boundary = "benchboundary%d" % random.randint(0, 10**9)
        head = ('--%s\r\nContent-Disposition: form-data; name="file"; filename="%s"\r\n'
                'Content-Type: application/x-ndjson\r\n\r\n' % (boundary, os.path.basename(path))).encode()
        tail = ("\r\n--%s--\r\n" % boundary).encode()
        length = len(head) + os.path.getsize(path) + len(tail)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        conn.connect()
        start = time.perf_counter()
        conn.putrequest("POST", "/v1/%s/bulk_identify" % kind)
        conn.putheader("Authorization", "Token " + self.key)
        conn.putheader("Content-Type", "multipart/form-data; boundary=" + boundary)
        conn.putheader("Content-Length", str(length))
        conn.endheaders()
        conn.send(head)
        with open(path, "rb") as f:
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                conn.send(chunk)
        conn.send(tail)
        resp = conn.getresponse()
        body = resp.read()
        seconds = time.perf_counter() - start
        conn.close()
        if resp.status != 202:
            raise RuntimeError("upload answered %d: %s" % (resp.status, body[:300]))
        return seconds, json.loads(body)

    def wait_job(self, job_id, timeout=1800):
        """Polls the job until it ends; returns the final job object."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            _, job = self.request("GET", "/v1/background_jobs/" + job_id)
            if job["status"] in ("done", "failed"):
                return job
            time.sleep(0.05)
        raise RuntimeError("job %s did not finish" % job_id)


def run_baseline(baseline, schema, rows_file, work):
    """The bare SQLite figures for the rows file: insert and update rows per second."""
    db = os.path.join(work, "baseline.db")
    out = subprocess.check_output([baseline, "upsert", db, schema, rows_file], text=True)
    values = dict(line.split("=", 1) for line in out.split())
    return float(values["insert_rows_per_second"]), float(values["update_rows_per_second"])


def timed_job(daemon, rows_file, rows):
    """Uploads the file, waits for done; returns (rows/s from first byte to done, upload seconds, job)."""
    start = time.perf_counter()
    upload_seconds, job = daemon.upload(rows_file)
    job = daemon.wait_job(job["job_id"])
    seconds = time.perf_counter() - start
    if job["status"] != "done" or job["processed_rows"] != rows or job["failed_rows"] != 0:
        raise RuntimeError("job ended badly: %s" % job)
    return rows / seconds, upload_seconds, job


BULK_FLAGS = ["--rows-per-minute", "0", "--max-job-rows", "2000000", "--max-upload-bytes", "200000000"]


def bench_bulk(args, work, results):
    """1 and 3: bulk processing against the bare SQLite baseline, upload acceptance, peak RSS."""
    rows = args.bulk_rows
    rows_file = os.path.join(work, "users.ndjson")
    size = make_users_file(rows_file, rows, seed=1)
    log("bulk: %d rows, %.1f MB" % (rows, size / 1e6))
    base_insert, base_update = run_baseline(args.baseline, args.schema, rows_file, work)
    daemon = Daemon(args.binary, os.path.join(work, "bulk"), BULK_FLAGS).start()
    try:
        first, upload_seconds, _ = timed_job(daemon, rows_file, rows)
        second, _, _ = timed_job(daemon, rows_file, rows)
        rss = daemon.peak_rss_mb()
    finally:
        daemon.stop()
    results["bulk"] = [
        ("bulk insert pass, profiled rows/s", "%.0f" % first),
        ("bulk insert pass, bare SQLite rows/s", "%.0f" % base_insert),
        ("bulk insert pass, ratio (target >= 0.8)", "%.2f" % (first / base_insert)),
        ("bulk update pass, profiled rows/s", "%.0f" % second),
        ("bulk update pass, bare SQLite rows/s", "%.0f" % base_update),
        ("bulk update pass, ratio (target >= 0.8)", "%.2f" % (second / base_update)),
        ("upload of %.1f MB: first byte to 202, s (target <= 0.5)" % (size / 1e6), "%.3f" % upload_seconds),
        ("daemon peak RSS over the bulk benchmark, MB (target <= 64)", "%.1f" % rss),
    ]


def start_nginx(work):
    """nginx with one worker answering 202 to everything; returns the process."""
    prefix = os.path.join(work, "nginx")
    os.makedirs(prefix, exist_ok=True)
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""worker_processes 1;
daemon off;
pid %(p)s/nginx.pid;
error_log %(p)s/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path %(p)s/body;
  proxy_temp_path %(p)s/proxy;
  fastcgi_temp_path %(p)s/fastcgi;
  uwsgi_temp_path %(p)s/uwsgi;
  scgi_temp_path %(p)s/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:%(port)d;
    location / { return 202 '{}'; }
  }
}
""" % {"p": prefix, "port": NGINX_PORT})
    proc = subprocess.Popen(["nginx", "-c", conf, "-p", prefix], stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return proc


def run_wrk(url, script, headers=(), seconds=WRK_SECONDS):
    """Runs wrk with 64 keep-alive connections; returns req/s, p50 ms, p99 ms, errors."""
    cmd = ["wrk", "-t2", "-c%d" % WRK_CONNECTIONS, "-d%ds" % seconds, "--latency", "-s", script]
    for h in headers:
        cmd += ["-H", h]
    out = subprocess.check_output(cmd + [url], text=True)

    def millis(label):
        m = re.search(r"^\s+%s\s+([\d.]+)(us|ms|s)\s*$" % label, out, re.M)
        value = float(m.group(1))
        return value / 1000 if m.group(2) == "us" else value * 1000 if m.group(2) == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        errors += int(m.group(1))
    return rps, millis("50%"), millis("99%"), errors


def fsync_probe(work):
    """The disk's fdatasync latency (p50, p99 in ms): every acknowledged write waits for at least one."""
    path = os.path.join(work, "fsync-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    times = []
    for i in range(200):
        os.pwrite(fd, b"x" * 4096, (i % 16) * 4096)
        start = time.perf_counter()
        os.fdatasync(fd)
        times.append((time.perf_counter() - start) * 1000)
    os.close(fd)
    os.unlink(path)
    times.sort()
    return times[100], times[198]


def bench_identify(args, work, results, nginx_rps):
    """2: single identify with wrk against nginx answering 202."""
    daemon = Daemon(args.binary, os.path.join(work, "identify")).start()
    try:
        rps, p50, p99, errors = run_wrk(
            "http://127.0.0.1:%d/v1/identify" % daemon.port, os.path.join(HERE, "identify.lua"),
            ["Authorization: Token " + daemon.key])
        # Every 202 is a committed write: the users table holds as many distinct users as were answered.
        out = subprocess.check_output(
            ["sqlite3", os.path.join(daemon.data_dir, "profiled.db"), "SELECT count(*) FROM users"], text=True)
        stored = int(out.strip())
    finally:
        daemon.stop()
    sync50, sync99 = fsync_probe(work)
    results["identify"] = [
        ("disk fdatasync p50 / p99 ms (each 202 waits for one)", "%.2f / %.2f" % (sync50, sync99)),
        ("identify ceiling at 64 connections: 64 / fdatasync p50, req/s", "%.0f" % (WRK_CONNECTIONS * 1000 / sync50)),
        ("identify req/s", "%.0f" % rps),
        ("identify p50 / p99 ms (target p99 <= 5)", "%.2f / %.2f" % (p50, p99)),
        ("identify errors (target 0)", "%d" % errors),
        ("identify users stored after the run", "%d" % stored),
        ("identify ratio to nginx (target >= 0.6)", "%.2f" % (rps / nginx_rps)),
    ]


def bench_polling(args, work, results, nginx_rps):
    """4: GET /v1/background_jobs/{id} under wrk while unlimited jobs run."""
    rows_file = os.path.join(work, "users.ndjson")
    if not os.path.exists(rows_file):
        make_users_file(rows_file, args.bulk_rows, seed=1)
    daemon = Daemon(args.binary, os.path.join(work, "polling"), BULK_FLAGS).start()
    try:
        jobs = [daemon.upload(rows_file)[1]["job_id"] for _ in range(4)]
        rps, p50, p99, errors = run_wrk(
            "http://127.0.0.1:%d/v1/background_jobs/%s" % (daemon.port, jobs[0]), os.path.join(HERE, "get.lua"),
            ["Authorization: Token " + daemon.key], seconds=10)
        _, last = daemon.request("GET", "/v1/background_jobs/" + jobs[-1])
        still_running = last["status"] in ("queued", "running")
        for job_id in jobs:
            daemon.wait_job(job_id)
    finally:
        daemon.stop()
    results["polling"] = [
        ("status polling req/s during bulk jobs", "%.0f" % rps),
        ("status polling p50 / p99 ms (target p99 <= 5)", "%.2f / %.2f" % (p50, p99)),
        ("status polling errors", "%d" % errors),
        ("jobs still running when wrk ended", "yes" if still_running else "no (raise --bulk-rows)"),
        ("status polling ratio to nginx (target >= 0.5)", "%.2f" % (rps / nginx_rps)),
    ]


def bench_growth(args, work, results):
    """5: bulk rows/s with 10k, 100k and 1M users already stored."""
    rows = args.growth_rows
    rows_file = os.path.join(work, "growth.ndjson")
    make_users_file(rows_file, rows, seed=2)
    rates, base_rates = {}, {}
    for existing in (10_000, 100_000, 1_000_000):
        data_dir = os.path.join(work, "growth-%d" % existing)
        daemon = Daemon(args.binary, data_dir, BULK_FLAGS)
        db = os.path.join(data_dir, "profiled.db")
        subprocess.check_output([args.baseline, "preload", db, str(existing)])
        # The same database and rows for bare SQLite, to tell SQLite's own growth from profiled's.
        baseline_db = os.path.join(work, "growth-baseline.db")
        subprocess.check_output(["sqlite3", db, ".backup '%s'" % baseline_db])
        out = subprocess.check_output([args.baseline, "upsert", baseline_db, "-", rows_file], text=True)
        base_rates[existing] = float(dict(line.split("=", 1) for line in out.split())["insert_rows_per_second"])
        os.unlink(baseline_db)
        daemon.start()
        try:
            rates[existing] = timed_job(daemon, rows_file, rows)[0]
        finally:
            daemon.stop()
        shutil.rmtree(data_dir)
        log("growth: %d existing -> %.0f rows/s (bare SQLite %.0f)" % (existing, rates[existing], base_rates[existing]))
    results["growth"] = [("bulk rows/s with %d users stored (bare SQLite)" % n, "%.0f (%.0f)" % (r, base_rates[n]))
                         for n, r in rates.items()]
    results["growth"].append(("ratio 1M / 10k (target >= 0.8)", "%.2f" % (rates[1_000_000] / rates[10_000])))
    results["growth"].append(("bare SQLite ratio 1M / 10k, same rows", "%.2f" % (base_rates[1_000_000] / base_rates[10_000])))


def main():
    """Runs the chosen benchmarks and prints every figure."""
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--baseline", required=True)
    p.add_argument("--schema", required=True)
    p.add_argument("--bulk-rows", type=int, default=250_000)
    p.add_argument("--growth-rows", type=int, default=100_000)
    p.add_argument("--only", nargs="*", default=["bulk", "identify", "polling", "growth"])
    args = p.parse_args()
    work = tempfile.mkdtemp(prefix="profiled-bench-")
    results = {}
    nginx = None
    try:
        nginx_rps = None
        if "identify" in args.only or "polling" in args.only:
            nginx = start_nginx(work)
            nginx_rps, n50, n99, nerr = run_wrk("http://127.0.0.1:%d/v1/identify" % NGINX_PORT,
                                                os.path.join(HERE, "identify.lua"))
            results["nginx"] = [("nginx (1 worker, return 202) req/s", "%.0f" % nginx_rps),
                                ("nginx p50 / p99 ms", "%.2f / %.2f" % (n50, n99))]
            nginx.terminate()
            nginx.wait()
            nginx = None
        for name, fn in (("bulk", bench_bulk), ("identify", bench_identify), ("polling", bench_polling),
                         ("growth", bench_growth)):
            if name in args.only:
                log("running %s" % name)
                if name in ("identify", "polling"):
                    fn(args, work, results, nginx_rps)
                else:
                    fn(args, work, results)
    finally:
        if nginx:
            nginx.terminate()
        shutil.rmtree(work, ignore_errors=True)
    width = max(len(label) for rows in results.values() for label, _ in rows)
    for rows in results.values():
        for label, value in rows:
            print("%-*s  %s" % (width, label, value))
    return 0


if __name__ == "__main__":
    sys.exit(main())
