#!/usr/bin/env bash
# The storefront's browser tests drive Debian's Chromium; Playwright never downloads a browser.
# Install it from Debian's packages when it is missing (needs root, or sudo).
set -euo pipefail

CHROMIUM=/usr/bin/chromium
[ -x "$CHROMIUM" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing Chromium from Debian's packages (for the storefront's browser tests)"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium >/dev/null
"$CHROMIUM" --version
