#!/usr/bin/env bash
# The systemd files as systemd judges them, offline:
#   systemd-analyze security: overall exposure of profiled.service at most 1.5;
#   systemd-analyze verify: no complaint at all. The unit's ExecStart names /usr/bin/profiled, which verify
#     requires to exist; it is absent on a build machine, so a copy of the unit whose ExecStart names the
#     freshly built binary is verified instead (the only line that differs);
#   systemd-sysusers / systemd-tmpfiles: the sysusers and tmpfiles files apply cleanly in a scratch root;
#   profiled.conf: documents every key of `profiled serve --help`, and the daemon starts with it.
# Usage: check_systemd_unit.sh SOURCE_DIR PROFILED_BINARY
set -euo pipefail
src=$1
binary=$2
unit=$src/systemd/profiled.service
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

for tool in systemd-analyze systemd-sysusers systemd-tmpfiles; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not installed (Debian package systemd; see scripts/install-deps)"; exit 1; }
done

# 1. Exposure: --threshold is in tenths (15 = 1.5); the printed level is checked as well.
security=$(systemd-analyze security --offline=true --threshold=15 "$unit" 2>&1) || {
  echo "$security"; echo "FAIL: systemd-analyze security: exposure above 1.5"; exit 1; }
level=$(printf '%s\n' "$security" | sed -n 's/.*Overall exposure level for profiled.service: \([0-9.]*\).*/\1/p')
[ -n "$level" ] || { echo "$security"; echo "FAIL: no overall exposure level printed"; exit 1; }
awk -v l="$level" 'BEGIN { exit !(l <= 1.5) }' || { echo "FAIL: exposure $level > 1.5"; exit 1; }
echo "ok: overall exposure $level (at most 1.5)"

# 2. verify: the copy differs from the unit only in ExecStart's binary path.
mkdir -p "$scratch/units"
sed "s#^ExecStart=/usr/bin/profiled #ExecStart=$binary #" "$unit" > "$scratch/units/profiled.service"
[ "$(diff "$unit" "$scratch/units/profiled.service" | grep -c '^[<>]')" = 2 ] || {
  echo "FAIL: ExecStart=/usr/bin/profiled ... not found in $unit"; exit 1; }
# --man=no: Documentation= names man:profiled(1), which the package installs and this machine need not have
# (tests/ops/check_package.sh checks the page itself).
verify=$(systemd-analyze verify --man=no "$scratch/units/profiled.service" 2>&1) || {
  echo "$verify"; echo "FAIL: systemd-analyze verify"; exit 1; }
[ -z "$verify" ] || { echo "$verify"; echo "FAIL: systemd-analyze verify printed warnings"; exit 1; }
echo "ok: systemd-analyze verify is clean"

# 3. The user the unit runs as, and its data directory, from the shipped sysusers and tmpfiles files.
mkdir -p "$scratch/root/etc"
systemd-sysusers --root="$scratch/root" "$(realpath "$src/systemd/profiled.sysusers")" >/dev/null 2>&1
grep -q '^profiled:x:[0-9]*:[0-9]*:[^:]*:/var/lib/profiled:' "$scratch/root/etc/passwd" || {
  echo "FAIL: systemd-sysusers did not create the profiled user"; exit 1; }
grep -q "^User=profiled$" "$unit" || { echo "FAIL: the unit does not run as User=profiled"; exit 1; }
systemd-tmpfiles --root="$scratch/root" --create "$(realpath "$src/systemd/profiled.tmpfiles")"
uid=$(awk -F: '$1 == "profiled" { print $3 }' "$scratch/root/etc/passwd")
[ "$(stat -c '%a %u' "$scratch/root/var/lib/profiled")" = "700 $uid" ] || {
  echo "FAIL: /var/lib/profiled is not 0700 and owned by profiled"; exit 1; }
echo "ok: sysusers and tmpfiles files apply cleanly"

# 4. The example config: every setting documented, and accepted by the daemon (listen and data-dir overridden).
conf=$src/systemd/profiled.conf
for key in $("$binary" serve --help | grep -o -- '^  --[a-z-]*' | sed 's/^  --//' | grep -vx -e help -e config); do
  grep -q "^$key = " "$conf" || { echo "FAIL: $key is missing from profiled.conf"; exit 1; }
done
"$binary" serve --config "$conf" --listen 127.0.0.1:0 --data-dir "$scratch/data" --log-format json \
  2>"$scratch/serve.log" &
pid=$!
for _ in $(seq 200); do
  grep -q '"event":"server.ready"' "$scratch/serve.log" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
grep -q '"event":"server.ready"' "$scratch/serve.log" || { cat "$scratch/serve.log"; kill "$pid" 2>/dev/null; echo "FAIL: profiled does not start with profiled.conf"; exit 1; }
kill -TERM "$pid"
wait "$pid" || { cat "$scratch/serve.log"; echo "FAIL: profiled did not exit 0 on SIGTERM"; exit 1; }
echo "ok: profiled.conf documents every setting and the daemon starts with it"
