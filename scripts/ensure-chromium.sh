#!/usr/bin/env bash
# Make sure Debian's chromium is installed: the test of `tux-db simulate --html` screenshots the page with it.
# With CI=true a chromium that cannot be installed fails the run: nothing is silently skipped.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
echo "ensure-chromium: installing Debian's chromium"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null || true
if ! command -v chromium >/dev/null 2>&1; then
  echo "ensure-chromium: chromium could not be installed" >&2
  if [ "${CI:-}" = "true" ]; then exit 1; fi
fi
