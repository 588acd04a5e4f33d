#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# scripts/web-build.sh BUILD - bundle the dashboard into BUILD/web/: esbuild bundles and minifies
# web/app/main.js (ES modules, leaflet from node_modules) into app-HASH.js and web/app/style.css
# (with leaflet's CSS and the Arabic font's woff2 files) into app-HASH.css, copies every file
# they reference under a hashed name, and writes index.html from web/index.html with the
# hashed names in place of %APP_JS% and %APP_CSS%. tools/embed.py then builds BUILD/web/ into
# the binary. The output depends only on the inputs (hashes are of content).
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.."
ESBUILD=node_modules/.bin/esbuild
[[ -x $ESBUILD ]] || { echo "web-build: no $ESBUILD (run npm ci)" >&2; exit 1; }
OUT=$BUILD/web
TMP=$BUILD/web.tmp
rm -rf "$TMP"
mkdir -p "$TMP"
"$ESBUILD" web/app/main.js web/app/style.css --bundle --minify --format=esm --target=es2020 \
  --entry-names='app-[hash]' --asset-names='[name]-[hash]' \
  --loader:.woff2=file --loader:.png=file --loader:.svg=file \
  --external:'#default#VML' --legal-comments=none --log-level=warning \
  --outdir="$TMP" --metafile="$TMP/meta.json"
# The names esbuild gave the two entry points, from its metafile.
read -r js css < <(python3 - "$TMP/meta.json" <<'PY'
import json, os, sys
out = json.load(open(sys.argv[1]))["outputs"]
names = {}
for path, o in out.items():
    ep = o.get("entryPoint", "")
    if ep.endswith("main.js") and path.endswith(".js"):
        names["js"] = os.path.basename(path)
    elif ep.endswith("style.css") and path.endswith(".css"):
        names["css"] = os.path.basename(path)
print(names["js"], names["css"])
PY
)
rm -f "$TMP/meta.json"
# The CSS entry also yields an empty JS stub; the page loads only the two named files.
find "$TMP" -name 'app-*.js' ! -name "$js" -delete
sed -e "s/%APP_JS%/$js/g" -e "s/%APP_CSS%/$css/g" web/index.html >"$TMP/index.html"
if grep -q '%[A-Z_]*%' "$TMP/index.html"; then
  echo "web-build: web/index.html has a placeholder left: $(grep -o '%[A-Z_]*%' "$TMP/index.html" | head -1)" >&2
  exit 1
fi
rm -rf "$OUT"
mv "$TMP" "$OUT"
