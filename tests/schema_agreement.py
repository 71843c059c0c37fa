#!/usr/bin/env python3
"""Schema agreement: the JSON Schemas in schemas/json/ and the daemon's own validation must never drift apart.

Every fixture under tests/fixtures/requests/<endpoint>/{valid,invalid}/ is checked twice: against the
endpoint's JSON Schema with an independent validator (python3-jsonschema), and by sending it to a real
profiled on port 0. A valid fixture must pass the schema and get a 2xx; an invalid one must fail the schema
and get a 4xx (each directory's requests go with its endpoint's method: DELETE for the bulk erasures, POST
for the rest). Bulk row fixtures are not requests of their own: here they meet the schema only, and
tests/unit/request_fixtures_test.cpp gives the same files to the C++ row parser. The webhook delivery body
(what profiled sends, not what it takes) meets its schema only too.

It also checks that the corpus tries every property each schema names (and each operation of
/public/people/set) absent and as every JSON type, and that schemas/openapi.yaml describes exactly the
routes daemon/**/*.cpp registers, lists the statuses each kind of route can answer with, and documents every
error_code the sources use. Last, the answers of a few requests (profile listings, erasures, a job and its
cancel, their errors) must have a status the route lists in schemas/openapi.yaml and a body matching that
status's schema, and a job answer must match schemas/json/job.schema.json.

Usage: schema_agreement.py PROFILED_BINARY [REPO_ROOT]
"""

import http.client
import json
import os
import pathlib
import re
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
    "users_delete": ("delete_users.schema.json", "/v1/users", "header"),
    "companies_delete": ("delete_companies.schema.json", "/v1/companies", "header"),
    "webhooks": ("webhook.schema.json", "/v1/webhooks", "header"),
    "webhook_delivery": ("webhook_delivery.schema.json", None, None),
    "bulk_user_row": ("bulk_user_row.schema.json", None, None),
    "bulk_company_row": ("bulk_company_row.schema.json", None, None),
}

# Response schemas under schemas/json/ (no request fixtures): the answers of these (method, route) pairs with a 2xx
# must match them, besides openapi.yaml's schema for the status.
RESPONSE_SCHEMAS = {
    "job.schema.json": {("GET", "/v1/background_jobs/{job_id}"), ("POST", "/v1/background_jobs/{job_id}/cancel"),
                        ("POST", "/v1/users/bulk_identify")},
}

# The method a fixture directory's requests are sent with, when not POST.
METHODS = {"users_delete": "DELETE", "companies_delete": "DELETE"}

# Endpoints that DESIGN.md lists and schemas/openapi.yaml must describe.
DESIGN_ENDPOINTS = [
    ("post", "/v1/identify"), ("post", "/v1/companies/identify"), ("post", "/v1/users/bulk_identify"),
    ("post", "/v1/companies/bulk_identify"), ("get", "/v1/background_jobs"), ("get", "/v1/background_jobs/{job_id}"),
    ("get", "/v1/background_jobs/{job_id}/errors"), ("post", "/v1/users"), ("get", "/v1/users/{user_id}"),
    ("get", "/v1/companies/{company_id}"), ("post", "/public/identify"), ("post", "/public/people/set"),
    ("post", "/public/alias"), ("get", "/healthz"), ("get", "/readyz"), ("get", "/metrics"),
    ("delete", "/v1/users/{user_id}"), ("delete", "/v1/companies/{company_id}"), ("delete", "/v1/users"),
    ("delete", "/v1/companies"), ("get", "/v1/users"), ("get", "/v1/companies"),
    ("post", "/v1/background_jobs/{job_id}/cancel"),
    ("post", "/v1/webhooks"), ("get", "/v1/webhooks"), ("delete", "/v1/webhooks/{webhook_id}"),
    ("get", "/v1/webhooks/{webhook_id}/deliveries"),
]


