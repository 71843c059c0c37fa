"""The pinned npm tools of tests/openapi/ (package.json, package-lock.json): installed with `npm ci` only when
node_modules is missing or was installed from another package-lock.json, one installer at a time."""

import fcntl
import hashlib
import pathlib
import subprocess
import sys

TOOLS_DIR = pathlib.Path(__file__).resolve().parent
REPO = TOOLS_DIR.parents[1]
OPENAPI = REPO / "schemas" / "openapi.yaml"
MIN_NODE = (20, 19)
STAMP = TOOLS_DIR / "node_modules" / ".profiled-lock-sha256"


# Exits with a message unless node is at least MIN_NODE (what @redocly/cli needs).
def require_node():
    try:
        out = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        sys.exit("node is not installed; scripts/install-deps installs nodejs")
    version = tuple(int(p) for p in out.lstrip("v").split(".")[:2])
    if version < MIN_NODE:
        sys.exit(f"node {out} is too old for the pinned tools; {MIN_NODE[0]}.{MIN_NODE[1]} or later is needed")


# Runs `npm ci` when node_modules does not match package-lock.json, and returns the directory of the tools.
def ensure_tools():
    require_node()
    lock = TOOLS_DIR / "package-lock.json"
    want = hashlib.sha256(lock.read_bytes()).hexdigest()
    with open(TOOLS_DIR / ".npm-ci.lock", "w") as guard:
        # ctest runs the OpenAPI checks in parallel: the first installs, the others wait for it.
        fcntl.flock(guard, fcntl.LOCK_EX)
        if STAMP.is_file() and STAMP.read_text().strip() == want:
            return TOOLS_DIR / "node_modules" / ".bin"
        print("tests/openapi: npm ci (node_modules missing or stale)", flush=True)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=TOOLS_DIR, check=True)
        STAMP.write_text(want + "\n")
    return TOOLS_DIR / "node_modules" / ".bin"
