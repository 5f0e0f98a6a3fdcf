#!/usr/bin/env bash
# make e2e: install what the browser tests need if it is missing, then run them.
#   Debian's chromium (apt-get; never `playwright install`), the playwright package (.[e2e]).
# Extra arguments go to pytest, e.g.  bash tests/e2e/run.sh -k student
# Settings (environment): E2E_NOTEBOOKS, E2E_STUDENT_DIR, E2E_ARTIFACTS; see tests/e2e/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${E2E_PYTHON:-.venv/bin/python}

WHO=e2e
# shellcheck source=../browser_setup.sh
source tests/browser_setup.sh

# The notebooks' networks are small: one BLAS thread per kernel beats several fighting over the
# cores (the Makefile sets the same; these defaults hold when run.sh is called directly).
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
export MKL_NUM_THREADS=${MKL_NUM_THREADS:-1}
# E2E_WORKERS pytest-xdist workers (default 2), each with its own JupyterLab server and browser,
# one test at a time each; 0 runs everything in this process. --maxschedchunk 1: a free worker
# takes the next test in conftest's order (longest first), so the workers finish close together.
# (Not --dist loadgroup: with pytest 9, xdist 3.8's xdist_group no longer groups anything.)
WORKERS=${E2E_WORKERS:-2}
if [ "$WORKERS" = 0 ]; then
    XDIST=(-p no:xdist)
else
    XDIST=(-n "$WORKERS" --dist load --maxschedchunk 1)
fi
# explorer.js in Chromium against matplotlib's render, and its frame cache: make test skips these
# when no browser is installed; here one is, so they run and may not skip. They run beside the
# notebooks (about 35 s alone, 140 s beside the notebooks on a slow hour); their output follows the
# summary. While they run, the file E2E_QUIET_FILE exists: no explorer's latency is timed until it
# is gone (a third browser would share the cores with the latency stage).
UNIT_LOG=$(mktemp)
UNIT_BUSY=$(mktemp)
(
    if RNN_REQUIRE_BROWSER=1 "$PY" -m pytest -q -p no:cacheprovider -p no:randomly \
        tests/test_widgets.py -m browser >"$UNIT_LOG" 2>&1; then s=0; else s=$?; fi
    rm -f "$UNIT_BUSY"
    exit "$s"
) &
UNIT_PID=$!
export E2E_QUIET_FILE="$UNIT_BUSY"
# -rs: a skipped step (e.g. the student release the course tooling refused to build) says why.
STATUS=0
"$PY" -m pytest -p no:cacheprovider -p no:randomly "${XDIST[@]}" tests/e2e/e2e_browser.py \
    -v -rs --durations=40 "$@" || STATUS=$?
UNIT_STATUS=0
wait "$UNIT_PID" || UNIT_STATUS=$?
echo "explorer.js in Chromium (tests/test_widgets.py -m browser):"
cat "$UNIT_LOG"
rm -f "$UNIT_LOG" "$UNIT_BUSY"
if [ "$UNIT_STATUS" != 0 ]; then
    echo "e2e: the explorer.js browser tests failed (exit $UNIT_STATUS)" >&2
    [ "$STATUS" != 0 ] || STATUS=$UNIT_STATUS
fi
exit "$STATUS"
