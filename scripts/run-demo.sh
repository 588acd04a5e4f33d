#!/usr/bin/env bash
# `make run`: a tansiq node on loopback with demo data.
# Initialises ./tansiq-home once (or $TANSIQ_HOME) with scripts/demo-data.sh: the demo user, the demo
# bundle, the demo boundaries (approximate governorates on both sides of the Syria-Iraq border)
# and sixteen weeks of generated incidents with an emerging smuggling corridor, a fictional
# watchlist in Arabic and Latin script (demo/watchlist-demo.csv), sets alert
# rules and evaluates them, registers a demo partner, shows the tagged incidents, the corridor and
# the alerts, then serves the dashboard and the APIs over HTTPS on 127.0.0.1:${TANSIQ_PORT:-8443} until interrupted.
set -euo pipefail
TANSIQ=${1:-build/tansiq}
cd "$(dirname "$0")/.."
HOME_DIR=${TANSIQ_HOME:-./tansiq-home}
PORT=${TANSIQ_PORT:-8443}
USER_NAME=demo
PASSWORD=demo-password

if [[ ! -f $HOME_DIR/tansiq.conf ]]; then
  scripts/demo-data.sh "$HOME_DIR" "$TANSIQ"
fi

echo
echo "== incidents, tagged with governorate and distance to the border (newest 8)"
"$TANSIQ" incidents --limit 8 --home "$HOME_DIR"
echo
echo "== hotspots and corridors"
"$TANSIQ" hotspots --home "$HOME_DIR"
echo
echo "== alerts (newest 8)"
"$TANSIQ" alert list --limit 8 --home "$HOME_DIR"
echo
echo "== screening: the bundle's courier was on the demo list when he arrived"
"$TANSIQ" alert list --kind screening --limit 3 --home "$HOME_DIR"
echo
echo "== screening a name written in Arabic script against the demo list (exit 1: a hit)"
"$TANSIQ" screen "أبو خالد الراوي" --limit 3 --home "$HOME_DIR" || true

cat <<MSG

tansiq demo node
  dashboard       : https://127.0.0.1:$PORT/   (sign in as $USER_NAME / $PASSWORD; ?lang=ar for Arabic)
  TAXII discovery : https://127.0.0.1:$PORT/taxii2/
  collections     : https://127.0.0.1:$PORT/api/collections/
  audit log       : https://127.0.0.1:$PORT/log/checkpoint   (C2SP tlog-tiles under /log/)
  incidents       : https://127.0.0.1:$PORT/json/incidents   (GeoJSON; also /json/hotspots,
                    /json/alerts, /json/correlate?value=..., /json/geo/border)
  screening       : https://127.0.0.1:$PORT/json/screen?name=...   (also POST /json/screen/batch)
  live alerts     : https://127.0.0.1:$PORT/events/   (Server-Sent Events)
  user / password : $USER_NAME / $PASSWORD   (self-signed certificate: use curl -k)
  try             : curl -k -u $USER_NAME:$PASSWORD -H 'Accept: application/taxii+json;version=2.1' \\
                      'https://127.0.0.1:$PORT/api/collections/'
  home            : $HOME_DIR   (delete it and $HOME_DIR-partner to start afresh)
Stop with Ctrl-C.

MSG
exec "$TANSIQ" serve --home "$HOME_DIR" --listen "127.0.0.1:$PORT"
