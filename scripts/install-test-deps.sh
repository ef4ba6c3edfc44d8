#!/usr/bin/env bash
# Installs what the tests need on a clean machine, idempotently (runs as root in CI).
# Debian packages: third-party protocol clients the interop tests drive. npm: the second-language gRPC client.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(mosquitto-clients libcoap3-bin openssl)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ -f it-tests/node/package.json ]; then
  (cd it-tests/node && { [ -f package-lock.json ] && npm ci --no-audit --no-fund || npm install --no-audit --no-fund; })
fi
