#!/usr/bin/env bash
# Sourced by tests/e2e/run.sh and tests/book/run.sh: install what a browser test needs if missing.
#   Debian's chromium (apt-get as root or with password-less sudo; never `playwright install`)
#   and the playwright package (the project's optional dependency 'e2e') into "$PY".
# Expects PY (the venv's python) and WHO (the name that prefixes the messages).
if [ ! -x /usr/bin/chromium ]; then
    echo "$WHO: /usr/bin/chromium is missing; installing Debian's chromium"
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "$WHO: cannot install chromium without root: run 'apt-get install -y chromium'" >&2
        exit 1
    fi
fi
if ! "$PY" -c "import playwright.sync_api" 2>/dev/null; then
    echo "$WHO: installing the playwright package (the project's optional dependency 'e2e')"
    "$PY" -m pip install -q -e ".[e2e]"
fi
