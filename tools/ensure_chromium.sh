#!/bin/sh
# Make sure Debian's chromium and chromium-driver are installed (the browser tests drive them).
command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: chromium and chromium-driver are missing and cannot be installed here (needs apt-get as root): install them, then run make again" >&2
    exit 1
fi
echo "setup: installing chromium and chromium-driver with apt-get"
export DEBIAN_FRONTEND=noninteractive
(apt-get update -qq && apt-get install -y -qq chromium chromium-driver) >/dev/null 2>&1 || {
    echo "setup: apt-get install chromium chromium-driver failed (try it by hand to see why)" >&2
    exit 1
}
