#!/usr/bin/env python3
"""redocly lint of schemas/openapi.yaml with the recommended rules (redocly.yaml beside this file): passes only
with zero errors and zero warnings, and prints what redocly printed."""

import json
import subprocess
import sys

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
    return 0 if human.returncode == 0 and totals["errors"] == 0 and totals["warnings"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
