#!/usr/bin/env bash
# make book-check: the built book (make book) in headless Chromium; see tests/book/book_browser.py.
# Installs what it needs if missing, as make e2e does: Debian's chromium (apt-get; never
# `playwright install`), the playwright package (.[e2e]), axe-core from npm (book/package-lock.json).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${BOOK_PYTHON:-.venv/bin/python}
if [ ! -x /usr/bin/chromium ]; then
    echo "book-check: /usr/bin/chromium is missing; installing Debian's chromium"
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "book-check: run 'apt-get install -y chromium' as root" >&2
        exit 1
    fi
fi
if ! "$PY" -c "import playwright.sync_api" 2>/dev/null; then
    echo "book-check: installing the playwright package (the project's optional dependency 'e2e')"
    "$PY" -m pip install -q -e ".[e2e]"
fi
test -f book/node_modules/axe-core/axe.min.js || npm ci --prefix book --no-audit --no-fund
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
exec "$PY" -m pytest -p no:cacheprovider tests/book/book_browser.py -v -rs "$@"
