#!/usr/bin/env python3
"""Schema agreement: the JSON Schemas in schemas/json/ and the daemon's own validation must never drift apart.

Every fixture under tests/fixtures/requests/<endpoint>/{valid,invalid}/ is checked twice: against the
endpoint's JSON Schema with an independent validator (python3-jsonschema), and by sending it to a real
profiled on port 0. A valid fixture must pass the schema and get a 2xx; an invalid one must fail the schema
and get a 4xx. Bulk row fixtures are not requests of their own: here they meet the schema only, and
tests/unit/request_fixtures_test.cpp gives the same files to the C++ row parser.

Usage: schema_agreement.py PROFILED_BINARY [REPO_ROOT]
"""

import http.client
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import jsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

# endpoint directory -> (schema file, method and path, how the key is sent); path None means "schema only".
ENDPOINTS = {
    "identify": ("identify.schema.json", "/v1/identify", "header"),
    "companies_identify": ("company_identify.schema.json", "/v1/companies/identify", "header"),
    "users": ("users.schema.json", "/v1/users", "header"),
    "users_bulk_identify": ("bulk_users.schema.json", "/v1/users/bulk_identify", "header"),
    "companies_bulk_identify": ("bulk_companies.schema.json", "/v1/companies/bulk_identify", "header"),
    "public_identify": ("public_identify.schema.json", "/public/identify", "body"),
    "public_people_set": ("public_people_set.schema.json", "/public/people/set", "body"),
    "public_alias": ("public_alias.schema.json", "/public/alias", "body"),
    "bulk_user_row": ("bulk_user_row.schema.json", None, None),
    "bulk_company_row": ("bulk_company_row.schema.json", None, None),
}

# Endpoints that DESIGN.md lists and schemas/openapi.yaml must describe.
DESIGN_ENDPOINTS = [
    ("post", "/v1/identify"), ("post", "/v1/companies/identify"), ("post", "/v1/users/bulk_identify"),
    ("post", "/v1/companies/bulk_identify"), ("get", "/v1/background_jobs"), ("get", "/v1/background_jobs/{job_id}"),
    ("get", "/v1/background_jobs/{job_id}/errors"), ("post", "/v1/users"), ("get", "/v1/users/{user_id}"),
    ("get", "/v1/companies/{company_id}"), ("post", "/public/identify"), ("post", "/public/people/set"),
    ("post", "/public/alias"), ("get", "/healthz"), ("get", "/readyz"), ("get", "/metrics"),
]


# profiled's keyword for a limit in bytes of UTF-8, which maxLength (characters) cannot state.
def utf8_max_bytes(validator, limit, instance, schema):
    if isinstance(instance, str) and len(instance.encode("utf-8")) > limit:
        yield ValidationError(f"{instance[:20]!r}... is longer than {limit} bytes of UTF-8")


# profiled's keyword for fields that must not hold the same value.
def distinct_fields(validator, fields, instance, schema):
    if not isinstance(instance, dict) or not all(f in instance for f in fields):
        return
    values = [instance[f] for f in fields]
    if all(isinstance(v, str) for v in values) and len(set(values)) < len(values):
        yield ValidationError(f"{', '.join(fields)} must be different")


ProfiledValidator = jsonschema.validators.extend(
    Draft202012Validator, {"x-utf8-max-bytes": utf8_max_bytes, "x-distinct-fields": distinct_fields})


# Loads every schema and returns a factory of validators that resolve refs between the files by name.
def load_validators(schema_dir):
    schemas = {p.name: json.loads(p.read_text()) for p in sorted(schema_dir.glob("*.schema.json"))}
    for name, schema in schemas.items():
        Draft202012Validator.check_schema(schema)
    try:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012
        registry = Registry().with_resources(
            (name, Resource(contents=s, specification=DRAFT202012)) for name, s in schemas.items())
        return schemas, lambda name: ProfiledValidator(schemas[name], registry=registry)
    except ImportError:  # python3-jsonschema before 4.18 (Debian 12 ships 4.10)
        def make(name):
            resolver = jsonschema.RefResolver(base_uri=name, referrer=schemas[name], store=schemas)
            return ProfiledValidator(schemas[name], resolver=resolver)
        return schemas, make


# The schema's verdict on raw fixture bytes: None when valid, else the reason.
def schema_verdict(validator, raw):
    try:
        instance = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        return f"not JSON: {e}"
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    e = errors[0]
    return f"{'/'.join(str(p) for p in e.absolute_path) or '(body)'}: {e.message[:160]}"


