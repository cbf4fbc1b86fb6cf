#!/usr/bin/env bash
# Install Debian's libfaketime for the clock-step tests (tests/test_clock_steps.py), when missing.
# Run by `make test` (and so by .ci/run) before pytest, so that parallel test workers never run
# apt-get at the same time. Prints one line when it cannot install; those tests then skip saying
# so (tests/fakeclock.py also installs it under a file lock for a bare `pytest` run).
set -u
if compgen -G "/usr/lib/*/faketime/libfaketime.so.1" >/dev/null \
    || [ -e /usr/lib/faketime/libfaketime.so.1 ] || [ -e /usr/local/lib/faketime/libfaketime.so.1 ]; then
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "clock-step tests: libfaketime missing and cannot install it (need root and apt-get)"
    exit 0
fi
echo "clock-step tests: installing faketime and libfaketime from Debian (once)"
export DEBIAN_FRONTEND=noninteractive
install() { apt-get install -y -qq --no-install-recommends faketime libfaketime >/dev/null; }
# a stale package list: update once, then try again
if ! install && ! { apt-get update -qq && install; }; then
    echo "clock-step tests: apt-get could not install faketime libfaketime"
fi
exit 0