# How the daemon's sources register a route, and how they name an error code.
ROUTE_REGISTRATION = re.compile(r'routes\.add(?:_upload)?\(\s*"([A-Z]+)"\s*,\s*"([^"]+)"')
ERROR_CODE_PATTERNS = [
    re.compile(r'errc::\w+\s*,\s*"([a-z_]+)"'),
    re.compile(r'\b(?:bad_body|limit_exceeded|alias_conflict|type_conflict|fail)\(\s*"([a-z_]+)"'),
    re.compile(r'\b(?:bulk_json_error|ndjson_error)\{\s*"([a-z_]+)"'),
    re.compile(r'\b(?:missing_field|invalid_field|not_found)\('),
]
# Codes made by helpers rather than spelled at each use.
HELPER_CODES = {"missing_field", "invalid_field", "not_found", "internal_error"}


# The (method, path) of every route the daemon registers, from daemon/**/*.cpp.
def registered_routes(repo):
    routes = set()
    for source in sorted((repo / "daemon").rglob("*.cpp")):
        for method, route in ROUTE_REGISTRATION.findall(source.read_text()):
            routes.add((method.lower(), route))
    return routes


# Refusals that pass only between the store and the job runner and are never answered to a client.
INTERNAL_CODES = {"lease_lost", "job_cancelled"}


# Every error_code the daemon can answer with, from the sources under common/ and daemon/.
def error_codes(repo):
    codes = set(HELPER_CODES)
    for source in sorted(list((repo / "common").rglob("*.cpp")) + list((repo / "daemon").rglob("*.cpp"))):
        text = source.read_text()
        for pattern in ERROR_CODE_PATTERNS[:3]:
            codes.update(pattern.findall(text))
    return codes - INTERNAL_CODES


JSON_TYPES = ("null", "boolean", "number", "string", "array", "object")


# The JSON type name of a parsed value.
def json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(value)]


