#!/bin/sh
# Make sure headless Chromium and its WebDriver are present for the browser test
# (tests/autograd/test_html_browser.py): install the Debian packages chromium and
# chromium-driver with apt-get when we are root on a Debian-like system, otherwise say in
# one line how to install them. Never fails: without them the browser test is skipped.
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/bin/$1" ]; }
have chromium && have chromedriver && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "chromium: the browser or its driver not found, installing the Debian packages chromium and chromium-driver with apt-get ..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null && apt-get install -y -qq chromium chromium-driver >/dev/null; } \
        || echo "chromium: apt-get install chromium chromium-driver failed; the browser test will be skipped" >&2
    have chromium && have chromedriver && exit 0
fi
echo "the browser test needs Chromium and its driver, and will be skipped: run 'sudo apt-get install chromium chromium-driver' (Debian/Ubuntu), or 'make test' as root to install them." >&2
exit 0
