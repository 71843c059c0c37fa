#!/usr/bin/env python3
"""How long a 50 MB bulk upload takes to be accepted (first byte sent to the 202) with the spool in PostgreSQL, on a
throwaway durable server (fsync on), next to the same upload with SQLite's file spool.

Usage: scripts/bench/spool_upload.py [--binary build/bin/profiled] [--runs 5] [--mb 50]

Each run uploads a fresh multipart NDJSON file of 10,000 users (about 5 KB each) to one daemon; the figure is the
median of the runs (the daemon applies the rows afterwards, at an unlimited rate, between runs). Needs PostgreSQL
(scripts/install-deps). Prints one line per engine.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import Daemon, Postgres  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def make_file(path, megabytes, rows=10000):
    """rows NDJSON users of equal size, megabytes * 10^6 bytes in all (under the 50 MiB limit)."""
    per_row = megabytes * 1000 * 1000 // rows
    with open(path, "w") as f:
        for i in range(rows):
            head = '{"user_id":"spool-%06d","metadata":{"pad":"' % i
            tail = '"}}\n'
            f.write(head + "x" * (per_row - len(head) - len(tail)) + tail)
    return os.path.getsize(path)


class DatabaseDaemon(Daemon):
    """A bench Daemon on a database URL: its key and its serve both take --database."""

    def __init__(self, binary, data_dir, database, extra=()):
        self.binary, self.data_dir, self.extra = binary, data_dir, list(extra) + ["--database", database]
        os.makedirs(data_dir, exist_ok=True)
        self.key = subprocess.check_output(
            [binary, "keys", "create", "--data-dir", data_dir, "--database", database, "--project", "default",
             "--kind", "secret"], text=True).strip()
        self.proc = None
        self.port = None


def measure(daemon, path, runs):
    """Seconds to the 202 of each run."""
    times = []
    for _ in range(runs):
        seconds, job = daemon.upload(path)
        times.append(seconds)
        daemon.wait_job(job["job_id"], timeout=600)
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", default=os.path.join(REPO, "build", "bin", "profiled"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--mb", type=int, default=50)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="profiled-spool-bench-")
    path = os.path.join(work, "upload.ndjson")
    size = make_file(path, args.mb)
    extra = ["--rows-per-minute", "0"]
    results = {}
    pg = Postgres().start()
    try:
        url = "postgresql://postgres@%s/postgres?port=%d" % (pg.dir.replace("/", "%2F"), pg.port)
        d = DatabaseDaemon(args.binary, os.path.join(work, "pg"), url, extra).start()
        try:
            results["postgresql"] = measure(d, path, args.runs)
        finally:
            d.stop()
    finally:
        pg.stop()
    d = Daemon(args.binary, os.path.join(work, "sqlite"), extra).start()
    try:
        results["sqlite"] = measure(d, path, args.runs)
    finally:
        d.stop()
    for engine, times in results.items():
        print("%-10s %.1f MB upload accepted in %.3f s (median of %d; min %.3f, max %.3f)" % (
            engine, size / 1e6, statistics.median(times), len(times), min(times), max(times)))
    print(json.dumps({e: [round(t, 4) for t in ts] for e, ts in results.items()}))


if __name__ == "__main__":
    main()
