#!/usr/bin/env python3
"""The conventions of schemas/openapi.yaml that redocly's rules cannot state (see the comment at its top).

Every operation lists the statuses the daemon can answer it with, each error status through the one shared
response of that status; every request and response body has an example for each media type; the file has no
external $ref; every free-form object says additionalProperties: true; every object a response can hold says
which of its fields are always there (required). Prints one line per problem, exits 1 if there is any.

Usage: conventions.py [REPO_ROOT]
"""

import pathlib
import sys

import yaml

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

# The shared response every operation refers to for each error status.
SHARED_ERRORS = {
    "400": "BadRequest", "401": "Unauthorized", "403": "Forbidden", "404": "NotFound", "405": "MethodNotAllowed",
    "408": "RequestTimeout", "409": "Conflict", "413": "PayloadTooLarge", "415": "UnsupportedMediaType",
    "422": "IdempotencyKeyReused", "429": "TooManyRequests", "500": "InternalError", "503": "Unavailable",
    "507": "InsufficientStorage",
}
# Where an operation answers a status with a body of its own, and why.
OWN_ERRORS = {
    ("get", "/readyz", "503"): "NotReady",  # {"status": "starting" | "stopping" | "database_unavailable"}
}


# The statuses the daemon can answer (method, route) with, whatever the handler does.
def needed_statuses(method, route):
    # The HTTP layer, before any handler: framing and Host (400), wrong method (405), too slow (408), too large
    # (413), Content-Encoding (415), no connection to spare (503), a bug (500).
    needed = {"400", "405", "408", "413", "415", "500", "503"}
    if route.startswith("/v1/"):
        needed |= {"401", "403", "429"}  # a key in Authorization: secret keys only, per-key rates
    elif route.startswith("/public/"):
        needed |= {"401", "429"}  # a key in the body, per-key rates; public keys only on /public/identify
        if route != "/public/identify":
            needed.add("403")
    if method in ("post", "put", "patch", "delete"):
        needed.add("507")  # a write that finds the disk full
    if "{" in route:
        needed.add("404")  # an object by id that the key's project does not have
    return needed


def ref_name(node, kind):
    ref = node.get("$ref", "") if isinstance(node, dict) else ""
    prefix = f"#/components/{kind}/"
    return ref[len(prefix):] if ref.startswith(prefix) else None


def resolve(doc, node):
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        target = doc
        for step in node["$ref"][2:].split("/"):
            target = target[step]
        node = target
    return node


# Media types without an example in a content map (of a request body or a response).
def missing_examples(content):
    return [mt for mt, media in (content or {}).items()
            if not isinstance(media, dict) or ("example" not in media and not media.get("examples"))]


def external_refs(node, at="#"):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            yield at, ref
        for k, v in node.items():
            yield from external_refs(v, f"{at}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from external_refs(v, f"{at}/{i}")


def is_object_type(schema):
    t = schema.get("type")
    return t == "object" or (isinstance(t, list) and "object" in t)


# Every schema inside node (subschemas included), with where it is.
def schemas_in(node, at):
    if isinstance(node, list):
        for i, v in enumerate(node):
            yield from schemas_in(v, f"{at}/{i}")
        return
    if not isinstance(node, dict):
        return
    yield at, node
    for key in ("properties", "patternProperties", "$defs"):
        for name, sub in (node.get(key) or {}).items():
            yield from schemas_in(sub, f"{at}/{key}/{name}")
    for key in ("items", "additionalProperties", "not", "if", "then", "else", "propertyNames", "contentSchema"):
        if isinstance(node.get(key), dict):
            yield from schemas_in(node[key], f"{at}/{key}")
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        if isinstance(node.get(key), list):
            yield from schemas_in(node[key], f"{at}/{key}")


# Object schemas that a response body can hold, following references, each once.
def response_objects(doc, schema, at, seen):
    for where, sub in schemas_in(schema, at):
        name = ref_name(sub, "schemas")
        if name is not None:
            if name not in seen:
                seen.add(name)
                yield from response_objects(doc, doc["components"]["schemas"][name], f"#/components/schemas/{name}",
                                            seen)
            continue
        if is_object_type(sub) and sub.get("properties"):
            yield where, sub


def problems_of(doc):
    problems = []
    for at, ref in external_refs(doc):
        problems.append(f"{at}: $ref {ref} leaves the file (tools must load it as it is)")
    shared = doc.get("components", {}).get("responses", {})
    answer_schemas = []
    for route, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            # The console's pages and redirects are for browsers, not API clients: the API's rules do not apply.
            if "console" in op.get("tags", []):
                continue
            name = f"{method.upper()} {route}"
            responses = {str(k): v for k, v in op.get("responses", {}).items()}
            if not any(code.startswith("2") for code in responses):
                problems.append(f"{name}: no 2xx response")
            missing = needed_statuses(method, route) - set(responses)
            if missing:
                problems.append(f"{name}: does not list {', '.join(sorted(missing))}")
            for code, response in responses.items():
                if code[0] in "45":
                    want = OWN_ERRORS.get((method, route, code), SHARED_ERRORS.get(code))
                    got = ref_name(response, "responses")
                    if want is None:
                        problems.append(f"{name} {code}: no shared response for this status; add one to "
                                        f"components/responses and to SHARED_ERRORS here")
                    elif got != want:
                        problems.append(f"{name} {code}: must be {{ $ref: '#/components/responses/{want}' }}")
                    if got is not None and got not in shared:
                        problems.append(f"{name} {code}: components/responses/{got} is not defined")
                body = resolve(doc, response)
                for mt in missing_examples(body.get("content")):
                    problems.append(f"{name} {code}: the {mt} body has no example")
                for media in (body.get("content") or {}).values():
                    answer_schemas.append((f"{name} {code}", media.get("schema", {})))
            body = resolve(doc, op.get("requestBody", {}))
            for mt in missing_examples(body.get("content")):
                problems.append(f"{name}: the {mt} request body has no example")
    for name, response in shared.items():
        for mt in missing_examples(response.get("content")):
            problems.append(f"components/responses/{name}: the {mt} body has no example")
    for name, schema in doc.get("components", {}).get("schemas", {}).items():
        for at, sub in schemas_in(schema, f"#/components/schemas/{name}"):
            if is_object_type(sub) and not any(k in sub for k in ("properties", "additionalProperties",
                                                                  "patternProperties", "propertyNames",
                                                                  "maxProperties")):
                problems.append(f"{at}: a free-form object must say additionalProperties: true")
    seen, reported = set(), set()
    for where, schema in answer_schemas:
        for at, sub in response_objects(doc, schema, where, seen):
            if "required" not in sub and at not in reported:
                reported.add(at)
                problems.append(f"{at}: an object in a response must list its always-present fields in required "
                                f"(required: [] when none is)")
    return problems


def main():
    repo = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[2]
    doc = yaml.safe_load((repo / "schemas" / "openapi.yaml").read_text())
    problems = problems_of(doc)
    for p in problems:
        print("CONVENTION " + p)
    operations = sum(1 for item in doc.get("paths", {}).values() for m in item if m in METHODS)
    print(f"{operations} operations checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
