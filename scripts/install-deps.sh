#!/usr/bin/env bash
# Install the Debian 12 packages tansiq needs to build, test and benchmark, when missing.
# Runs apt-get update at most once per invocation; does nothing when all are present.
#
# PostgreSQL: libpq-dev builds the store driver (TQ_HAVE_POSTGRES), postgresql-15 and
# postgresql-client-15 give the server and client binaries under /usr/lib/postgresql/15/bin
# that scripts/pg.sh runs for the tests' own throwaway clusters. Debian's package also creates
# (and, where an init system runs, starts) a system cluster 15/main on port 5432; nothing here
# uses it, and the tests never depend on it.
#
# Geography: libgeos-dev gives GEOS's C API (TQ_HAVE_GEOS: boundaries, tagging, the border
# line); postgresql-15-postgis-3 gives PostGIS, the spatial index of a node on PostgreSQL.
#
# Watchlists: libexpat1-dev (expat 2.5, with its billion-laughs protection) reads the UN
# consolidated list's XML as a stream.
#
# Dashboard: chromium runs the browser tests and benchmarks (through playwright-core, which
# drives Debian's binary, /usr/bin/chromium: nothing is downloaded from a browser vendor). The
# web dependencies (package.json, pinned by package-lock.json) are installed with `npm ci` into
# node_modules/ when it is missing or older than the lockfile; Debian's nodejs and npm are
# installed only when the machine has no node of its own.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
  build-essential pkg-config clang clang-format libclang-rt-14-dev
  libjson-c-dev libmicrohttpd-dev libsodium-dev libsqlite3-dev libssl-dev libgnutls28-dev
  libcurl4-openssl-dev libcmocka-dev zlib1g-dev libpq-dev libexpat1-dev
  sqlite3 openssl curl python3 python3-cryptography wrk nginx-light procps
  postgresql-15 postgresql-client-15 libgeos-dev postgresql-15-postgis-3
  chromium fonts-dejavu-core
)
command -v node >/dev/null && command -v npm >/dev/null || PKGS+=(nodejs npm)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  echo "installing: ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then
    SUDO="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The web dependencies, exactly as the lockfile pins them; install scripts are not run (esbuild's
# binary comes as its own package).
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "installing the web dependencies (npm ci)"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi
