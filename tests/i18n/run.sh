#!/usr/bin/env bash
# The dashboard's translations: tests/i18n/check.mjs compares web/i18n/en.json and ar.json key
# for key and checks every t("key") of web/app/*.js against them.
# Usage: tests/i18n/run.sh [BUILD_DIR] (unused: the check reads sources only).
# Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
if ! command -v node >/dev/null; then
  echo "i18n: node is not installed (scripts/install-deps.sh installs it)"
  echo "0 passed, 1 failed"
  exit 1
fi
exec node tests/i18n/check.mjs .