# The corpus must try every property a schema names (and every property of an object property, such as
# operations.$add) absent and as each JSON type, so the schema and the daemon are compared on every type.
def coverage_problems(fixtures, schemas):
    problems = []
    for endpoint, (schema_name, _, _) in ENDPOINTS.items():
        schema = schemas[schema_name]
        fields = {(name,): None for name in schema.get("properties", {})}
        for name, sub in schema.get("properties", {}).items():
            for inner in sub.get("properties", {}) if isinstance(sub, dict) else {}:
                fields[(name, inner)] = None
        seen = {field: set() for field in fields}
        for f in (fixtures / endpoint).glob("*/*.json"):
            try:
                body = json.loads(f.read_bytes().decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            for field in fields:
                node = body
                for step in field[:-1]:
                    node = node.get(step) if isinstance(node, dict) else None
                if not isinstance(node, dict):
                    continue
                seen[field].add(json_type(node[field[-1]]) if field[-1] in node else "absent")
        for field, types in seen.items():
            missing = (set(JSON_TYPES) | {"absent"}) - types
            if missing:
                problems.append(f"fixtures/{endpoint}: no fixture has {'.'.join(field)} "
                                f"{', '.join(sorted(missing))}")
    return problems


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


# How many levels of arrays and objects a JSON value nests: 0 for a primitive, an empty [] or {} is 1.
def nesting_depth(value):
    depth, level = 0, [(value, 1)]
    while level:
        node, d = level.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        depth = max(depth, d)
        level.extend((child, d + 1) for child in children)
    return depth


# profiled's keyword for the depth limit (the body itself being level 1), which JSON Schema can only state as a
# chain of one schema per level that tools inlining it cannot load.
def max_depth(validator, limit, instance, schema):
    if nesting_depth(instance) > limit:
        yield ValidationError(f"nests deeper than {limit} levels of arrays and objects")


ProfiledValidator = jsonschema.validators.extend(
    Draft202012Validator,
    {"x-utf8-max-bytes": utf8_max_bytes, "x-distinct-fields": distinct_fields, "x-max-depth": max_depth})


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
    def post(self, path, body, headers, method="POST"):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
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
def send(daemon, path, auth, raw, method="POST"):
    headers = {"Content-Type": "application/json"}
    if auth == "header":
        headers["Authorization"] = "Token " + daemon.secret_key
        headers["X-API-Version"] = "2020-09-22"
    else:
        raw = raw.replace(b"YOUR_SECRET_KEY", daemon.secret_key.encode()).replace(
            b"YOUR_PUBLIC_API_KEY", daemon.public_key.encode())
    return daemon.post(path, raw, headers, method)


# Checks that schemas/openapi.yaml parses, names every DESIGN endpoint and refers only to files that exist.
def check_openapi(repo):
    path = repo / "schemas" / "openapi.yaml"
    try:
        import yaml
    except ImportError:
        print("note: python3-yaml is not installed; schemas/openapi.yaml not checked")
        return []
    text = path.read_text()
    doc = yaml.safe_load(text)
    problems = []
    if not str(doc.get("openapi", "")).startswith("3.1"):
        problems.append("openapi.yaml: not OpenAPI 3.1")
    paths = doc.get("paths", {})
    routes = registered_routes(repo)
    for method, route in sorted(set(DESIGN_ENDPOINTS) | routes):
        if method not in paths.get(route, {}):
            problems.append(f"openapi.yaml: {method.upper()} {route} is not described")
    for route, item in paths.items():
        for method, op in item.items():
            if (method, route) not in routes:
                problems.append(f"openapi.yaml: {method.upper()} {route} is described but the daemon has no such route")
                continue
            # Which statuses each operation lists is tests/openapi/conventions.py's check.
            for code, response in op.get("responses", {}).items():
                ref = response.get("$ref", "") if isinstance(response, dict) else ""
                if ref.startswith("#/components/responses/") and \
                        ref.rsplit("/", 1)[1] not in doc.get("components", {}).get("responses", {}):
                    problems.append(f"openapi.yaml: {method.upper()} {route} {code}: {ref} is not defined")
    enum = set(doc.get("components", {}).get("schemas", {}).get("ErrorCode", {}).get("enum", []))
    used = error_codes(repo)
    for code in sorted(used - enum):
        problems.append(f"openapi.yaml: error_code {code} (used by the daemon) is not in components/schemas/ErrorCode")
    for code in sorted(enum - used):
        problems.append(f"openapi.yaml: ErrorCode {code} is in the enum but no source under common/ or daemon/ uses it")
    for code in sorted(used):
        if f"`{code}`" not in text:
            problems.append(f"openapi.yaml: error_code {code} (used by the daemon) is not described in ErrorCode's text")
    problems += mirror_problems(doc, repo / "schemas" / "json")

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


# The OpenAPI schema with every local $ref (#/components/...) replaced by what it names.
def inline_refs(node, doc):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target = doc
            for step in ref[2:].split("/"):
                target = target[step]
            return inline_refs(target, doc)
        return {k: inline_refs(v, doc) for k, v in node.items()}
    if isinstance(node, list):
        return [inline_refs(v, doc) for v in node]
    return node


# Keywords that explain a schema without changing what it accepts, left out when two schemas are compared.
ANNOTATIONS = {"title", "description", "examples", "example", "$schema", "$comment", "x-json-schema", "summary"}


# A schema with its references resolved (resolve(ref, base) gives the target and its base) and its annotations
# left out: two of these are equal when the schemas state the same rules.
def rules_of(node, resolve, base):
    if isinstance(node, list):
        return [rules_of(v, resolve, base) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    if isinstance(node.get("$ref"), str):
        target, target_base = resolve(node["$ref"], base)
        out.update(rules_of(target, resolve, target_base))
    for key, value in node.items():
        if key in ANNOTATIONS or key in ("$ref", "$defs"):
            continue
        if key == "properties":
            out[key] = {name: rules_of(sub, resolve, base) for name, sub in value.items()}
        elif key in ("required", "enum") and isinstance(value, list):
            out[key] = sorted(value, key=json.dumps)
        else:
            out[key] = rules_of(value, resolve, base)
    return out


# The request schemas of openapi.yaml that name a JSON Schema file in x-json-schema must state its rules exactly:
# the file is what the corpus and the daemon are checked against, the component is what tools and clients use.
def mirror_problems(doc, schema_dir):
    files = {p.name: json.loads(p.read_text()) for p in schema_dir.glob("*.schema.json")}

    def resolve_file(ref, base):
        name, _, pointer = ref.partition("#")
        target = files[name or base]
        for step in [s for s in pointer.split("/") if s]:
            target = target[step]
        return target, name or base

    def resolve_doc(ref, base):
        target = doc
        for step in ref[2:].split("/"):
            target = target[step]
        return target, base

    problems, mirrored = [], set()
    for name, schema in doc.get("components", {}).get("schemas", {}).items():
        file = schema.get("x-json-schema")
        if file is None:
            continue
        if file not in files:
            problems.append(f"openapi.yaml: components/schemas/{name} mirrors {file}, which is not in schemas/json/")
            continue
        mirrored.add(file)
        if rules_of(schema, resolve_doc, None) != rules_of(files[file], resolve_file, file):
            problems.append(f"openapi.yaml: components/schemas/{name} and json/{file} state different rules")
    # Response schemas (RESPONSE_SCHEMAS) are checked against the daemon's answers, beside openapi.yaml's own.
    for file in sorted(set(files) - mirrored - {"common.schema.json"} - set(RESPONSE_SCHEMAS)):
        problems.append(f"json/{file}: no schema of openapi.yaml mirrors it (x-json-schema)")
    return problems


# Requests whose answers are checked against the response schema schemas/openapi.yaml gives for their status:
# (method, path as sent, route as described, body). The writes first make something to list and erase.
ANSWER_CHECKS = [
    ("POST", "/v1/identify", "/v1/identify",
     '{"user_id":"answer_1","metadata":{"plan":"pro"},"company":{"id":"answer_co"}}'),
    ("POST", "/v1/identify", "/v1/identify", '{"user_id":"answer_2","metadata":{}}'),
    ("GET", "/v1/users?limit=1", "/v1/users", None),
    ("GET", "/v1/users?limit=1000&updated_since=2000-01-01T00:00:00Z", "/v1/users", None),
    ("GET", "/v1/companies?limit=1", "/v1/companies", None),
    ("GET", "/v1/users?limit=0", "/v1/users", None),
    ("GET", "/v1/users?cursor=nonsense", "/v1/users", None),
    ("GET", "/v1/companies?updated_since=yesterday", "/v1/companies", None),
    ("DELETE", "/v1/users/answer_1", "/v1/users/{user_id}", None),
    ("DELETE", "/v1/users/answer_1", "/v1/users/{user_id}", None),
    ("DELETE", "/v1/companies/answer_co", "/v1/companies/{company_id}", None),
    ("DELETE", "/v1/companies/answer_co", "/v1/companies/{company_id}", None),
    ("DELETE", "/v1/users", "/v1/users", '{"users":["answer_2","answer_3"]}'),
    ("DELETE", "/v1/companies", "/v1/companies", '{"companies":["answer_co"]}'),
    ("DELETE", "/v1/users", "/v1/users", '{"users":[]}'),
    # A job long enough at the default row rate to be cancelled while it runs; {job_id} is the last job answered.
    ("POST", "/v1/users/bulk_identify", "/v1/users/bulk_identify",
     json.dumps({"users": [{"user_id": f"answer_job_{i}", "company_id": "answer_job_co"} for i in range(3000)]})),
    ("GET", "/v1/background_jobs/{job_id}", "/v1/background_jobs/{job_id}", None),
    ("POST", "/v1/background_jobs/{job_id}/cancel", "/v1/background_jobs/{job_id}/cancel", None),
    ("POST", "/v1/background_jobs/{job_id}/cancel", "/v1/background_jobs/{job_id}/cancel", None),
    ("GET", "/v1/background_jobs/{job_id}", "/v1/background_jobs/{job_id}", None),
    ("GET", "/v1/background_jobs?limit=5", "/v1/background_jobs", None),
    ("POST", "/v1/background_jobs/00000000-0000-0000-0000-000000000000/cancel", "/v1/background_jobs/{job_id}/cancel",
     None),
    ("POST", "/v1/webhooks", "/v1/webhooks", '{"url":"https://hooks.example.com/answer","events":["job.done"]}'),
    ("POST", "/v1/webhooks", "/v1/webhooks", '{"url":"http://127.0.0.1/","events":["job.done"]}'),
    ("GET", "/v1/webhooks", "/v1/webhooks", None),
    ("GET", "/v1/webhooks/wh_none/deliveries", "/v1/webhooks/{webhook_id}/deliveries", None),
    ("DELETE", "/v1/webhooks/wh_none", "/v1/webhooks/{webhook_id}", None),
]


# Sends each ANSWER_CHECKS request and checks the status is one the route describes and the body matches its schema.
def answer_problems(daemon, repo, statuses_seen, validator_for):
    try:
        import yaml
    except ImportError:
        return []
    doc = yaml.safe_load((repo / "schemas" / "openapi.yaml").read_text())
    problems = []
    job_id = "no-job-yet"
    for method, target, route, body in ANSWER_CHECKS:
        target = target.replace("{job_id}", job_id)
        headers = {"Authorization": "Token " + daemon.secret_key, "X-API-Version": "2020-09-22"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        status, text = daemon.post(target, body.encode() if body is not None else None, headers, method)
        try:
            job_id = json.loads(text).get("job_id", job_id)
        except (json.JSONDecodeError, AttributeError):
            pass
        name = f"{method} {target}"
        statuses_seen.add((method, route, status))
        responses = doc.get("paths", {}).get(route, {}).get(method.lower(), {}).get("responses", {})
        response = inline_refs(responses.get(str(status)), doc) if str(status) in responses else None
        if response is None:
            problems.append(f"answer {name}: {status} is not a status openapi.yaml lists")
            continue
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            if text:
                problems.append(f"answer {name}: {status} has a body, openapi.yaml describes none")
            continue
        try:
            instance = json.loads(text)
        except json.JSONDecodeError as e:
            problems.append(f"answer {name}: not JSON ({e})")
            continue
        errors = list(Draft202012Validator(schema).iter_errors(instance))
        if errors:
            problems.append(f"answer {name}: {status} disagrees with openapi.yaml: {errors[0].message[:160]}")
        for schema_name, routes in RESPONSE_SCHEMAS.items():
            if (method, route) in routes and 200 <= status < 300:
                errors = list(validator_for(schema_name).iter_errors(instance))
                if errors:
                    problems.append(f"answer {name}: {status} disagrees with {schema_name}: {errors[0].message[:160]}")
    return problems


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    binary = sys.argv[1]
    repo = pathlib.Path(sys.argv[2]) if len(sys.argv) > 2 else pathlib.Path(__file__).resolve().parent.parent
    fixtures = repo / "tests" / "fixtures" / "requests"
    schemas, validator_for = load_validators(repo / "schemas" / "json")

    problems = check_openapi(repo) + coverage_problems(fixtures, schemas)
    for name in sorted(schemas):
        if name != "common.schema.json" and name not in {v[0] for v in ENDPOINTS.values()} and \
                name not in RESPONSE_SCHEMAS:
            problems.append(f"{name}: no fixtures exercise this schema")
    for endpoint in sorted(p.name for p in fixtures.iterdir()):
        if endpoint not in ENDPOINTS:
            problems.append(f"fixtures/{endpoint}: unknown endpoint directory")

    daemon = Daemon(binary)
    checked = skipped = 0
    answers = set()
    try:
        problems += answer_problems(daemon, repo, answers, validator_for)
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
                    status, body = send(daemon, path, auth, raw, METHODS.get(endpoint, "POST"))
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
          f"{len(ANSWER_CHECKS)} answers checked against openapi.yaml, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
