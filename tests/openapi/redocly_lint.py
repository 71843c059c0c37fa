#!/usr/bin/env python3
"""redocly lint of schemas/openapi.yaml with the recommended rules (redocly.yaml beside this file): passes only
with zero errors and zero warnings, and prints what redocly printed. Then `redocly bundle --dereferenced`, every
$ref inlined, which must finish within a minute and stay small (a chain of schemas that each refer twice to the
next once made it explode)."""

import json
import subprocess
import sys
import tempfile
import pathlib

from node_tools import OPENAPI, TOOLS_DIR, ensure_tools


def main():
    tools = ensure_tools()
    args = [str(tools / "redocly"), "lint", str(OPENAPI), "--config", str(TOOLS_DIR / "redocly.yaml")]
    # The human report for the log, then the counts to judge by.
    human = subprocess.run(args, capture_output=True, text=True, cwd=TOOLS_DIR)
    print("\n".join(line for line in (human.stdout + human.stderr).splitlines() if "║" not in line and
                    "╔" not in line and "╚" not in line))
    report = subprocess.run(args + ["--format", "json"], capture_output=True, text=True, cwd=TOOLS_DIR)
    totals = json.loads(report.stdout)["totals"]
    print(f"redocly lint: {totals['errors']} errors, {totals['warnings']} warnings")
    ok = human.returncode == 0 and totals["errors"] == 0 and totals["warnings"] == 0
    with tempfile.TemporaryDirectory(prefix="profiled-bundle-") as work:
        out = pathlib.Path(work) / "dereferenced.json"
        try:
            bundled = subprocess.run([str(tools / "redocly"), "bundle", str(OPENAPI), "--dereferenced", "--ext", "json",
                                      "-o", str(out), "--config", str(TOOLS_DIR / "redocly.yaml")],
                                     capture_output=True, text=True, cwd=TOOLS_DIR, timeout=60)
        except subprocess.TimeoutExpired:
            print("redocly bundle --dereferenced: did not finish within 60 s")
            return 1
        size = out.stat().st_size if out.is_file() else 0
        # The dereferenced file repeats each shared schema everywhere it is used (every error response of every
        # operation carries ErrorCode's enum and text): some 25 times the source today, growing with the operations,
        # not with the powers of two the old chain made.
        limit = 50 * OPENAPI.stat().st_size
        print(f"redocly bundle --dereferenced: exit {bundled.returncode}, {size} bytes (limit {limit})")
        if bundled.returncode != 0 or not 0 < size <= limit:
            print(bundled.stdout + bundled.stderr)
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
