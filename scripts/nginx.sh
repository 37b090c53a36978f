#!/usr/bin/env bash
# The scale-out tests put Debian's nginx in front of two web servers (deploy/nginx.conf). The tests
# run nginx themselves, on free ports with a generated configuration; the system's nginx service
# is never started or touched. Install it from Debian's packages when it is missing (root or sudo).
set -euo pipefail

NGINX=/usr/sbin/nginx
[ -x "$NGINX" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing nginx from Debian's packages (for the scale-out tests)"
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d 101: the package must not start the system nginx service on install
POLICY=/usr/sbin/policy-rc.d
CREATED_POLICY=""
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod +x "$POLICY"
  CREATED_POLICY=1
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends nginx >/dev/null
[ -n "$CREATED_POLICY" ] && $SUDO rm -f "$POLICY"
"$NGINX" -v
