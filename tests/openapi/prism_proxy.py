#!/usr/bin/env python3
"""Prism (@stoplight/prism-cli) as a validating proxy in front of a real profiled: it must be listening within
10 s of its start (wall clock), and report no violation of schemas/openapi.yaml over the integration corpus.

The daemon is build/bin/profiled on port 0 with a temporary data directory and keys from the `keys` CLI. Through
Prism go: every request fixture (tests/fixtures/requests/*/valid and */invalid, sent as tests/schema_agreement.py
sends them), the seed documents' request bodies (seed_examples.json), and requests meant to get each kind of
answer the description lists (jobs, pages, 401, 403, 404, 405 with Allow, 413, 415, 422, 429 with Retry-After,
an upload as multipart and as NDJSON, an idempotent replay, the operations routes). Prism's findings come back in
each answer's sl-violations header. The rule:
- no answer may violate the description (a status it does not list, a body or header that does not match);
- a valid fixture, a seed body and every request meant to be right must raise no request violation either;
- an invalid fixture that standard JSON Schema refuses (the profiled x- keywords aside) must raise a request
  violation: Prism and the description then refuse what the daemon refuses.

Usage: prism_proxy.py PROFILED_BINARY
"""

import http.client
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import re
import uuid

import yaml

from node_tools import OPENAPI, REPO, ensure_tools

sys.path.insert(0, str(REPO / "tests"))
import schema_agreement  # noqa: E402  (the corpus' endpoints, its daemon and how it sends them)

