#!/usr/bin/env bash
# make e2e: install what the browser tests need if it is missing, then run them.
#   Debian's chromium (apt-get; never `playwright install`), the playwright package (.[e2e]).
# Extra arguments go to pytest, e.g.  bash tests/e2e/run.sh -k student
# Settings (environment): E2E_NOTEBOOKS, E2E_STUDENT_DIR, E2E_ARTIFACTS; see tests/e2e/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${E2E_PYTHON:-.venv/bin/python}

if [ ! -x /usr/bin/chromium ]; then
    echo "e2e: /usr/bin/chromium is missing; installing Debian's chromium"
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "e2e: cannot install chromium without root: run 'apt-get install -y chromium'" >&2
        exit 1
    fi
fi
if ! "$PY" -c "import playwright.sync_api" 2>/dev/null; then
    echo "e2e: installing the playwright package (the project's optional dependency 'e2e')"
    "$PY" -m pip install -q -e ".[e2e]"
fi

exec "$PY" -m pytest -p no:cacheprovider -p no:randomly tests/e2e/e2e_browser.py -v "$@"
