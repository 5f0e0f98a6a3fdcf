# Two commands set everything up on a fresh machine with Python 3.11 and make:
#   make lab    create .venv if needed, install, open JupyterLab on the notebooks
#   make test   create .venv if needed, install, run ruff and the whole test suite
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JOBS   ?= 2
# The networks here are small: one BLAS thread per process is faster than several fighting over
# two cores (and pytest -n already runs one process per core). Override on the command line.
OPENBLAS_NUM_THREADS ?= 1
OMP_NUM_THREADS      ?= 1
MKL_NUM_THREADS      ?= 1
export OPENBLAS_NUM_THREADS OMP_NUM_THREADS MKL_NUM_THREADS

.PHONY: lab test lint portable bench e2e release grade clean acceptance book book-check

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "make: $(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test,course]"
	touch $(STAMP)

# As root (containers, CI machines) Jupyter refuses to start without --allow-root.
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

lint: $(STAMP)
	$(BIN)/ruff check rnn_core tests benchmarks notebooks book

# Notebooks run under nbval (lax: every cell must run without error; asserts inside check the numbers).
# The acceptance test (a fresh venv from the student release, every command of its README) takes
# minutes: make acceptance.
# RNN_PLOTS=inline: headless runs draw images (setup() would pick ipympl where it is installed);
# make e2e runs the notebooks in JupyterLab with the backend setup() picks.
test: lint
	RNN_PLOTS=inline $(BIN)/python -m pytest -n $(JOBS) --dist loadfile --nbval-lax \
		--nbval-cell-timeout=120 -m "not acceptance"
	$(MAKE) --no-print-directory portable

# The notebooks again with OpenBLAS forced to two other kernel families, as two other CPUs would run
# them (docs/architecture.md, Randomness): what training produces must hold on every kernel.
# OPENBLAS_CORETYPE names x86-64 kernels of OpenBLAS (numpy's wheels); elsewhere this says so and
# runs nothing (under CI=true a BLAS that cannot be switched is an error).
CORETYPES ?= Sandybridge Prescott
portable: $(STAMP)
	@if [ "$$(uname -m)" != x86_64 ]; then echo "make portable: OPENBLAS_CORETYPE needs x86-64; skipped on $$(uname -m)"; exit 0; fi; \
	arch='import numpy, threadpoolctl as t; print(*sorted({p.get("architecture") for p in t.threadpool_info() if p["user_api"] == "blas"}))'; \
	native=$$($(BIN)/python -c "$$arch"); \
	if [ -z "$$native" ]; then echo "make portable: numpy's BLAS is not OpenBLAS: kernels cannot be forced; skipped"; \
		[ "$${CI:-}" != true ] || exit 1; exit 0; fi; \
	for c in $(CORETYPES); do \
		forced=$$(OPENBLAS_CORETYPE=$$c $(BIN)/python -c "$$arch"); \
		if [ "$$forced" = "$$native" ]; then echo "make portable: $$c is this machine's own kernel: the run above covered it"; continue; fi; \
		echo "make portable: notebooks with OPENBLAS_CORETYPE=$$c (BLAS kernel '$$forced'; this machine's: '$$native')"; \
		OPENBLAS_CORETYPE=$$c RNN_PLOTS=inline $(BIN)/python -m pytest -q -n $(JOBS) --dist loadfile \
			--nbval-lax --nbval-cell-timeout=120 -p no:cacheprovider notebooks || exit 1; \
	done

acceptance: $(STAMP)
	$(BIN)/python -m pytest -m acceptance -s tests/test_acceptance_release.py

# Real browser: JupyterLab in headless Chromium, every notebook run, sliders stepped, latency measured.
e2e: $(STAMP)
	bash tests/e2e/run.sh

# Course tooling (docs/instructors.md): a student release, and grading a folder of submissions.
SUBMISSIONS ?= submissions
RESULTS     ?= build/results
# build/release.zip is what course.toml's release_url publishes (the Colab set-up cell installs it).
release: $(STAMP)
	$(BIN)/rnn-course release . build/release --force --zip build/release.zip

grade: $(STAMP)
	$(BIN)/rnn-course grade $(SUBMISSIONS) --source . --out $(RESULTS)

# The static book (issue 18, docs/publishing.md): every notebook executed and rendered to build/book,
# solutions cleared and leak-checked. SOLUTIONS=1 keeps them: instructors only, never publish it.
# MathJax and axe-core come from npm into book/node_modules (book/package-lock.json).
book: $(STAMP)
	@command -v npm >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; } \
		|| { echo "make book: npm is missing: run 'apt-get install -y npm' as root"; exit 1; }
	test -f book/node_modules/mathjax/es5/tex-chtml-full.js || npm ci --prefix book --no-audit --no-fund
	$(BIN)/python -m book.build $(if $(filter 1,$(SOLUTIONS)),--solutions)

# The book in headless Chromium: console errors, off-machine requests, alt texts, links, axe-core.
book-check: book
	bash tests/book/run.sh

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
