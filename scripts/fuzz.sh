#!/usr/bin/env bash
# Build each fuzz target with clang's libFuzzer (ASan + UBSan) and run it for N seconds on a copy
# of its corpus; new inputs that crash are left in build-fuzz/ as crash-* files.
set -euo pipefail
SECONDS_EACH=${1:-30}
cd "$(dirname "$0")/.."
OUT=build-fuzz
mkdir -p "$OUT"
CFLAGS="-std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc $(pkg-config --cflags json-c libmicrohttpd libsodium sqlite3 libcurl openssl gnutls zlib expat)"
LIBS="$(pkg-config --libs json-c libmicrohttpd libsodium sqlite3 libcurl openssl gnutls zlib expat) -lpthread -lm"
shopt -s nullglob
# Every module but the command line; GEOS when installed (the geography parsers use it).
LIBSRC=$(ls src/*/*.c | grep -v '^src/cli/')
# The dashboard's embedded assets, generated as for every build (Makefile: $(BUILD)/gen).
make --no-print-directory BUILD="$OUT" "$OUT/gen/web_assets.c" >/dev/null
LIBSRC="$LIBSRC $OUT/gen/web_assets.c"
if pkg-config --exists geos; then
  CFLAGS="$CFLAGS -DTQ_HAVE_GEOS=1 $(pkg-config --cflags geos)"
  LIBS="$LIBS $(pkg-config --libs geos)"
fi
# ICU when installed: the name normaliser's Unicode paths.
if pkg-config --exists icu-uc icu-i18n; then
  CFLAGS="$CFLAGS -DTQ_HAVE_ICU=1 $(pkg-config --cflags icu-uc icu-i18n)"
  LIBS="$LIBS $(pkg-config --libs icu-uc icu-i18n)"
fi
for f in fuzz/fuzz_*.c; do
  name=$(basename "$f" .c)
  echo "== $name (${SECONDS_EACH}s)"
  # shellcheck disable=SC2086
  clang $CFLAGS -o "$OUT/$name" "$f" $LIBSRC $LIBS
  mkdir -p "$OUT/corpus-$name"
  cp -n fuzz/corpus/"$name"/* "$OUT/corpus-$name"/ 2>/dev/null || true
  (cd "$OUT" && "./$name" -max_total_time="$SECONDS_EACH" -max_len=65536 "corpus-$name" >"$name.log" 2>&1) ||
    { echo "$name found a crash: see $OUT/$name.log"; exit 1; }
  tail -1 "$OUT/$name.log"
done
