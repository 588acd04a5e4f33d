#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/web/run.sh BUILD - the dashboard in a real browser: a node in a temporary home loaded
# with the demo data (scripts/demo-data.sh), a partner that rewrites its log so that the node
# raises an alarm (alarm.py), and e2e.mjs driving Debian's Chromium headless through
# playwright-core: every screen in English and Arabic (screenshots under
# ${TQ_TEST_OUT:-build/test-out}/web/), no console error or failed request, RTL, the live
# alerts over SSE and their resumption, acknowledgement, screening, the XSS cases, the alarm
# banner, CSRF, axe-core and the keyboard. Ends with "N passed, N failed".
set -uo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
TQ=$ROOT/$BUILD/tansiq
OUT=${TQ_TEST_OUT:-$ROOT/build/test-out}/web
CHROMIUM=${TQ_CHROMIUM:-/usr/bin/chromium}

missing=
[[ -x $CHROMIUM ]] || missing="$CHROMIUM (scripts/install-deps.sh installs Debian's chromium)"
command -v node >/dev/null || missing="node"
[[ -f node_modules/playwright-core/package.json && -f node_modules/axe-core/axe.min.js ]] ||
  missing="node_modules/playwright-core or axe-core (npm ci)"
[[ -x $TQ ]] || missing="$TQ"
if [[ -n $missing ]]; then
  echo "FAIL web: $missing is missing"
  echo "0 passed, 1 failed"
  exit 1
fi

WORK=$(mktemp -d /tmp/tq-web-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
if ! TQ_DEMO_TITLE="tansiq (Al-Qaim coordination centre)" scripts/demo-data.sh "$WORK/home" "$TQ" >"$WORK/demo.log" 2>&1; then
  echo "FAIL web: the demo data did not load"
  tail -20 "$WORK/demo.log"
  echo "0 passed, 1 failed"
  exit 1
fi
mkdir -p "$OUT"
node tests/web/e2e.mjs --tansiq "$TQ" --home "$WORK/home" --work "$WORK" --out "$OUT" \
  --alarm "$ROOT/tests/web/alarm.py"
rc=$?
((rc == 0)) || { echo "--- the server's log (last lines)"; tail -20 "$WORK/serve.log" 2>/dev/null; }
exit $rc