class Daemon:
    """A profiled serving 127.0.0.1:0 from a temporary data directory."""

    def __init__(self, binary):
        self.binary = binary
        self.dir = tempfile.mkdtemp(prefix="profiled-schema-")
        self.secret_key = self.create_key("secret")
        self.public_key = self.create_key("public")
        self.log_path = os.path.join(self.dir, "daemon.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", self.dir, "--log-format", "json"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log)
        self.port = self.wait_ready()

    # Creates a key for project "default" with the CLI and returns it.
    def create_key(self, kind):
        out = subprocess.run([self.binary, "keys", "create", "--data-dir", self.dir, "--project", "default",
                              "--kind", kind], check=True, capture_output=True, text=True)
        return out.stdout.strip()

    # The port from the server.ready log line.
    def wait_ready(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for line in pathlib.Path(self.log_path).read_text(errors="replace").splitlines():
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if event.get("event") == "server.ready":
                    return int(event["port"])
            if self.proc.poll() is not None:
                raise RuntimeError("profiled exited during start-up:\n" + pathlib.Path(self.log_path).read_text())
            time.sleep(0.02)
        raise RuntimeError("profiled did not log server.ready")

    # Sends one request and returns (status, body).
    def post(self, path, body, headers):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("POST", path, body=body, headers=headers)
            reply = conn.getresponse()
            return reply.status, reply.read().decode("utf-8", errors="replace")
        finally:
            conn.close()

    # Stops the daemon with SIGTERM and removes its directory.
    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


# Sends a fixture as the dialect does: key in the header, or the placeholders in apiKey replaced.
def send(daemon, path, auth, raw):
    headers = {"Content-Type": "application/json"}
    if auth == "header":
        headers["Authorization"] = "Token " + daemon.secret_key
        headers["X-API-Version"] = "2020-09-22"
    else:
        raw = raw.replace(b"YOUR_SECRET_KEY", daemon.secret_key.encode()).replace(
            b"YOUR_PUBLIC_API_KEY", daemon.public_key.encode())
    return daemon.post(path, raw, headers)


# Checks that schemas/openapi.yaml parses, names every DESIGN endpoint and refers only to files that exist.
def check_openapi(repo):
    path = repo / "schemas" / "openapi.yaml"
    try:
        import yaml
    except ImportError:
        print("note: python3-yaml is not installed; schemas/openapi.yaml not checked")
        return []
    doc = yaml.safe_load(path.read_text())
    problems = []
    if not str(doc.get("openapi", "")).startswith("3.1"):
        problems.append("openapi.yaml: not OpenAPI 3.1")
    for method, route in DESIGN_ENDPOINTS:
        if method not in doc.get("paths", {}).get(route, {}):
            problems.append(f"openapi.yaml: {method.upper()} {route} is not described")

    def walk(node):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and not ref.startswith("#"):
                target = (path.parent / ref.split("#")[0]).resolve()
                if not target.is_file():
                    problems.append(f"openapi.yaml: $ref {ref} names no file")
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(doc)
    return problems


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    binary = sys.argv[1]
    repo = pathlib.Path(sys.argv[2]) if len(sys.argv) > 2 else pathlib.Path(__file__).resolve().parent.parent
    fixtures = repo / "tests" / "fixtures" / "requests"
    schemas, validator_for = load_validators(repo / "schemas" / "json")

    problems = check_openapi(repo)
    for name in sorted(schemas):
        if name != "common.schema.json" and name not in {v[0] for v in ENDPOINTS.values()}:
            problems.append(f"{name}: no fixtures exercise this schema")
    for endpoint in sorted(p.name for p in fixtures.iterdir()):
        if endpoint not in ENDPOINTS:
            problems.append(f"fixtures/{endpoint}: unknown endpoint directory")

    daemon = Daemon(binary)
    checked = skipped = 0
    try:
        for endpoint, (schema_name, path, auth) in ENDPOINTS.items():
            validator = validator_for(schema_name)
            for verdict in ("valid", "invalid"):
                files = sorted((fixtures / endpoint / verdict).glob("*.json"))
                if not files:
                    problems.append(f"{endpoint}/{verdict}: no fixtures")
                for f in files:
                    name = f"{endpoint}/{verdict}/{f.name}"
                    raw = f.read_bytes()
                    reason = schema_verdict(validator, raw)
                    if verdict == "valid" and reason:
                        problems.append(f"{name}: the schema refuses it ({reason})")
                    if verdict == "invalid" and not reason:
                        problems.append(f"{name}: the schema accepts it")
                    checked += 1
                    if path is None:
                        continue
                    status, body = send(daemon, path, auth, raw)
                    if status == 404 and '"route_not_found"' in body:
                        skipped += 1
                        print(f"SKIP {name}: {path} is not served by this build yet")
                        continue
                    if verdict == "valid" and not 200 <= status < 300:
                        problems.append(f"{name}: the daemon answered {status} {body[:200]}")
                    if verdict == "invalid" and not 400 <= status < 500:
                        problems.append(f"{name}: the daemon answered {status} {body[:200]}")
    finally:
        daemon.stop()

    for p in problems:
        print("DISAGREE " + p)
    print(f"{checked} fixtures checked against the schemas, {skipped} not sent (route missing), "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
