#!/bin/sh
# Make sure the three browser engines the tests drive are installed from Debian's packages:
# Chromium + chromedriver, Firefox ESR (driven through marionette_driver from PyPI), and
# WebKitGTK's WebDriver with MiniBrowser, which needs a display: Xvfb.
# Idempotent. An engine that cannot be installed costs one line, here and in
# build/engines/<engine>.missing, which its tests then skip with; setup itself goes on.
export DEBIAN_FRONTEND=noninteractive
MINIBROWSER=/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser
mkdir -p build/engines
updated=
present() {   # every named command or path is there
    for thing in "$@"; do
        [ -e "$thing" ] || command -v "$thing" >/dev/null 2>&1 || return 1
    done
}
ensure() {    # ensure <engine> "<commands or paths>" <packages…>
    engine=$1 needs=$2
    shift 2
    rm -f "build/engines/$engine.missing"
    present $needs && return 0
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        line="setup: $engine is not installed and cannot be installed here (needs apt-get as root: apt-get install $*)"
    else
        echo "setup: installing $engine ($*) with apt-get"
        if [ -z "$updated" ]; then apt-get update -qq >/dev/null 2>&1; updated=1; fi
        apt-get install -y -qq "$@" >/dev/null 2>&1
        present $needs && return 0
        line="setup: apt-get install $* failed, so $engine is not installed (run it by hand to see why)"
    fi
    echo "$line; its tests will be skipped" >&2
    echo "$line" > "build/engines/$engine.missing"
}
ensure chromium "chromium chromedriver" chromium chromium-driver
ensure firefox "firefox-esr" firefox-esr
ensure webkit "WebKitWebDriver Xvfb $MINIBROWSER" webkit2gtk-driver xvfb
exit 0
