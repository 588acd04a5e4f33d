#!/usr/bin/env bash
# `make run`: a tansiq node on loopback with demo data.
# Initialises ./tansiq-home once (or $TANSIQ_HOME), creates the demo user, loads the demo
# bundle, then serves HTTPS on 127.0.0.1:${TANSIQ_PORT:-8443} until interrupted.
set -euo pipefail
TANSIQ=${1:-build/tansiq}
cd "$(dirname "$0")/.."
HOME_DIR=${TANSIQ_HOME:-./tansiq-home}
PORT=${TANSIQ_PORT:-8443}
USER_NAME=demo
PASSWORD=demo-password

if [[ ! -f $HOME_DIR/tansiq.conf ]]; then
  "$TANSIQ" init --home "$HOME_DIR" --title "tansiq demo node (Al-Qaim coordination centre)"
  printf '%s\n' "$PASSWORD" | "$TANSIQ" user add "$USER_NAME" --password-stdin --read='*' --write='*' --home "$HOME_DIR"
  "$TANSIQ" import --home "$HOME_DIR" demo/border-demo.json
fi

cat <<MSG

tansiq demo node
  TAXII discovery : https://127.0.0.1:$PORT/taxii2/
  collections     : https://127.0.0.1:$PORT/api/collections/
  audit log       : https://127.0.0.1:$PORT/log/checkpoint   (C2SP tlog-tiles under /log/)
  user / password : $USER_NAME / $PASSWORD   (self-signed certificate: use curl -k)
  try             : curl -k -u $USER_NAME:$PASSWORD -H 'Accept: application/taxii+json;version=2.1' \\
                      'https://127.0.0.1:$PORT/api/collections/'
  home            : $HOME_DIR   (delete it to start afresh)
Stop with Ctrl-C.

MSG
exec "$TANSIQ" serve --home "$HOME_DIR" --listen "127.0.0.1:$PORT"
