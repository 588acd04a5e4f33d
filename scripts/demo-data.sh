#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# scripts/demo-data.sh HOME [TANSIQ] - a fresh tansiq home at HOME loaded with the demo data:
# the demo user (demo / demo-password, read and write on everything), the demo bundle, the
# demo boundaries (approximate governorates on both sides of the Syria-Iraq border), a
# fictional watchlist in Arabic and Latin script (demo/watchlist-demo.csv), alert rules, and
# sixteen weeks of generated incidents with an emerging smuggling corridor, the rules
# evaluated, and a partner, Damascus, whose node is made beside HOME (HOME-partner) and registered
# from its signed identity bundle; it has no URL, so it shows on the dashboard as never synced.
# Used by `make run` (scripts/run-demo.sh) and by the browser tests (tests/web).
# TQ_DEMO_TITLE overrides the node's title.
set -euo pipefail
HOME_DIR=$1
TANSIQ=${2:-build/tansiq}
cd "$(dirname "$0")/.."
USER_NAME=demo
PASSWORD=demo-password

"$TANSIQ" init --home "$HOME_DIR" --title "${TQ_DEMO_TITLE:-tansiq demo node (Al-Qaim coordination centre)}"
printf '%s\n' "$PASSWORD" | "$TANSIQ" user add "$USER_NAME" --password-stdin --read='*' --write='*' --home "$HOME_DIR"
# The list and its rule come first, so that the bundle's courier is screened as it arrives.
"$TANSIQ" watchlist import demo/watchlist-demo.csv --list demo-wanted --home "$HOME_DIR" >/dev/null
"$TANSIQ" alert add wanted-name --kind screening --list demo-wanted --home "$HOME_DIR" >/dev/null
"$TANSIQ" import --home "$HOME_DIR" demo/border-demo.json
"$TANSIQ" geo import demo/border-units.geojson --home "$HOME_DIR" >/dev/null
"$TANSIQ" alert add seizure-near-border --kind border --within-km 10 --incident-kind seizure \
  --home "$HOME_DIR" >/dev/null
"$TANSIQ" alert add corridor --kind corridor --home "$HOME_DIR" >/dev/null
"$TANSIQ" alert add same-phone-or-plate --kind correlation --home "$HOME_DIR" >/dev/null
events=$(mktemp /tmp/tansiq-demo-events-XXXXXX.csv)
trap 'rm -f "$events"' EXIT
python3 scripts/demo-events.py "$events" 2>/dev/null
"$TANSIQ" events import "$events" --format csv --home "$HOME_DIR"
"$TANSIQ" alert scan --home "$HOME_DIR" >/dev/null

# A partner, registered the way two agencies do it (README, "Two agencies set up a bilateral
# exchange"), minus the server: its node never runs in the demo.
PARTNER_HOME="${HOME_DIR%/}-partner"
rm -rf "$PARTNER_HOME"
"$TANSIQ" init --home "$PARTNER_HOME" --title "Damascus node (demo partner)" >/dev/null 2>&1
"$TANSIQ" identity --export "$PARTNER_HOME/damascus.bundle" --home "$PARTNER_HOME" >/dev/null 2>&1
"$TANSIQ" partner add damascus --from "$PARTNER_HOME/damascus.bundle" --home "$HOME_DIR" >/dev/null
# Releases to it, as README's bilateral exchange sets them up: the shared collection goes to the
# group iq-sy, TLP:GREEN by default, so the dashboard's feed shows what was released to whom.
"$TANSIQ" group add iq-sy --home "$HOME_DIR" >/dev/null
"$TANSIQ" group member iq-sy damascus --home "$HOME_DIR" >/dev/null
"$TANSIQ" collection policy shared --tlp green --audience group:iq-sy --home "$HOME_DIR" >/dev/null
"$TANSIQ" partner grant damascus shared --home "$HOME_DIR" >/dev/null
