#!/usr/bin/env bash
# Include-graph check: dependencies between modules point one way only, downwards.
#
# Every module has a rank; a file of module M may include headers of M itself and of modules
# ranked strictly below M. An include that points upward, or across to another module of the
# same rank, is an error. The ranks (docs/internals/*.md and DESIGN.md describe the layers):
#
#   0  core                      errors, buffers, strings, strict JSON + JCS, base64, hex, time
#   1  tlog  stix                pure transparency-log formats; STIX 2.1 validation
#   2  store                     the store engine and its drivers (uses tlog's note parsing)
#   3  audit  access  screen  geo  correl  the node's log and witness; principals, credentials
#                                and collection checks; names and matching; boundaries, tagging,
#                                hotspots and event files; observables and their normal forms
#   4  policy  psi               release decisions; private set intersection
#   5  ingest  alerts            the one write door and its after-commit hooks; alert rules
#   6  taxii  web                TAXII resources and client; the dashboard's embedded assets and
#                                its sessions, all served through http
#   7  http  sync                the server; pulling from partners
#   8  node                      the runtime
#   9  tansiq                    the umbrella header include/tansiq/tansiq.h
#  10  cli                       the `tansiq` command
#
# Each public header include/tansiq/<h>.h belongs to the module named for it in `header`
# below; a header missing from that table is an error, so a new one must be placed explicitly.
# Internal headers are "<module>/<file>.h" and belong to <module>. src/cli may include only
# public headers and its own. The tree checked is the repository, or the directory given as the
# first argument (tests/incgraph/run.sh points it at a scratch copy).
set -uo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 2

declare -A rank=([core]=0
                 [tlog]=1 [stix]=1
                 [store]=2
                 [audit]=3 [access]=3 [screen]=3 [geo]=3 [correl]=3
                 [policy]=4 [psi]=4
                 [ingest]=5 [alerts]=5
                 [taxii]=6 [web]=6
                 [http]=7 [sync]=7
                 [node]=8
                 [tansiq]=9
                 [cli]=10)

declare -A header=([errors]=core [core]=core [json]=core
                   [psi]=psi
                   [merkle]=tlog [note]=tlog [proof]=tlog [tlog]=tlog [leaf]=tlog
                   [stix]=stix
                   [store]=store [monitor_store]=store [watchlist_store]=store [psi_store]=store [web_store]=store
                   [audit]=audit [witness]=audit
                   [policy]=policy
                   [ingest]=ingest
                   [client]=taxii
                   [server]=http
                   [sync]=sync [psi_node]=sync
                   [access]=access
                   [geo]=geo [hotspot]=geo [events]=geo
                   [correl]=correl
                   [screen]=screen [watchlist]=screen [screening]=screen
                   [alerts]=alerts
                   [web]=web
                   [node]=node [runtime]=node
                   [tansiq]=tansiq)

status=0
fail() {
  echo "$1"
  status=1
}

# Set mod to the module file $1 belongs to; leave it empty (and report) when it has none.
module_of() {
  local f=$1 name
  mod=
  case $f in
    include/tansiq/*.h)
      name=${f#include/tansiq/}
      name=${name%.h}
      if [[ -z ${header[$name]+x} ]]; then
        fail "$f: public header without a module (add it to 'header' in tools/incgraph.sh)"
        return
      fi
      mod=${header[$name]}
      ;;
    src/*/*)
      name=$(echo "$f" | cut -d/ -f2)
      if [[ -z ${rank[$name]+x} ]]; then
        fail "$f: module '$name' has no rank (add it to 'rank' in tools/incgraph.sh)"
        return
      fi
      mod=$name
      ;;
    *)
      fail "$f: not inside a module directory"
      ;;
  esac
}

files=$( (find src -mindepth 2 -name '*.[ch]' 2>/dev/null
          find include/tansiq -maxdepth 1 -name '*.h' 2>/dev/null) | sort)
[[ -n $files ]] || { echo "incgraph: no sources under $root"; exit 2; }

while IFS= read -r f; do
  module_of "$f"
  [[ -n $mod ]] || continue
  while IFS= read -r inc; do
    if [[ $inc == tansiq/* ]]; then
      hdr=${inc#tansiq/}
      hdr=${hdr%.h}
      if [[ -z ${header[$hdr]+x} ]]; then
        fail "$f: includes $inc, a public header without a module"
        continue
      fi
      target=${header[$hdr]}
    elif [[ $inc == */* ]]; then
      target=${inc%%/*}
      if [[ $mod == cli && $target != cli ]]; then
        fail "$f: includes internal header $inc (the CLI uses include/tansiq/ only)"
        continue
      fi
      if [[ -z ${rank[$target]+x} ]]; then
        fail "$f: includes $inc of unknown module '$target'"
        continue
      fi
    else
      fail "$f: includes \"$inc\", which names no module (write \"<module>/$inc\")"
      continue
    fi
    [[ $target == "$mod" ]] && continue
    if ((rank[$target] > rank[$mod])); then
      fail "$f: $mod (rank ${rank[$mod]}) must not depend on $target (rank ${rank[$target]}) ($inc)"
    elif ((rank[$target] == rank[$mod])); then
      fail "$f: $mod and $target share rank ${rank[$mod]} and must not include each other ($inc)"
    fi
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done <<<"$files"
exit $status
