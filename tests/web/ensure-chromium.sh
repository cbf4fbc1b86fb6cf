#!/usr/bin/env bash
# Install Debian's Chromium and ChromeDriver for the console's browser tests, when missing.
# Run by `make test` (and so by .ci/run). Prints one line when it cannot install; the browser
# tests then skip saying so.
set -u
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "browser tests: chromium/chromedriver missing and cannot install them (need root and apt-get)"
    exit 0
fi
echo "browser tests: installing chromium and chromium-driver from Debian (once)"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; }; then
    echo "browser tests: apt-get could not install chromium chromium-driver"
fi
exit 0
