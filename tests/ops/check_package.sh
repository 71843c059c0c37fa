#!/usr/bin/env bash
# The Debian package: scripts/package (cpack -G DEB) on an existing build, then
#   dpkg-deb: the files at their places, /etc/profiled/profiled.conf a conffile, Depends from shlibdeps,
#     maintainer scripts that parse;
#   dpkg --root: a real install into a scratch root (scripts run chrootless with DPKG_ROOT set, so the
#     profiled user and /var/lib/profiled are made inside the scratch root and no service is touched),
#     the installed binary runs, then remove and purge (the conffile stays on remove);
#   lintian: no E: or W: line (the version used is printed; the only override, in systemd/deb/lintian-overrides,
#     carries its reason), and what it printed is shown.
# Usage: check_package.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1
build=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

deb=$("$src/scripts/package" --no-build "$build" "$scratch/out" 2>"$scratch/cpack.log") || {
  cat "$scratch/cpack.log"; fail "scripts/package"; }
[ -f "$deb" ] || fail "scripts/package printed '$deb', which is not a file"
echo "ok: built $(basename "$deb")"

contents=$(dpkg-deb -c "$deb" | awk '{ print $1, $6 }')
for expected in "-rwxr-xr-x ./usr/bin/profiled" \
                "-rw-r--r-- ./lib/systemd/system/profiled.service" \
                "-rw-r--r-- ./etc/profiled/profiled.conf" \
                "-rw-r--r-- ./usr/lib/sysusers.d/profiled.conf" \
                "-rw-r--r-- ./usr/lib/tmpfiles.d/profiled.conf" \
                "-rw-r--r-- ./usr/share/doc/profiled/README.md" \
                "-rw-r--r-- ./usr/share/doc/profiled/copyright" \
                "-rw-r--r-- ./usr/share/doc/profiled/changelog.Debian.gz" \
                "-rw-r--r-- ./usr/share/man/man1/profiled.1.gz" \
                "-rw-r--r-- ./usr/share/lintian/overrides/profiled"; do
  grep -qxF -- "$expected" <<<"$contents" || { echo "$contents"; fail "missing: $expected"; }
done
echo "ok: files and modes"

dpkg-deb -x "$deb" "$scratch/files"
# The man page holds every command's help, and man renders it without a warning.
page=$(zcat "$scratch/files/usr/share/man/man1/profiled.1.gz")
for heading in '.SS "profiled serve"' '.SS "profiled import"' '.SS "profiled keys create"' '.SS "profiled jobs list"'; do
  grep -qF -- "$heading" <<<"$page" || fail "profiled.1 lacks $heading"
done
grep -qF 'max\-upload\-bytes' <<<"$page" || fail "profiled.1 lacks serve's --max-upload-bytes"
if command -v man >/dev/null; then
  warnings=$(MANWIDTH=80 man --warnings -l "$scratch/files/usr/share/man/man1/profiled.1.gz" 2>&1 >/dev/null || true)
  [ -z "$warnings" ] || { echo "$warnings"; fail "man warns about profiled.1"; }
fi
# Hardening and stripping, as lintian judges them too: a read-only GOT bound at start, no .comment section.
readelf -d "$scratch/files/usr/bin/profiled" | grep -q 'BIND_NOW\|FLAGS.*NOW' || fail "profiled is not linked -z now"
readelf -lW "$scratch/files/usr/bin/profiled" | grep -q GNU_RELRO || fail "profiled is not linked -z relro"
! readelf -SW "$scratch/files/usr/bin/profiled" | grep -q '\.comment' || fail "profiled has a .comment section"
echo "ok: profiled(1) holds every command's help; the binary is hardened and stripped"

dpkg-deb -e "$deb" "$scratch/control"
[ "$(cat "$scratch/control/conffiles")" = "/etc/profiled/profiled.conf" ] || fail "conffiles is not /etc/profiled/profiled.conf"
for script in postinst prerm postrm; do
  [ -x "$scratch/control/$script" ] || fail "$script missing or not executable"
  sh -n "$scratch/control/$script" || fail "$script does not parse"
done
[ "$(dpkg-deb -f "$deb" Package)" = profiled ] || fail "Package field"
dpkg-deb -f "$deb" Depends | grep -q 'libsqlite3-0' || fail "Depends lacks libsqlite3-0 (dpkg-shlibdeps did not run?)"
echo "ok: control: conffiles, maintainer scripts, Depends: $(dpkg-deb -f "$deb" Depends)"

root=$scratch/root
mkdir -p "$root/etc" "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/triggers"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
dpkg_root=(dpkg --root="$root" --log=/dev/null --force-script-chrootless --force-depends --force-not-root)
"${dpkg_root[@]}" -i "$deb" >"$scratch/install.log" 2>&1 || { cat "$scratch/install.log"; fail "dpkg --root -i"; }
[ "$(dpkg-query --root="$root" -W -f='${Status}' profiled)" = "install ok installed" ] || fail "not installed"
"$root/usr/bin/profiled" version | grep -q . || fail "the installed binary does not run"
cmp -s "$root/etc/profiled/profiled.conf" "$src/systemd/profiled.conf" || fail "profiled.conf differs"
if command -v systemd-sysusers >/dev/null; then
  grep -q '^profiled:' "$root/etc/passwd" || fail "postinst did not create the profiled user in the root"
  [ "$(stat -c %a "$root/var/lib/profiled")" = 700 ] || fail "postinst did not create /var/lib/profiled 0700"
fi
echo "ok: installed into a scratch root with dpkg --root"

"${dpkg_root[@]}" -r profiled >>"$scratch/install.log" 2>&1 || { cat "$scratch/install.log"; fail "dpkg -r"; }
[ ! -e "$root/usr/bin/profiled" ] || fail "binary left after remove"
[ -f "$root/etc/profiled/profiled.conf" ] || fail "conffile removed by remove (only purge may)"
"${dpkg_root[@]}" -P profiled >>"$scratch/install.log" 2>&1 || { cat "$scratch/install.log"; fail "dpkg -P"; }
[ ! -e "$root/etc/profiled/profiled.conf" ] || fail "conffile left after purge"
echo "ok: remove keeps the conffile, purge removes it"

# lintian, the whole verdict: an E: (error) or W: (warning) line fails; I: (info) and the rest are shown.
command -v lintian >/dev/null || fail "lintian is not installed (scripts/install-deps installs it)"
echo "lintian $(lintian --version | awk '{ print $2 }')"
lintian_rc=0
lintian_out=$(lintian --fail-on error,warning --display-level '>=info' "$deb" 2>&1) || lintian_rc=$?
[ -z "$lintian_out" ] || echo "$lintian_out"
# Its exit status too: a lintian that broke off prints no tag at all.
if [ "$lintian_rc" != 0 ] || grep -qE '^[EW]: ' <<<"$lintian_out"; then
  fail "lintian exited $lintian_rc and reports errors or warnings (above)"
fi
echo "ok: lintian reports no error and no warning"
