# SPDX-License-Identifier: Apache-2.0
#
# tests/serve.sh - sourced by the shell suites that need a running node.
#
# serve_start TANSIQ HOME OUT [ARG...]: start TANSIQ serve --home HOME --listen 127.0.0.1:0 ARG...
# in the background, its standard output in OUT.out and its errors in OUT.err. Sets srv_pid, and
# URL to the discovery URL the server prints once it listens (within 10 s), or to "" when it
# did not start. The caller stops it (kill "$srv_pid"; wait "$srv_pid").
serve_start() {
  local tansiq=$1 home=$2 out=$3
  shift 3
  "$tansiq" serve --home "$home" --listen 127.0.0.1:0 "$@" >"$out.out" 2>"$out.err" &
  srv_pid=$!
  URL=
  for _ in $(seq 1 100); do
    URL=$(head -1 "$out.out" 2>/dev/null)
    [[ -n $URL ]] && break
    kill -0 "$srv_pid" 2>/dev/null || break
    sleep 0.1
  done
}

# serve_stop: stop the server serve_start started, when one runs, and wait for it.
serve_stop() {
  if [[ -n ${srv_pid:-} ]]; then
    kill "$srv_pid" 2>/dev/null
    wait "$srv_pid" 2>/dev/null
  fi
  srv_pid=
}
