#!/bin/sh
# Start JupyterLab on the notebooks: make notebooks. As root (a container, a fresh VM)
# JupyterLab refuses to start without --allow-root, so give it then and only then.
# Usage: sh scripts/jupyter_lab.sh JUPYTER [ARGS...]
jupyter=$1
shift
if [ "$(id -u)" = 0 ]; then
    exec "$jupyter" lab --allow-root "$@"
fi
exec "$jupyter" lab "$@"
