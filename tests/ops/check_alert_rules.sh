#!/usr/bin/env bash
# The example alert rules: systemd/profiled-alerts.yml passes `promtool check rules`, each alert fires (and only
# where it should) on the series of tests/ops/alert_rules_test.yml, and README.md shows the file as it is.
# Usage: check_alert_rules.sh SOURCE_DIR
set -euo pipefail
src=$1
fail() { echo "FAIL: $*"; exit 1; }
command -v promtool >/dev/null || fail "promtool is not installed (scripts/install-deps installs prometheus)"
promtool check rules "$src/systemd/profiled-alerts.yml" || fail "promtool check rules"
(cd "$src/tests/ops" && promtool test rules alert_rules_test.yml) || fail "promtool test rules"
# README's ```yaml block under "Alerts" is the rules file, line for line (its comment lines included).
readme_block=$(awk '/^### Alert rules/ { seen = 1 } seen && /^```yaml$/ { inside = 1; next } inside && /^```$/ { exit } inside' "$src/README.md")
[ "$readme_block" = "$(cat "$src/systemd/profiled-alerts.yml")" ] || {
  diff <(echo "$readme_block") "$src/systemd/profiled-alerts.yml" || true
  fail "README.md's alert rules differ from systemd/profiled-alerts.yml"; }
echo "ok: alert rules pass promtool check and test, and README shows them"
