#!/usr/bin/env python3
"""TypeScript types of schemas/openapi.yaml (openapi-typescript) must accept what clients really send and what
the description itself shows, and refuse what is wrong, under tsc --strict.

Writes, in a temporary directory, the generated types and a .ts file typing with them: every request body of the
seed documents (seed_examples.json), every example of every request and response body in openapi.yaml, and a few
bodies that must not compile (@ts-expect-error: tsc fails if they do). Then tsc --strict --noEmit.

Usage: typecheck.py
"""

import json
import subprocess
import sys
import tempfile
import pathlib

import yaml

from node_tools import OPENAPI, TOOLS_DIR, ensure_tools

METHODS = ("get", "put", "post", "delete", "patch")

# Bodies the types must refuse, each with why.
MUST_NOT_COMPILE = [
    ('paths["/v1/identify"]["post"]["requestBody"]["content"]["application/json"]',
     {"metadata": {"plan": "pro"}}, "user_id is required"),
    ('paths["/public/people/set"]["post"]["requestBody"]["content"]["application/json"]',
     {"apiKey": "k", "distinct_id": "u", "operations": {"$increment": {"a": 1}}}, "no such operation"),
    ('components["schemas"]["Job"]', {"status": "paused"}, "no such status, and fields missing"),
    ('components["schemas"]["ErrorBody"]',
     {"success": False, "errors": [{"error_code": "no_such_code", "message": "m", "details": {}}]},
     "error_code is an enum"),
]


def resolve(doc, node):
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        target = doc
        for step in node["$ref"][2:].split("/"):
            target = target[step]
        node = target
    return node


def ts(value):
    return json.dumps(value, indent=2, ensure_ascii=False)


# The body examples of a content map, as (media type, name, value).
def examples_of(doc, content):
    for mt, media in (content or {}).items():
        if "example" in media:
            yield mt, "example", media["example"]
        for name, ex in (media.get("examples") or {}).items():
            yield mt, name, resolve(doc, ex).get("value")


def typed_file(doc, seeds):
    lines = ['import type { paths, components } from "./profiled-api";', ""]
    count = 0

    def typed(type_expr, value, why):
        nonlocal count
        count += 1
        lines.append(f"// {why}")
        lines.append(f"export const example_{count}: {type_expr} = {ts(value)};")
        lines.append("")

    for name, seed in seeds.items():
        if name.startswith("$"):
            continue
        route, method = seed["path"], seed["method"].lower()
        typed(f'paths["{route}"]["{method}"]["requestBody"]["content"]["application/json"]', seed["body"],
              f"seed {name}: {seed['source']}")
    for route, item in doc["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            base = f'paths["{route}"]["{method}"]'
            body = resolve(doc, op.get("requestBody", {}))
            for mt, ex_name, value in examples_of(doc, body.get("content")):
                typed(f'NonNullable<{base}["requestBody"]>["content"]["{mt}"]', value,
                      f"openapi.yaml {method.upper()} {route} request {mt} {ex_name}")
            for code, response in op.get("responses", {}).items():
                if "$ref" in response:
                    continue  # a shared response, typed once below
                for mt, ex_name, value in examples_of(doc, response.get("content")):
                    typed(f'{base}["responses"][{code}]["content"]["{mt}"]', value,
                          f"openapi.yaml {method.upper()} {route} {code} {mt} {ex_name}")
    for name, response in doc["components"].get("responses", {}).items():
        for mt, ex_name, value in examples_of(doc, response.get("content")):
            typed(f'components["responses"]["{name}"]["content"]["{mt}"]', value,
                  f"openapi.yaml components/responses/{name} {mt} {ex_name}")
    for type_expr, value, why in MUST_NOT_COMPILE:
        count += 1
        lines.append(f"// must not compile: {why}")
        lines.append("// @ts-expect-error")
        # On one line: @ts-expect-error covers the next line only.
        lines.append(f"export const wrong_{count}: {type_expr} = {json.dumps(value, ensure_ascii=False)};")
        lines.append("")
    return "\n".join(lines), count


def main():
    tools = ensure_tools()
    doc = yaml.safe_load(OPENAPI.read_text())
    seeds = json.loads((TOOLS_DIR / "seed_examples.json").read_text())
    with tempfile.TemporaryDirectory(prefix="profiled-ts-") as work:
        work = pathlib.Path(work)
        generated = subprocess.run([str(tools / "openapi-typescript"), str(OPENAPI), "-o",
                                    str(work / "profiled-api.d.ts")], capture_output=True, text=True)
        if generated.returncode != 0:
            print(generated.stdout + generated.stderr)
            print("openapi-typescript failed")
            return 1
        text, count = typed_file(doc, seeds)
        (work / "examples.ts").write_text(text)
        (work / "tsconfig.json").write_text(json.dumps({
            "compilerOptions": {"strict": True, "noEmit": True, "target": "es2020", "module": "es2020",
                                "moduleResolution": "node", "exactOptionalPropertyTypes": False,
                                "skipLibCheck": False, "types": []},
            "files": ["examples.ts", "profiled-api.d.ts"]}))
        checked = subprocess.run([str(tools / "tsc"), "-p", str(work / "tsconfig.json")], capture_output=True,
                                 text=True)
        print(checked.stdout + checked.stderr, end="")
        print(f"{count} bodies typed under tsc --strict ({len(MUST_NOT_COMPILE)} of them must not compile): "
              f"{'ok' if checked.returncode == 0 else 'FAILED'}")
        return 0 if checked.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
