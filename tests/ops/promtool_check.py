#!/usr/bin/env python3
"""promtool's verdict on a real /metrics scrape.

Starts the built daemon on port 0 in a scratch data directory, makes some traffic (single writes, reads,
errors, a bulk job with an invalid row, a job that fails), scrapes GET /metrics and pipes it through
`promtool check metrics`, which must print nothing and exit 0.
Exits 77 (ctest's SKIP_RETURN_CODE) when promtool is not installed; scripts/install-deps installs it
(Debian package prometheus).

Usage: promtool_check.py PROFILED_BINARY
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request


def start_daemon(binary, data_dir):
    """Creates a secret key, starts `profiled serve` and returns (process, port, key, log path)."""
    key = subprocess.run([binary, "keys", "create", "--data-dir", data_dir, "--project", "default", "--kind",
                          "secret"], check=True, capture_output=True, text=True).stdout.strip()
    log_path = os.path.join(data_dir, "daemon.log")
    log = open(log_path, "w")
    proc = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir, "--log-format",
                             "json", "--rows-per-minute", "0"], stderr=log, stdout=subprocess.DEVNULL)
    deadline = time.time() + 20
    while time.time() < deadline:
        with open(log_path) as f:
            for line in f:
                event = json.loads(line)
                if event.get("event") == "server.ready":
                    return proc, event["port"], key, log_path
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    proc.kill()
    sys.exit("profiled did not become ready:\n" + open(log_path).read())


def call(port, method, path, body=None, headers=None):
    """One HTTP request; returns (status, body text)."""
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                     headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def wait_for_job(port, auth, job_id):
    """Polls the job until it ends; returns its status."""
    deadline = time.time() + 30
    while time.time() < deadline:
        status, body = call(port, "GET", f"/v1/background_jobs/{job_id}", headers=auth)
        job = json.loads(body)
        if job["status"] in ("done", "failed"):
            return job["status"]
        time.sleep(0.02)
    sys.exit(f"job {job_id} did not end")


def make_traffic(port, key):
    """Requests of every kind the metrics count, and two bulk jobs (one done, one failed)."""
    auth = {"Authorization": f"Token {key}"}
    write = dict(auth, **{"Content-Type": "application/json", "X-API-Version": "2020-09-22"})
    for i in range(5):
        assert call(port, "POST", "/v1/identify", json.dumps({"user_id": f"p{i}", "metadata": {"i": i}}),
                    write)[0] == 202
    assert call(port, "POST", "/v1/companies/identify", json.dumps({"company_id": "c1"}), write)[0] == 202
    assert call(port, "GET", "/v1/users/p1", headers=auth)[0] == 200
    assert call(port, "GET", "/v1/users/missing", headers=auth)[0] == 404
    assert call(port, "GET", "/v1/users/p1")[0] == 401
    assert call(port, "POST", "/v1/identify", "{not json", write)[0] == 400
    assert call(port, "GET", "/no/such/route")[0] == 404
    rows = [{"user_id": f"b{i}", "metadata": {"i": i}} for i in range(20)] + [{"metadata": {}}]
    status, body = call(port, "POST", "/v1/users/bulk_identify", json.dumps({"users": rows}), write)
    assert status == 202, body
    assert wait_for_job(port, auth, json.loads(body)["job_id"]) == "done"
    status, body = call(port, "POST", "/v1/users/bulk_identify", json.dumps({"users": [{"metadata": {}}]}), write)
    assert status == 202, body
    assert wait_for_job(port, auth, json.loads(body)["job_id"]) == "failed"
    assert call(port, "GET", "/v1/background_jobs", headers=auth)[0] == 200


def main():
    binary = sys.argv[1]
    promtool = shutil.which("promtool")
    if promtool is None:
        print("SKIP: promtool is not installed (Debian package prometheus; scripts/install-deps installs it)")
        return 77
    with tempfile.TemporaryDirectory(prefix="profiled-promtool-") as data_dir:
        proc, port, key, log_path = start_daemon(binary, data_dir)
        try:
            make_traffic(port, key)
            status, scrape = call(port, "GET", "/metrics")
            assert status == 200
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=30)
        if code != 0:
            sys.exit(f"profiled exited with {code}:\n" + open(log_path).read())
    check = subprocess.run([promtool, "check", "metrics"], input=scrape, capture_output=True, text=True)
    verdict = (check.stdout + check.stderr).strip()
    families = sum(1 for line in scrape.splitlines() if line.startswith("# TYPE "))
    if check.returncode != 0 or verdict:
        print(scrape)
        print(f"FAIL: promtool check metrics (exit {check.returncode}):\n{verdict}")
        return 1
    print(f"ok: promtool check metrics accepts the scrape ({families} families, {len(scrape)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
