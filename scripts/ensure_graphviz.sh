#!/bin/sh
# Make sure graphviz's `dot` program is present: install it with apt-get when we are
# root on a Debian-like system, otherwise say in one line how to install it.
command -v dot >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "graphviz: 'dot' not found, installing the Debian package graphviz with apt-get ..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq graphviz >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null && apt-get install -y -qq graphviz >/dev/null; } \
        || { echo "graphviz: apt-get install graphviz failed; install it by hand" >&2; exit 1; }
    command -v dot >/dev/null 2>&1 && exit 0
fi
echo "chainrule needs graphviz's 'dot' program: run 'sudo apt-get install graphviz' (Debian/Ubuntu), 'brew install graphviz' (macOS) or 'conda install graphviz', then try again." >&2
exit 1
