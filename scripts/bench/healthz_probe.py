#!/usr/bin/env python3
"""A paced /healthz prober, run by bench.py in its own process (no GIL shared with the uploader).

Usage: healthz_probe.py PORT [--rate N] [--max-seconds S] [--path /healthz] [--samples FILE]

Sends GET PATH over one keep-alive connection to 127.0.0.1:PORT, N times a second (default 1000),
as a load balancer's health check would, until SIGINT/SIGTERM or --max-seconds. Each latency is
measured from the moment the request was due, not from when it was sent, so a stall in the daemon
counts for every probe it delayed (no coordinated omission). Prints key=value lines: count, errors,
p50_ms, p90_ms, p99_ms, p999_ms, max_ms, seconds, and the same from the moment each request was sent
(send_p50_ms, ..., what wrk would report). --samples FILE writes one line per probe: the time it was due
(time.perf_counter(), CLOCK_MONOTONIC, so comparable with the caller's), ms from due, ms from sent, ok (1/0).
"""
import argparse
import signal
import socket
import sys
import time

stop = False


def on_signal(signum, frame):
    """Ends the probe loop; the summary is printed after it."""
    global stop
    stop = True


def connect(port):
    """A fresh connection with Nagle off."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_response(sock, buf):
    """Reads one HTTP response; returns (status, leftover bytes)."""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed")
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed")
        rest += data
    return status, rest[length:]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("--rate", type=float, default=1000)
    p.add_argument("--max-seconds", type=float, default=300)
    p.add_argument("--path", default="/healthz")
    p.add_argument("--samples")
    args = p.parse_args()
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    request = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % args.path).encode()
    interval = 1.0 / args.rate
    latencies, sent_latencies, samples = [], [], []
    errors = 0
    sock, buf = connect(args.port), b""
    start = time.perf_counter()
    due = start
    while not stop and due - start < args.max_seconds:
        now = time.perf_counter()
        if now < due:
            time.sleep(due - now)
        sent = time.perf_counter()
        ok = 1
        try:
            sock.sendall(request)
            status, buf = read_response(sock, buf)
            if status != 200:
                errors += 1
                ok = 0
        except (OSError, ConnectionError, ValueError, IndexError):
            errors += 1
            ok = 0
            sock.close()
            try:
                sock, buf = connect(args.port), b""
            except OSError:
                pass
        end = time.perf_counter()
        latencies.append((end - due) * 1000)
        sent_latencies.append((end - sent) * 1000)
        if args.samples:
            samples.append("%.6f %.3f %.3f %d\n" % (due, latencies[-1], sent_latencies[-1], ok))
        due += interval
    seconds = time.perf_counter() - start
    sock.close()
    if args.samples:
        with open(args.samples, "w") as f:
            f.writelines(samples)
    print("count=%d" % len(latencies))
    print("errors=%d" % errors)
    print("seconds=%.2f" % seconds)
    for prefix, values in (("", latencies), ("send_", sent_latencies)):
        for name, value in summary(values).items():
            print("%s%s_ms=%.3f" % (prefix, name, value))
    return 0


def summary(values):
    """p50, p90, p99, p999 and max of the values."""
    values = sorted(values)

    def q(x):
        return values[min(len(values) - 1, int(x * len(values)))] if values else float("nan")

    return {"p50": q(0.5), "p90": q(0.9), "p99": q(0.99), "p999": q(0.999), "max": values[-1] if values else float("nan")}


if __name__ == "__main__":
    sys.exit(main())
