#!/usr/bin/env bash
# System packages some tests need: Debian's Chromium and its driver, for the test that renders the
# evaluation report in a real headless browser. Idempotent: installs only what is missing, with
# apt-get (needs root, or sudo). Without them that test is skipped, never failed.
set -euo pipefail

need=()
for pkg in chromium chromium-driver; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        need+=("$pkg")
    fi
done
if [ "${#need[@]}" -eq 0 ]; then
    echo "system-deps: chromium and chromium-driver already installed"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "system-deps: need root (or sudo) to install: ${need[*]}" >&2
        exit 1
    fi
fi
echo "system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