READY_WITHIN_S = 10.0
# Reads per second per key: the 429 probe's key goes over it; every other key stays well under.
READS_PER_SECOND = 5


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# CPU seconds (user + system) a process has used so far.
def cpu_seconds(pid):
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Prism:
    """prism proxy OPENAPI UPSTREAM on 127.0.0.1, violations reported in sl-violations (not as errors)."""

    def __init__(self, tools, upstream_port, log_path):
        self.port = free_port()
        self.log_path = log_path
        self.log = open(log_path, "wb")
        started = time.monotonic()
        self.proc = subprocess.Popen(
            [str(tools / "prism"), "proxy", str(OPENAPI), f"http://127.0.0.1:{upstream_port}", "--host", "127.0.0.1",
             "--port", str(self.port)],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.ready_after = self.wait_listening(started)
        self.cpu_seconds = cpu_seconds(self.proc.pid)

    # Seconds from the start until Prism says it is listening (it loads and resolves the description first).
    def wait_listening(self, started):
        deadline = started + 60
        while time.monotonic() < deadline:
            if "Prism is listening" in pathlib.Path(self.log_path).read_text(errors="replace"):
                return time.monotonic() - started
            if self.proc.poll() is not None:
                raise RuntimeError("prism exited during start-up:\n" + pathlib.Path(self.log_path).read_text())
            time.sleep(0.05)
        raise RuntimeError("prism was not listening after 60 s:\n" + pathlib.Path(self.log_path).read_text())

    # Sends one request through Prism: (status, headers in lower case, body, violations).
    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            reply = conn.getresponse()
            data = reply.read().decode("utf-8", errors="replace")
            got = {k.lower(): v for k, v in reply.getheaders()}
        finally:
            conn.close()
        violations = json.loads(got["sl-violations"]) if "sl-violations" in got else []
        return reply.status, got, data, violations

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


# A profiled like schema_agreement.Daemon, with a read rate limit and a third key for the 429 probe.
def start_daemon(binary):
    d = schema_agreement.Daemon.__new__(schema_agreement.Daemon)
    d.binary = binary
    d.dir = tempfile.mkdtemp(prefix="profiled-prism-")
    d.secret_key = d.create_key("secret")
    d.public_key = d.create_key("public")
    d.throttled_key = d.create_key("secret")
    d.log_path = os.path.join(d.dir, "daemon.log")
    d.log = open(d.log_path, "wb")
    d.proc = subprocess.Popen(
        [binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", d.dir, "--log-format", "json",
         "--rate-limit-reads", str(READS_PER_SECOND)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=d.log)
    d.port = d.wait_ready()
    return d


def where(v):
    return "/".join(str(p) for p in v.get("location", []))


def describe(violations):
    return "; ".join(f"{where(v)}: {v.get('message', '')[:160]}" for v in violations[:3])


# The response openapi.yaml gives for (method, path as sent, status), resolved; for a method the path does not
# have (a 405), that of any of its operations.
def described_response(doc, method, target, status):
    path = target.split("?", 1)[0]
    routes = [r for r in doc["paths"] if re.fullmatch(re.sub(r"\{[^/]+\}", "[^/]+", r), path)]
    routes.sort(key=lambda r: r.count("{"))  # /v1/users/bulk_identify before /v1/users/{user_id}
    if not routes:
        return None
    item = doc["paths"][routes[0]]
    ops = [item[method.lower()]] if method.lower() in item else list(item.values())
    for op in ops:
        response = op.get("responses", {}).get(str(status))
        while isinstance(response, dict) and "$ref" in response:
            response = doc["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        if response is not None:
            return response
    return None


class Replay:
    """Sends requests through Prism and collects what breaks the rule."""

    def __init__(self, prism, daemon):
        self.prism, self.daemon = prism, daemon
        self.doc = yaml.safe_load(OPENAPI.read_text())
        self.problems, self.sent, self.statuses = [], 0, set()

    # Prism checks the value of a header the description gives, not that a required one is there: this does.
    def missing_headers(self, method, path, status, headers):
        response = described_response(self.doc, method, path, status) or {}
        return [name for name, header in (response.get("headers") or {}).items()
                if header.get("required") and name.lower() not in headers]

    def auth(self, key=None):
        return {"Authorization": "Token " + (key or self.daemon.secret_key), "X-API-Version": "2020-09-22"}

    # Sends; checks the answer never violates the description and, if clean, the request neither.
    def check(self, name, method, path, body=None, headers=None, clean=True, status=None):
        got, reply_headers, data, violations = self.prism.request(method, path, body, headers)
        self.sent += 1
        self.statuses.add(got)
        answers = [v for v in violations if v.get("location", [""])[0] == "response"]
        asks = [v for v in violations if v.get("location", [""])[0] != "response"]
        if answers:
            self.problems.append(f"{name}: the daemon's {got} answer violates openapi.yaml: {describe(answers)}")
        for header in self.missing_headers(method, path, got, reply_headers):
            self.problems.append(f"{name}: the daemon's {got} answer has no {header} header, which openapi.yaml "
                                 f"requires")
        if clean and asks:
            self.problems.append(f"{name}: Prism finds the request wrong: {describe(asks)}")
        if status is not None and got not in ([status] if isinstance(status, int) else status):
            self.problems.append(f"{name}: answered {got}, expected {status}: {data[:200]}")
        return got, reply_headers, data, asks


def replay_corpus(r):
    fixtures = REPO / "tests" / "fixtures" / "requests"
    schemas, _ = schema_agreement.load_validators(REPO / "schemas" / "json")
    registry_free = {}
    for endpoint, (schema_name, path, auth) in schema_agreement.ENDPOINTS.items():
        if path is None:
            continue  # bulk rows are not requests of their own
        method = schema_agreement.METHODS.get(endpoint, "POST")
        standard = standard_validator(schemas, schema_name, registry_free)
        for verdict in ("valid", "invalid"):
            for f in sorted((fixtures / endpoint / verdict).glob("*.json")):
                raw = f.read_bytes()
                headers = {"Content-Type": "application/json"}
                if auth == "header":
                    headers.update(r.auth())
                else:
                    raw = raw.replace(b"YOUR_SECRET_KEY", r.daemon.secret_key.encode()).replace(
                        b"YOUR_PUBLIC_API_KEY", r.daemon.public_key.encode())
                name = f"{endpoint}/{verdict}/{f.name}"
                if verdict == "valid":
                    r.check(name, method, path, raw, headers, clean=True, status=range(200, 300))
                    continue
                got, _, _, asks = r.check(name, method, path, raw, headers, clean=False, status=range(400, 500))
                if not asks and refused_by_standard_schema(standard, raw):
                    r.problems.append(f"{name}: JSON Schema refuses it but Prism raised no request violation")


# A validator of the JSON Schema file without profiled's own keywords: what any standard tool checks.
def standard_validator(schemas, name, cache):
    from jsonschema import Draft202012Validator
    try:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012
        registry = Registry().with_resources(
            (n, Resource(contents=s, specification=DRAFT202012)) for n, s in schemas.items())
        return Draft202012Validator(schemas[name], registry=registry)
    except ImportError:  # python3-jsonschema before 4.18
        import jsonschema
        resolver = jsonschema.RefResolver(base_uri=name, referrer=schemas[name], store=schemas)
        return Draft202012Validator(schemas[name], resolver=resolver)


def refused_by_standard_schema(validator, raw):
    try:
        instance = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return False  # not JSON: Prism may or may not parse it; the daemon's 400 is checked as an answer
    return next(iter(validator.iter_errors(instance)), None) is not None


def replay_seeds(r):
    seeds = json.loads((pathlib.Path(__file__).parent / "seed_examples.json").read_text())
    for name, seed in seeds.items():
        if name.startswith("$"):
            continue
        raw = json.dumps(seed["body"]).replace("YOUR_SECRET_KEY", r.daemon.secret_key).replace(
            "YOUR_PUBLIC_API_KEY", r.daemon.public_key)
        headers = {"Content-Type": "application/json"}
        if not seed["path"].startswith("/public/"):
            headers.update(r.auth())
        r.check(f"seed {name}", seed["method"], seed["path"], raw, headers, status=range(200, 300))


def replay_answers(r):
    json_auth = {**r.auth(), "Content-Type": "application/json"}
    rows = '{"user_id":"prism_1","metadata":{"plan":"pro"}}\n{"user_id":"prism_2","metadata":{"plan":["bad"]}}\n'
    # A bulk job, then its status, its row errors and the job list.
    _, _, data, _ = r.check("bulk NDJSON upload", "POST", "/v1/users/bulk_identify", rows,
                            {**r.auth(), "Content-Type": "application/x-ndjson"}, status=202)
    job_id = json.loads(data).get("job_id", "none")
    boundary = "prism" + uuid.uuid4().hex
    multipart = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"rows.ndjson\"\r\n"
                 f"Content-Type: application/x-ndjson\r\n\r\n{rows}\r\n--{boundary}--\r\n")
    multipart_headers = {**r.auth(), "Content-Type": f"multipart/form-data; boundary={boundary}",
                         "Idempotency-Key": "prism-" + boundary}
    r.check("bulk multipart upload", "POST", "/v1/users/bulk_identify", multipart, multipart_headers, status=202)
    r.check("bulk multipart upload again (replay)", "POST", "/v1/users/bulk_identify", multipart,
            multipart_headers, status=200)
    r.check("the same Idempotency-Key on the companies route", "POST", "/v1/companies/bulk_identify",
            '{"companies":[{"company_id":"c1"}]}', {**json_auth, "Idempotency-Key": "prism-" + boundary},
            status=422)
    r.check("one job", "GET", f"/v1/background_jobs/{job_id}", headers=r.auth(), status=200)
    r.check("the job's row errors", "GET", f"/v1/background_jobs/{job_id}/errors?limit=10", headers=r.auth(),
            status=200)
    r.check("the job list", "GET", "/v1/background_jobs?status=queued&limit=5", headers=r.auth(), status=200)
    time.sleep(1.0)  # the key's read bucket refills
    r.check("a user", "GET", "/v1/users/user_123", headers=r.auth(), status=200)
    r.check("a company", "GET", "/v1/companies/company_001", headers=r.auth(), status=200)
    r.check("a user page", "GET", "/v1/users?limit=2", headers=r.auth(), status=200)
    r.check("a company page", "GET", "/v1/companies?limit=2&updated_since=2000-01-01T00:00:00Z", headers=r.auth(),
            status=200)
    r.check("an unknown user", "GET", "/v1/users/nobody_here", headers=r.auth(), status=404)
    time.sleep(1.0)
    r.check("an unknown job", "GET", f"/v1/background_jobs/{uuid.uuid4()}", headers=r.auth(), status=404)
    r.check("a bad page size", "GET", "/v1/users?limit=0", headers=r.auth(), clean=False, status=400)
    # Refusals of the HTTP layer and of the key.
    r.check("no key", "POST", "/v1/identify", '{"user_id":"u"}',
            {"Content-Type": "application/json", "X-API-Version": "2020-09-22"}, clean=False, status=401)
    r.check("a public key on /v1", "POST", "/v1/identify", '{"user_id":"u"}',
            {**json_auth, "Authorization": "Token " + r.daemon.public_key}, status=403)
    r.check("a public key on /public/alias", "POST", "/public/alias",
            json.dumps({"apiKey": r.daemon.public_key, "alias_id": "a1", "original_id": "a2"}),
            {"Content-Type": "application/json"}, status=403)
    r.check("an alias cycle", "POST", "/public/alias",
            json.dumps({"apiKey": r.daemon.secret_key, "alias_id": "anon_456", "original_id": "user_123"}),
            {"Content-Type": "application/json"}, status=409)
    r.check("a wrong method", "PUT", "/v1/users/user_123", '{}', json_auth, clean=False, status=405)
    r.check("a wrong method on a People API route", "GET", "/public/alias", clean=False, status=405)
    r.check("not JSON", "POST", "/v1/identify", "user_id=u", {**r.auth(), "Content-Type": "text/plain"},
            clean=False, status=415)
    r.check("broken JSON", "POST", "/v1/identify", '{"user_id":', json_auth, clean=False, status=400)
    r.check("over --max-body-bytes", "POST", "/v1/identify",
            json.dumps({"user_id": "big", "metadata": {"blob": "x" * (1024 * 1024 + 16)}}), json_auth, status=413)
    r.check("a single erasure", "DELETE", "/v1/users/prism_1", headers=r.auth(), status=[204, 404])
    r.check("a bulk erasure", "DELETE", "/v1/companies", '{"companies":["comp001","nothing"]}', json_auth, status=200)
    r.check("healthz", "GET", "/healthz", status=200)
    r.check("readyz", "GET", "/readyz", status=200)
    r.check("metrics", "GET", "/metrics", status=200)
    # Over the read rate of one key: 429 with Retry-After, and the other keys unaffected.
    throttled = 0
    for i in range(READS_PER_SECOND * 3):
        got, headers, _, _ = r.check(f"read {i + 1} of the throttled key", "GET", "/v1/users?limit=1",
                                     headers=r.auth(r.daemon.throttled_key), status=[200, 429])
        throttled += got == 429
    if throttled == 0:
        r.problems.append(f"{READS_PER_SECOND * 3} reads in a row never got a 429 (--rate-limit-reads)")


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    tools = ensure_tools()
    daemon = start_daemon(sys.argv[1])
    prism = None
    try:
        prism = Prism(tools, daemon.port, os.path.join(daemon.dir, "prism.log"))
        r = Replay(prism, daemon)
        # Judged by the wall clock, as an operator or a CI job waits for it. Idle it needs about 3 s (3.6 s of
        # CPU); under ctest -j2 one other test shares the two cores with it.
        if prism.ready_after > READY_WITHIN_S:
            r.problems.append(f"prism took {prism.ready_after:.1f} s to start listening (more than "
                              f"{READY_WITHIN_S:.0f} s; {prism.cpu_seconds:.1f} s of CPU)")
        replay_corpus(r)
        replay_seeds(r)
        replay_answers(r)
        if prism.proc.poll() is not None:
            r.problems.append("prism exited during the replay")
    except Exception:
        if prism is not None:
            print(pathlib.Path(prism.log_path).read_text(errors="replace")[-4000:])
        raise
    finally:
        if prism is not None:
            prism.stop()
        daemon.stop()
    for p in r.problems:
        print("VIOLATION " + p)
    print(f"prism listening after {prism.ready_after:.2f} s ({prism.cpu_seconds:.2f} s of CPU, load average "
          f"{os.getloadavg()[0]:.1f}); {r.sent} requests replayed through it "
          f"(statuses {', '.join(str(s) for s in sorted(r.statuses))}); {len(r.problems)} problems")
    return 1 if r.problems else 0


if __name__ == "__main__":
    sys.exit(main())
