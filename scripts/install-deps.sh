#!/bin/bash
# scripts/install-deps.sh - install the Debian packages lift needs.
#
# Checks each package with dpkg-query and installs only the missing ones
# (one `apt-get update`, then one `apt-get install`). Nothing is fetched
# when all are present, so `make` and `make check` can call this every
# time. Without root it prints the apt-get line to run and exits 1.
#
# Later work appends to LIFT_PACKAGES; keep one name per line.
set -euo pipefail

LIFT_PACKAGES="
build-essential
meson
ninja-build
pkg-config
clang
libclang-rt-14-dev
clang-format
libcsv-dev
libjansson-dev
libmicrohttpd-dev
libgnutls28-dev
gnutls-bin
libsqlite3-dev
libsodium-dev
libutf8proc-dev
libstemmer-dev
libopenblas-dev
libxxhash-dev
libcmocka-dev
python3
python3-sklearn
curl
time
gzip
chromium
"

# Prints the packages among "$@" that are not installed, one per line.
# One dpkg-query call for all of them keeps the common case fast.
missing_of() {
    local installed
    installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "$@" \
        2>/dev/null | awk '$2 == "installed" { print $1 }') || true
    local pkg
    for pkg in "$@"; do
        grep -qxF "$pkg" <<<"$installed" || echo "$pkg"
    done
}

# shellcheck disable=SC2086 # the list is split on purpose
mapfile -t missing < <(missing_of $LIFT_PACKAGES)

if [ ${#missing[@]} -eq 0 ]; then
    [ "${1:-}" = "-q" ] || echo "install-deps: all packages present"
    exit 0
fi

install_line="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages: ${missing[*]}" >&2
    echo "install-deps: run as root:" >&2
    echo "  apt-get update && $install_line" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"

mapfile -t still < <(missing_of "${missing[@]}")
if [ ${#still[@]} -ne 0 ]; then
    echo "install-deps: still missing after install: ${still[*]}" >&2
    exit 1
fi
