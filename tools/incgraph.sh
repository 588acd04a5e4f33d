#!/usr/bin/env bash
# Include-graph check: dependencies between modules point one way only,
#   core <- stix, store <- policy, audit <- taxii <- http, sync <- node <- cli
# A file in src/M may include headers of modules ranked at or below M (public ones through
# include/tansiq/, internal ones as "m/m.h" only for its own module or a lower one); src/cli may
# include only include/tansiq/ and its own headers.
set -uo pipefail
cd "$(dirname "$0")/.."
declare -A rank=([core]=0 [errors]=0 [tansiq]=0 [stix]=1 [store]=1 [audit]=1 [screen]=1 [geo]=1
                 [policy]=2 [ingest]=3 [taxii]=3 [client]=3 [http]=4 [server]=4 [sync]=4
                 [node]=5 [cli]=6)
status=0
while IFS= read -r f; do
  mod=$(echo "$f" | cut -d/ -f2)
  while IFS= read -r inc; do
    target=${inc%%/*}
    if [[ $target == tansiq ]]; then
      hdr=${inc#tansiq/}
      target=${hdr%.h}
    elif [[ $mod == cli && $target != cli ]]; then
      echo "$f: includes internal header $inc (the CLI uses include/tansiq/ only)"
      status=1
      continue
    fi
    [[ -n ${rank[$target]+x} ]] || continue
    if ((rank[$target] > rank[$mod])); then
      echo "$f: $mod must not depend on $target ($inc)"
      status=1
    fi
  done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
done < <(git ls-files 'src/*.c' 'src/*.h')
exit $status
