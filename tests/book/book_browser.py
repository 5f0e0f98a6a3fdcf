"""The static book in a real browser (make book-check, after make book; issue 18).

Debian's Chromium through the playwright package (never ``playwright install``), the book served
from 127.0.0.1. Per page: it loads with no console error and no uncaught exception, it requests
nothing off the machine (every other request is aborted and reported), every ``<img>`` has an alt
text that is not nbconvert's placeholder, every internal link reaches a page (and its anchor), and
axe-core (book/node_modules/axe-core, injected) reports no serious or critical violation.

A second part opens one notebook in JupyterLab, runs it, audits it with axe-core and writes what
it finds to ``build/book-check/jupyterlab-axe.json`` (JupyterLab's own issues are not ours to
fix: reported, not asserted); it also checks that an explorer's slider moves from the keyboard
alone and lists every control without a label a screen reader announces.

Not named ``test_*.py``: ``make test`` does not collect it (tests/book/run.sh runs it).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

REPO = Path(__file__).resolve().parents[2]
BOOK = Path(os.environ.get("BOOK_DIR", REPO / "build" / "book"))
AXE = REPO / "book" / "node_modules" / "axe-core" / "axe.min.js"
OUT = REPO / "build" / "book-check"
CHROMIUM = "/usr/bin/chromium"
PLACEHOLDER_ALT = "No description has been provided for this image"
BAD_IMPACT = ("serious", "critical")

sys.path.insert(0, str(REPO / "tests" / "e2e"))


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    if not (BOOK / "index.html").is_file():
        pytest.fail(f"no book at {BOOK}: run make book first")
    handler = functools.partial(_Quiet, directory=str(BOOK))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield b
        b.close()


def _pages() -> list[str]:
    return sorted(p.name for p in BOOK.glob("*.html")) if BOOK.is_dir() else ["index.html"]


def _local(url: str) -> bool:
    u = urlparse(url)
    return u.scheme in ("data", "blob", "about") or u.hostname == "127.0.0.1"


def audit(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the loaded page (WCAG 2.0/2.1 A and AA rules, best practices)."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations.map(
            v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
                   first: v.nodes[0] && v.nodes[0].target.join(' '),
                   targets: v.nodes.slice(0, 30).map(n => n.target.join(' '))}))"""
    )


@pytest.mark.parametrize("name", _pages())
def test_page(name: str, server: str, browser: Any) -> None:
    page = browser.new_page()
    errors: list[str] = []
    off_machine: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r: Any) -> None:
        if _local(r.request.url):
            r.continue_()
        else:
            off_machine.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url) if _local(r.url) else None)
    resp = page.goto(server + name, wait_until="load")
    assert resp is not None and resp.ok, f"{name}: HTTP {resp and resp.status}"
    if page.evaluate("() => document.querySelector('script[src*=mathjax]') !== null"):
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                               timeout=60_000)
        page.evaluate("() => MathJax.startup.promise")
    images = page.evaluate("() => [...document.images].map(i => i.getAttribute('alt'))")
    links = page.evaluate(
        "() => [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))")
    violations = audit(page)
    bad = [v for v in violations if v["impact"] in BAD_IMPACT]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.axe.json").write_text(json.dumps(violations, indent=1))
    broken = []
    for href in links:
        if "://" in href or href.startswith("mailto:"):
            continue
        target, _, anchor = href.partition("#")
        target = target or name
        if not (BOOK / target).is_file():
            broken.append(href)
        elif anchor:
            sub = browser.new_page() if target != name else page
            if sub is not page:
                sub.goto(server + target, wait_until="domcontentloaded")
            if not sub.evaluate("(id) => document.getElementById(id) !== null", anchor):
                broken.append(href)
            if sub is not page:
                sub.close()
    page.close()
    assert not off_machine, f"{name}: requests off the machine: {off_machine}"
    assert not failed, f"{name}: local requests that failed: {failed}"
    assert not errors, f"{name}: console errors: {errors}"
    assert all(a and a.strip() and a.strip() != PLACEHOLDER_ALT for a in images), (
        f"{name}: images without alt text: {[a for a in images if not a]}")
    assert not broken, f"{name}: broken internal links: {broken}"
    assert not bad, f"{name}: axe-core serious/critical violations: {bad}"


# -- JupyterLab: one notebook, axe-core, keyboard and labels ------------------------------------

LAB_NOTEBOOK = os.environ.get("BOOK_LAB_NOTEBOOK", "notebooks/08_lstm.ipynb")

CONTROLS_JS = """() => [...document.querySelectorAll(
    '.jp-OutputArea-output .widget-slider, .jp-OutputArea-output .widget-dropdown, '
    + '.jp-OutputArea-output .widget-checkbox, .jp-OutputArea-output .widget-toggle-buttons, '
    + '.jp-OutputArea-output .widget-inline-hbox, .jp-OutputArea-output .rnn-explorer-control'
    )].flatMap(box => {
        const ctl = box.querySelector('[role=slider], select, input, button');
        if (!ctl) return [];
        const labelled = ctl.getAttribute('aria-label') || ctl.getAttribute('aria-labelledby')
            || (ctl.id && document.querySelector(`label[for="${ctl.id}"]`)) || ctl.closest('label');
        const desc = box.querySelector('.widget-label, label');
        return [{kind: ctl.getAttribute('role') || ctl.tagName.toLowerCase(),
                 visible_label: desc ? desc.textContent.trim() : '',
                 accessible_name: labelled ? (ctl.getAttribute('aria-label') || 'labelled') : ''}];
    })"""


def test_jupyterlab_notebook_axe_keyboard_and_labels(browser: Any) -> None:
    import e2e_harness as h

    OUT.mkdir(parents=True, exist_ok=True)
    env = {"RNN_PLOTS": "widget"}
    server = h.LabServer(REPO, OUT / "lab.log", extra_env=env).start()
    try:
        ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
        page = ctx.new_page()
        h.open_notebook(page, server, LAB_NOTEBOOK, "book-check")
        h.run_all(page, timeout_s=600)
        slider = ".jp-OutputArea-output [role=slider], .jp-OutputArea-output input[type=range]"
        page.wait_for_selector(slider, timeout=60_000)
        violations = audit(page)
        controls = page.evaluate(CONTROLS_JS)
        # keyboard alone: focus the first slider handle, press ArrowRight, the value moves
        handle = page.locator(slider).first
        value = "(e) => e.getAttribute('aria-valuenow') ?? e.value"   # a native range: .value
        before = handle.evaluate(value)
        handle.focus()
        page.keyboard.press("ArrowRight")
        time.sleep(0.5)
        after = handle.evaluate(value)
        report = {"notebook": LAB_NOTEBOOK, "axe_violations": violations, "controls": controls,
                  "slider_keyboard": {"before": before, "after": after}}
        (OUT / "jupyterlab-axe.json").write_text(json.dumps(report, indent=1))
        ctx.close()
    finally:
        server.stop()
    assert before is not None and after is not None and before != after, (
        f"ArrowRight on a focused slider did not change its value ({before} -> {after})")
