"""Run notebooks in JupyterLab in headless Chromium, the way a student would.

The pieces, used by ``e2e_browser.py`` (the pytest entry point) and usable on their own:

- ``LabServer``: a JupyterLab server on 127.0.0.1 with a random token, a free port, and temporary
  runtime/config/data/settings/workspace folders; started and stopped by its own process group.
- ``launch_browser``: Debian's ``/usr/bin/chromium`` driven by Playwright, fresh profile, headless.
- ``run_notebook``: opens one notebook in a fresh workspace, runs all cells, reads every output from
  the notebook model, checks that every widget rendered, then (explorer mode) steps each slider and
  dropdown of each explorer, asserting that the explorer's canvas pixels and the readout change, and
  measures slider-step latency in the page (key event to changed pixels, ``performance.now()``).

Nothing here imports ``rnn_core``; the harness only knows notebooks, widgets and canvases.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# Texts the ipywidgets frontend writes into an output when a widget cannot be shown.
WIDGET_FAILURES = (
    "Error displaying widget",
    "model not found",
    "Failed to load model class",
    "Failed to load view class",
    "Failed to create view",
)
EXERCISE_RE = re.compile(r"Exercise\s+([^\s:][^:]*?)\s*:")


def env_float(name: str, default: float) -> float:
    """Read a float setting from the environment (``E2E_*``), falling back to ``default``."""
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


RUN_TIMEOUT_S = env_float("E2E_RUN_TIMEOUT", 300.0)  # one notebook's "Run All"
WIDGET_TIMEOUT_S = env_float("E2E_WIDGET_TIMEOUT", 30.0)  # "Loading widget..." must be gone by then
STEP_TIMEOUT_S = env_float("E2E_STEP_TIMEOUT", 5.0)  # one slider step until the pixels change
LATENCY_STEPS = int(env_float("E2E_LATENCY_STEPS", 20))  # at least 15 by the issue
JUMP_STEPS = int(env_float("E2E_JUMP_STEPS", 10))  # random jumps timed per explorer


def artifacts_dir() -> Path:
    """Where screenshots, the server log and the latency table go (``E2E_ARTIFACTS``)."""
    return Path(os.environ.get("E2E_ARTIFACTS", REPO / "e2e-artifacts")).resolve()


def find_notebooks(folder: Path) -> list[Path]:
    """Return the ``*.ipynb`` files under ``folder`` (recursively, no checkpoints), sorted."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts]
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes (the harness must leave notebooks untouched)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_answers(port: int) -> bool:
    """True if something accepts TCP connections on 127.0.0.1:``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


# --------------------------------------------------------------------------- the server
LAB_SETTINGS = {
    # every cell stays in the DOM, so outputs further down are rendered and can be checked
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # never write the outputs back into the repository's notebooks
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    # no news/update toast over the page
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


class LabServer:
    """JupyterLab on 127.0.0.1 with a token, owned by this object through its process group.

    Parameters
    ----------
    root_dir : Path
        The server's root folder; every notebook to open must lie under it.
    log_path : Path
        Where the server's stdout and stderr go.
    extra_env : dict, optional
        Added to the environment of the server and so of its kernels (student mode puts the
        release first on ``PYTHONPATH``, ahead of the repository's editable install).
    """

    def __init__(
        self, root_dir: Path, log_path: Path, extra_env: dict[str, str] | None = None
    ) -> None:
        self.root_dir = root_dir.resolve()
        self.log_path = log_path
        self.extra_env = dict(extra_env or {})
        self.port = free_port()
        self.token = secrets.token_hex(24)
        self.tmp = Path(tempfile.mkdtemp(prefix="rnn-e2e-lab-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self._log = None
        self._closing: list[threading.Thread] = []  # sessions being ended in the background

    # The server's own state lives in self.tmp: nothing from ~/.jupyter leaks in, nothing stays.
    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        for name in ("runtime", "config", "data", "ipython"):
            (self.tmp / name).mkdir(exist_ok=True)
        env["JUPYTER_RUNTIME_DIR"] = str(self.tmp / "runtime")
        env["JUPYTER_CONFIG_DIR"] = str(self.tmp / "config")
        env["JUPYTER_DATA_DIR"] = str(self.tmp / "data")
        env["IPYTHONDIR"] = str(self.tmp / "ipython")
        env.pop("JUPYTER_PATH", None)
        env.pop("JUPYTER_CONFIG_PATH", None)
        env["PYTHONUNBUFFERED"] = "1"
        env.update(self.extra_env)
        return env

    def _write_settings(self) -> Path:
        settings = self.tmp / "user-settings"
        for rel, values in LAB_SETTINGS.items():
            path = settings / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        return settings

    def start(self, timeout_s: float = 90.0) -> LabServer:
        """Start the server and wait until its REST API answers; raise with the log tail if not."""
        return self.launch().wait_ready(timeout_s)

    def launch(self) -> LabServer:
        """Start the server process and return at once (``wait_ready`` waits for it to answer)."""
        settings = self._write_settings()
        workspaces = self.tmp / "workspaces"
        workspaces.mkdir()
        cmd = [
            sys.executable, "-m", "jupyterlab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--port-retries=0",
            f"--ServerApp.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            "--ServerApp.open_browser=False",
            "--ServerApp.terminals_enabled=False",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={workspaces}",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")  # CI runs as root
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd,
            cwd=self.root_dir,
            env=self._env(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kernels included, killed together
        )
        return self

    def wait_ready(self, timeout_s: float = 90.0) -> LabServer:
        """Wait until the launched server's REST API answers; stop it and raise if it does not."""
        if self.proc is None:
            raise RuntimeError("LabServer.wait_ready: the server was not launched (call launch)")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"jupyter lab exited early:\n{self.log_tail()}")
            if self._status_ok():
                return self
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(
            f"jupyter lab did not answer within {timeout_s:.0f} s:\n{self.log_tail()}"
        )

    def _status_ok(self) -> bool:
        try:
            with urllib.request.urlopen(self.url("api/status"), timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def url(self, path: str, query: str = "") -> str:
        """Absolute URL for ``path`` on this server, with the token."""
        sep = "&" if query else ""
        return f"http://127.0.0.1:{self.port}/{path}?{query}{sep}token={self.token}"

    def log_tail(self, n: int = 40) -> str:
        """The last ``n`` lines of the server log."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-n:])

    def end_session_later(self, session_id: str) -> None:
        """End a notebook's session and its kernel (``DELETE /api/sessions/<id>``) in a thread:
        the next notebook need not wait for the kernel to exit. ``stop`` waits for these."""
        def end() -> None:
            req = urllib.request.Request(self.url(f"api/sessions/{session_id}"), method="DELETE")
            try:
                urllib.request.urlopen(req, timeout=30).close()
            except (urllib.error.URLError, OSError):
                pass  # the server is stopping: stop() ends its kernels with it

        thread = threading.Thread(target=end, daemon=True)
        thread.start()
        self._closing.append(thread)

    # After /api/shutdown the server may sit for many seconds after "Shutting down N extensions"
    # with every kernel already gone: this long, then its process group is ended by signal.
    SHUTDOWN_GRACE_S = 2.0

    def stop(self) -> None:
        """Ask the server to shut down (kernels too), then end its process group; wait for it."""
        for thread in self._closing:
            thread.join(timeout=30)
        self._closing.clear()
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            try:
                req = urllib.request.Request(self.url("api/shutdown"), method="POST")
                urllib.request.urlopen(req, timeout=5).close()
            except (urllib.error.URLError, OSError):
                pass
            try:
                proc.wait(timeout=self.SHUTDOWN_GRACE_S)
            except subprocess.TimeoutExpired:
                pass
            for sig, wait_s in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
                try:
                    os.killpg(proc.pid, sig)  # the group this object created, nothing else
                except ProcessLookupError:
                    break
                try:
                    proc.wait(timeout=wait_s)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if proc is not None:
            # kernels sit in the same group and may outlive the server for a moment
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self._log is not None:
            self._log.close()
            self._log = None
        shutil.rmtree(self.tmp, ignore_errors=True)


# --------------------------------------------------------------------------- student release
def build_release(out: Path, timeout_s: float = 300.0) -> tuple[Path | None, str]:
    """Build the student release of this repository into ``out`` with the course tooling.

    Runs ``python -m rnn_core.course release <repo> <out> --force`` (docs/instructors.md) in a
    child process. Returns ``(out, "")`` when it built a folder with notebooks, else
    ``(None, reason)`` with the tool's own last words, so the caller can report why.
    """
    cmd = [sys.executable, "-m", "rnn_core.course", "release", str(REPO), str(out), "--force"]
    try:
        proc = subprocess.run(
            cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout_s,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return None, f"`{' '.join(cmd[1:])}` did not finish within {timeout_s:.0f} s"
    if proc.returncode != 0:
        said = [ln for ln in (proc.stderr + proc.stdout).strip().splitlines() if ln.strip()]
        last = said[-1].strip() if said else "(no message)"
        return None, f"the course tooling refused to build it (exit {proc.returncode}): {last}"
    if not find_notebooks(out):
        return None, f"the release built into {out} holds no notebook"
    return out, ""


# --------------------------------------------------------------------------- the browser
def launch_browser(playwright: Any, profile_dir: Path) -> Any:
    """Launch Debian's Chromium (never a downloaded one), fresh profile; return the context."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: `apt-get install -y chromium` (make e2e does)")
    return playwright.chromium.launch_persistent_context(
        str(profile_dir),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_FLAGS,
        viewport={"width": 1280, "height": 1000},
    )


# In-page helpers, installed before JupyterLab's own scripts. Kept small: hashing canvas pixels,
# waiting for them to settle, stepping a slider and timing the first changed frame.
PAGE_JS = r"""
// Every call that may change a 2D canvas's pixels counts a draw on that canvas: each context
// method but the read-only ones, and setting its width or height (which clears it). A canvas's
// pixel hash is recomputed only when its count moved: hashing a 1250 x 520 canvas reads it back
// (about 8 ms on an idle core), and the waits below look at every animation frame, on the page's
// main thread, where explorer.js handles the kernel's frames and paints them.
(() => {
  const READ = new Set(["constructor", "getImageData", "measureText", "isPointInPath",
    "isPointInStroke", "getTransform", "getLineDash", "getContextAttributes", "createImageData",
    "createLinearGradient", "createRadialGradient", "createConicGradient", "createPattern"]);
  const ctx = CanvasRenderingContext2D.prototype;
  for (const name of Object.getOwnPropertyNames(ctx)) {
    const d = Object.getOwnPropertyDescriptor(ctx, name);
    if (READ.has(name) || typeof d.value !== "function") continue;
    const f = d.value;
    ctx[name] = function (...args) {
      if (this.canvas) this.canvas.__e2eDraws = (this.canvas.__e2eDraws || 0) + 1;
      return f.apply(this, args);
    };
  }
  const canvas = HTMLCanvasElement.prototype;
  for (const prop of ["width", "height"]) {
    const d = Object.getOwnPropertyDescriptor(canvas, prop);
    Object.defineProperty(canvas, prop, {...d, set(v) {
      this.__e2eDraws = (this.__e2eDraws || 0) + 1;
      d.set.call(this, v);
    }});
  }
})();
window.__e2e = {
  dir: new WeakMap(),
  stale: 0,     // cached hashes found different from the pixels (verify): must stay 0
  frame() { return new Promise(r => requestAnimationFrame(() => r())); },
  // the course's explorers (rnn_core.widgets, drawn in the browser): a canvas and native controls
  canvases(cell) { return [...cell.querySelectorAll('.rnn-explorer canvas.rnn-explorer-canvas')]; },
  sliders(cell) { return [...cell.querySelectorAll('.rnn-explorer input[type="range"]')]; },
  selects(cell) { return [...cell.querySelectorAll('.rnn-explorer select')]; },
  checkboxes(cell) { return [...cell.querySelectorAll('.rnn-explorer input[type="checkbox"]')]; },
  number(slider) { return slider.parentElement.querySelector('.rnn-explorer-number'); },
  pixelHash(c) {
    if (!c.width || !c.height) return 0;
    const d = new Uint32Array(c.getContext('2d').getImageData(0, 0, c.width, c.height).data.buffer);
    let x = 0x811c9dc5;
    for (let i = 0; i < d.length; i++) x = Math.imul(x ^ d[i], 16777619);
    return x >>> 0;
  },
  // the pixel hash, kept until the canvas's next draw
  hash(c) {
    const draws = c.__e2eDraws || 0;
    if (c.__e2eHashAt !== draws) {
      c.__e2eHash = this.pixelHash(c);
      c.__e2eHashAt = draws;
    }
    return c.__e2eHash;
  },
  hashes(cell) { return this.canvases(cell).map(c => this.hash(c)); },
  // the cached hashes against the pixels, once per pause: a draw the count missed shows here
  verify(cell) {
    for (const c of this.canvases(cell)) {
      if (c.__e2eHashAt !== undefined && c.__e2eHashAt === (c.__e2eDraws || 0)
          && c.__e2eHash !== this.pixelHash(c)) this.stale += 1;
    }
  },
  readouts(cell) {
    return [...cell.querySelectorAll('.rnn-explorer-readout')].map(e => e.textContent.trim());
  },
  // an explorer waiting for the kernel's frame of the position its controls show, or for the
  // frames of its near neighbours (next positions of each control)
  waiting(cell) {
    return [...cell.querySelectorAll('.rnn-explorer')]
      .some(e => e.dataset.waiting !== '0' || e.dataset.near !== 'held');
  },
  // Quiet: pixels unchanged for quietMs, every explorer showing its frame and holding its near
  // neighbours (a student who pauses a moment). The kernel may still be fetching further ahead.
  async settle(cell, quietMs, timeoutMs) {
    const start = performance.now();
    let last = JSON.stringify(this.hashes(cell)), since = performance.now();
    while (performance.now() - start < timeoutMs) {
      await this.frame();
      const now = JSON.stringify(this.hashes(cell));
      if (now !== last || this.waiting(cell)) { last = now; since = performance.now(); }
      else if (performance.now() - since >= quietMs) { this.verify(cell); return true; }
    }
    return false;
  },
  // ms from t0 until the canvas shows new pixels
  async waitChange(cell, before, t0, timeoutMs) {
    while (performance.now() - t0 < timeoutMs) {
      await this.frame();
      const h = this.hashes(cell);
      if (h.some((x, i) => x !== before[i])) return performance.now() - t0;
    }
    return null;
  },
  control(cell, kind, k) {
    return {slider: this.sliders, select: this.selects, checkbox: this.checkboxes}[kind]
      .call(this, cell)[k];
  },
  value(el, kind) {
    if (kind === 'slider') return this.number(el) ? this.number(el).value : el.value;
    if (kind === 'select') return el.options[el.selectedIndex].textContent;
    return String(el.checked);
  },
  // Before the harness presses a real key on (or clicks) control k: the figure, the control's
  // value and the readouts now, and t0 = the time of the next keydown/click on the control.
  arm(cell, kind, k) {
    const el = this.control(cell, kind, k);
    if (!el) return null;
    if (el.disabled) return {disabled: true};
    this.step = {el, kind, before: this.hashes(cell), valueBefore: this.value(el, kind),
                 labelsBefore: this.readouts(cell), t0: null};
    const mark = () => {
      if (this.step && this.step.t0 === null) this.step.t0 = performance.now();
    };
    el.addEventListener(kind === 'checkbox' ? 'pointerdown' : 'keydown', mark,
                        {capture: true, once: true});
    el.addEventListener('keydown', mark, {capture: true, once: true});
    const keys = this.dir.get(el) || ['ArrowRight', 'ArrowLeft'];
    return {disabled: false, keys, valueBefore: this.step.valueBefore};
  },
  // After the key/click: did the control move, and when did the canvas change (ms after t0)?
  async finish(cell, key, timeoutMs) {
    const s = this.step;
    const after = this.value(s.el, s.kind);
    const out = {moved: after !== s.valueBefore, key, valueBefore: s.valueBefore,
                 valueAfter: after, readoutBefore: s.valueBefore, readoutAfter: after,
                 labelsBefore: s.labelsBefore, latency: null};
    if (!out.moved) return out;
    if (s.kind === 'slider' && key) {
      const keys = this.dir.get(s.el) || ['ArrowRight', 'ArrowLeft'];
      if (key !== keys[0]) this.dir.set(s.el, [keys[1], keys[0]]);   // bounced off an end
    }
    out.latency = await this.waitChange(cell, s.before, s.t0 ?? performance.now(), timeoutMs);
    return out;
  },
  // a random jump: the harness types a value into slider k's number field and presses Enter
  armJump(cell, k) {
    const slider = this.sliders(cell)[k];
    const num = slider && this.number(slider);
    if (!num || slider.disabled) return null;
    const d = slider.dataset;
    this.jump = {before: this.hashes(cell), t0: null};
    num.addEventListener('keydown', e => {
      if (e.key === 'Enter' && this.jump && this.jump.t0 === null) this.jump.t0 = performance.now();
    }, {capture: true, once: true});
    return {lo: Number(d.lo), hi: Number(d.hi), log: d.log === '1', integer: d.integer === '1'};
  },
  // what the explorer recorded (explorer.js): requests with their round trip and kernel parts,
  // paints, background decodes
  stats(cell) {
    const e = cell.querySelector('.rnn-explorer');
    return e && e.rnnStats ? JSON.parse(JSON.stringify(e.rnnStats)) : null;
  },
  async waitJump(cell, timeoutMs) {
    const j = this.jump;
    if (!j || j.t0 === null) return null;
    return await this.waitChange(cell, j.before, j.t0, timeoutMs);
  },
};
"""


# --------------------------------------------------------------------------- results
@dataclass
class ExplorerResult:
    """What stepping one explorer (a widget output with a figure and controls) showed."""

    notebook: str
    cell: int
    sliders: int
    dropdowns: int
    checkboxes: int = 0
    output: int | None = None  # which output of the cell, when the cell shows several explorers
    latencies_ms: list[float] = field(default_factory=list)  # next-value steps
    jump_ms: list[float] = field(default_factory=list)  # random jumps across the slider's range
    first_touch_ms: float | None = None  # the first step after the explorer was shown
    load: tuple[float, float] | None = None  # 1-min load average before and after the latency run
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # observations that fail nothing
    screenshot: Path | None = None

    @property
    def tag(self) -> str:
        """Short form for file names: ``cell3`` or ``cell3-out1``."""
        return f"cell{self.cell}" + (f"-out{self.output}" if self.output is not None else "")

    @property
    def name(self) -> str:
        where = f" output {self.output}" if self.output is not None else ""
        return f"{self.notebook} cell {self.cell}{where}"


@dataclass
class NotebookRun:
    """Everything one notebook run produced: cell outputs, problems, explorers, screenshots."""

    path: Path
    mode: str
    cells: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    explorers: list[ExplorerResult] = field(default_factory=list)
    screenshots: list[Path] = field(default_factory=list)
    exercise: str | None = None
    notes: list[str] = field(default_factory=list)  # observations that fail nothing
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per stage of run_notebook

    def phase(self, name: str, since: float) -> float:
        """Add the time from ``since`` (``time.monotonic()``) to stage ``name``; return now."""
        now = time.monotonic()
        self.phases[name] = self.phases.get(name, 0.0) + now - since
        return now


RESULTS: list[NotebookRun] = []  # every run of this session, for the closing summary
NOTES: list[str] = []  # lines for the closing summary (e.g. "notebooks/ is empty")
TEMP_DIRS: list[Path] = []  # removed when the session ends (e.g. the release built for it)
STUDENT_DIR: Path | None = None  # the student release under test, if any


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in [0, 100]) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, int(-(-q * len(ordered) // 100)))  # ceil(q/100 * n), at least 1
    return ordered[min(rank, len(ordered)) - 1]


GOAL_MEDIAN_MS = 100.0
"""Median key event -> changed pixels under which a slider feels instant (issue 17)."""
GOAL_P95_MS = 200.0
"""95th percentile goal of the same."""


def latency_table(explorers: list[ExplorerResult], goal_ms: float = GOAL_MEDIAN_MS,
                  goal_p95_ms: float = GOAL_P95_MS) -> str:
    """A plain-text table: per explorer and kind of step (next value, random jump, first touch
    after the explorer is shown), samples, median, p95 and max latency, load, verdict."""
    width = max([52] + [len(e.name) for e in explorers])
    head = (f"{'explorer':<{width}} {'step':<5} {'n':>3} {'median ms':>10} {'p95 ms':>8}"
            f" {'max ms':>8} {'load1':>11}  goal {goal_ms:.0f} / p95 {goal_p95_ms:.0f}")
    lines = [head, "-" * len(head)]
    for e in explorers:
        load = f"{e.load[0]:.1f}->{e.load[1]:.1f}" if e.load else "-"
        first = [e.first_touch_ms] if e.first_touch_ms is not None else []
        for kind, values in (("next", e.latencies_ms), ("jump", e.jump_ms), ("first", first)):
            if not values:
                if kind == "next":
                    lines.append(f"{e.name:<{width}} {kind:<5} {0:>3} {'-':>10} {'-':>8} {'-':>8}"
                                 f" {load:>11}  no measurement")
                continue
            med = statistics.median(values)
            p95 = percentile(values, 95)
            if med >= goal_ms:
                verdict = f"MISSED (median >= {goal_ms:.0f} ms)"
            elif len(values) > 1 and p95 >= goal_p95_ms:
                verdict = f"MISSED (p95 >= {goal_p95_ms:.0f} ms)"
            else:
                verdict = "met"
            lines.append(
                f"{e.name:<{width}} {kind:<5} {len(values):>3} {med:>10.1f} {p95:>8.1f} "
                f"{max(values):>8.1f} {load:>11}  {verdict}"
            )
    cores = os.cpu_count() or 0
    lines.append(
        f"load1 = os.getloadavg()[0] before -> after each latency run, on {cores} cores; "
        f"now {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1/5/15 min)"
    )
    return "\n".join(lines)


# --------------------------------------------------------------------------- output checks
def output_text(out: dict[str, Any]) -> str:
    """The human-readable text of one nbformat output (stream text, error, or text/plain)."""
    if out.get("output_type") == "stream":
        text = out.get("text", "")
        return "".join(text) if isinstance(text, list) else str(text)
    if out.get("output_type") == "error":
        return f"{out.get('ename', '')}: {out.get('evalue', '')}"
    data = out.get("data", {})
    text = data.get("text/plain", "")
    return "".join(text) if isinstance(text, list) else str(text)


def cell_errors(cell: dict[str, Any]) -> list[str]:
    """Error outputs of one cell: ``output_type == 'error'`` or a Traceback on stderr."""
    found = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            found.append(output_text(out))
        elif out.get("output_type") == "stream" and out.get("name") == "stderr":
            text = output_text(out)
            if "Traceback" in text:
                last = [ln for ln in text.strip().splitlines() if ln.strip()][-1]
                found.append(f"stderr traceback: {last.strip()}")
    return found


def check_all_ran(cells: list[dict[str, Any]]) -> list[str]:
    """Problems for notebook mode: any error output, any code cell left unexecuted."""
    problems = []
    for c in cells:
        for err in cell_errors(c):
            problems.append(f"cell {c['index']}: error output: {err}")
    if not problems:
        for c in cells:
            if c["type"] == "code" and c["source"].strip() and c["execution_count"] is None:
                problems.append(f"cell {c['index']}: never executed")
    return problems


def check_student(cells: list[dict[str, Any]]) -> tuple[list[str], str | None]:
    """Problems for student-release mode, and the name of the first unimplemented exercise.

    Expected: every cell before the first error ran clean; the first error is a
    ``NotImplementedError`` whose message names the exercise (``Exercise <name>: ...``); no cell
    after it ran. A notebook with no exercise may run clean to the end.
    """
    first = next((c for c in cells if cell_errors(c)), None)
    if first is None:
        return check_all_ran(cells), None
    problems = []
    errors = [o for o in first["outputs"] if o.get("output_type") == "error"]
    if not errors:
        problems.append(f"cell {first['index']}: traceback on stderr, not an exception output")
        return problems, None
    err = errors[0]
    message = f"{err.get('ename', '')}: {err.get('evalue', '')}"
    shown = "\n".join(err.get("traceback", []))
    match = EXERCISE_RE.search(str(err.get("evalue", "")))
    if err.get("ename") != "NotImplementedError":
        problems.append(f"cell {first['index']}: first error is not NotImplementedError: {message}")
    elif match is None:
        problems.append(
            f"cell {first['index']}: NotImplementedError does not name the exercise "
            f"('Exercise <name>: ...'): {message}"
        )
    name = match.group(1) if match else None
    if name is not None and (name not in shown or "NotImplementedError" not in shown):
        problems.append(f"cell {first['index']}: the traceback shown does not say '{name}'")
    for c in cells:
        if c["index"] > first["index"] and c["type"] == "code" and c["execution_count"] is not None:
            problems.append(f"cell {c['index']}: ran after the unimplemented exercise")
    return problems, name


def student_stop_note(cells: list[dict[str, Any]], exercise: str | None) -> str | None:
    """A note when a release notebook stops before its own first graded cell (nbgrader metadata).

    Then a student meets the stub (often an exercise of an earlier notebook, or one this notebook
    asks for further down) in a cell that does not ask for it yet.
    """
    if exercise is None:
        return None
    stop = next(c["index"] for c in cells if cell_errors(c))
    graded = [
        c["index"] for c in cells
        if isinstance(c.get("nbgrader"), dict)
        and (c["nbgrader"].get("solution") or c["nbgrader"].get("grade"))
    ]  # fmt: skip
    if graded and stop < graded[0]:
        return (
            f"stops at cell {stop} on exercise {exercise}, before its first graded cell "
            f"{graded[0]}: a student meets this stub before the notebook asks for it"
        )
    return None


# --------------------------------------------------------------------------- the page
def open_notebook(page: Any, server: LabServer, rel: str, workspace: str) -> None:
    """Open ``rel`` (relative to the server root) in a new, empty workspace; wait for its kernel."""
    goto_notebook(page, server, rel, workspace)
    wait_notebook_open(page, rel)


def goto_notebook(page: Any, server: LabServer, rel: str, workspace: str) -> None:
    """Navigate to ``rel`` in a new, empty workspace; return while JupyterLab loads."""
    page.goto(server.url(f"lab/workspaces/{workspace}/tree/{rel}"), wait_until="domcontentloaded")


def wait_notebook_open(page: Any, rel: str) -> None:
    """After ``page.goto`` the notebook's URL: wait until it is open and its kernel idle."""
    wait_lab_ready(page, rel)
    wait_kernel_idle(page, rel)


def wait_lab_ready(page: Any, rel: str) -> None:
    """After ``page.goto`` the notebook's URL: wait until JupyterLab has loaded and shows it."""
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell", timeout=120_000, polling=100
    )
    page.evaluate(
        """async (path) => {
            const app = window.jupyterapp;
            await app.restored;
            const isIt = w => w && w.context && w.context.path === path && w.content
                && w.content.widgets !== undefined;
            if (!isIt(app.shell.currentWidget)) {
                await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
            }
        }""",
        rel,
    )


def wait_kernel_idle(page: Any, rel: str) -> None:
    """Once ``wait_lab_ready``: wait until the notebook's model is loaded and its kernel idle."""
    page.wait_for_function(
        """(path) => {
            const w = window.jupyterapp.shell.currentWidget;
            return w && w.context && w.context.path === path && w.context.isReady
                && w.sessionContext && w.sessionContext.session
                && w.sessionContext.session.kernel
                && w.sessionContext.session.kernel.status === 'idle';
        }""",
        arg=rel,
        timeout=120_000,
        polling=100,
    )


def run_all(page: Any, timeout_s: float) -> None:
    """Run > Run All Cells (``notebook:run-all-cells``) and wait until the kernel is idle again."""
    start_run_all(page)
    wait_run_all(page, timeout_s)


def start_run_all(page: Any) -> None:
    """Start Run All Cells in the page's notebook; ``wait_run_all`` waits for it to end."""
    page.evaluate(
        """() => {
            const app = window.jupyterapp;
            const id = app.shell.currentWidget.id;
            app.shell.activateById(id);
            // widgetId names the notebook, so the command never depends on focus tracking;
            // it resolves (true/false) once every cell ran or the run stopped at an error.
            const attempt = async (n) => {
                const ok = await app.commands.execute('notebook:run-all-cells', {widgetId: id});
                if (typeof ok === 'boolean') return 'done';
                if (n <= 0) return 'failed: notebook:run-all-cells found no notebook';
                await new Promise(r => setTimeout(r, 250));
                return attempt(n - 1);
            };
            window.__e2e_run = attempt(40).catch(e => 'failed: ' + e);
        }"""
    )


def wait_run_all(page: Any, timeout_s: float) -> None:
    """Wait until the Run All that ``start_run_all`` began is over; raise if it failed."""
    # Done when the command has resolved, the kernel is idle, and no prompt shows [*].
    page.wait_for_function(
        """async () => {
            const state = await Promise.race([window.__e2e_run, Promise.resolve('running')]);
            if (state === 'running') return false;
            const w = window.jupyterapp.shell.currentWidget;
            const busy = w.content.widgets.some(c => c.model.type === 'code'
                && c.promptNode && c.promptNode.textContent.includes('*'));
            return !busy && w.sessionContext.session.kernel.status === 'idle';
        }""",
        timeout=timeout_s * 1000,
        polling=200,
    )
    state = page.evaluate("window.__e2e_run")
    if state != "done":
        raise RuntimeError(f"Run All Cells: {state}")
    time.sleep(0.3)  # let the last iopub messages (widget state, images) arrive


def read_cells(page: Any) -> list[dict[str, Any]]:
    """Every cell of the open notebook, from its model: type, source, execution count, outputs."""
    return page.evaluate(
        """() => window.jupyterapp.shell.currentWidget.content.widgets.map((c, index) => ({
            index,
            type: c.model.type,
            source: c.model.sharedModel.getSource(),
            execution_count: c.model.type === 'code' ? (c.model.executionCount ?? null) : null,
            nbgrader: c.model.sharedModel.getMetadata().nbgrader || null,
            outputs: c.model.type === 'code' ? c.model.outputs.toJSON() : [],
        }))"""
    )


def check_widgets(page: Any, cells: list[dict[str, Any]], timeout_s: float) -> list[str]:
    """Wait for widget outputs to render; return a problem per widget that did not.

    A widget output has no mime-type attribute in the page, so outputs are matched to the model by
    position: the k-th ``.jp-OutputArea-child`` of cell i shows the k-th output of cell i.
    """
    js_state = """() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')].map(cell => ({
        outputs: [...cell.querySelectorAll('.jp-OutputArea-child > .jp-OutputArea-output')]
            .filter(o => !o.parentElement.closest('.jp-OutputArea-output'))  // not inside a widget
            .map(o => ({text: o.textContent.slice(0, 300),
                        view: !!o.querySelector(
                            '.jupyter-widgets, .jupyter-matplotlib, .rnn-explorer'),
                        error: !!o.querySelector('.jupyter-widgets-error-widget')})),
    }))"""
    wanted = [
        (c["index"], k) for c in cells for k, o in enumerate(c["outputs"])
        if WIDGET_MIME in o.get("data", {})
    ]  # fmt: skip
    deadline = time.monotonic() + timeout_s
    while True:
        state = page.evaluate(js_state)
        pending = [(i, k) for i, k in wanted if not _widget_shown(state, i, k)]
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    problems = []
    for i, k in wanted:
        if i >= len(state) or k >= len(state[i]["outputs"]):
            problems.append(f"cell {i}: widget output {k} is not in the page")
            continue
        out = state[i]["outputs"][k]
        text = out["text"].strip()
        if out["error"] or any(f in text for f in WIDGET_FAILURES):
            problems.append(f"cell {i}: widget did not render: {text[:160]}")
        elif "Loading widget" in text or not out["view"]:
            problems.append(
                f"cell {i}: widget still not shown after {timeout_s:.0f} s: {text[:80]!r}"
            )
    return problems


def _widget_shown(state: list[dict[str, Any]], i: int, k: int) -> bool:
    if i >= len(state) or k >= len(state[i]["outputs"]):
        return False
    out = state[i]["outputs"][k]
    return bool(out["view"]) and "Loading widget" not in out["text"]


def page_traceback_cells(page: Any) -> list[int]:
    """Indices of cells whose rendered stderr (where errors show) holds a Traceback."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')].map((cell, i) =>
            [...cell.querySelectorAll(
                '.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]')]
                .some(o => /Traceback|Error/.test(o.textContent)) ? i : -1).filter(i => i >= 0)"""
    )


def _number_tokens(text: str) -> list[str]:
    return re.findall(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", text)


def shows_value(label: str, value: str) -> bool:
    """True if ``label`` contains the number ``value`` (to the precision either one prints)."""
    try:
        target = float(value)
    except ValueError:
        return value in label
    digits = len(value.split(".")[1]) if "." in value else 0
    for tok in _number_tokens(label):
        tok_digits = len(tok.split(".")[1]) if "." in tok.split("e")[0].split("E")[0] else 0
        tol = 0.5 * 10 ** (-min(digits, tok_digits)) + 1e-12
        if abs(float(tok) - target) <= tol:
            return True
    return False


def wait_labels_changed(page: Any, cell_el: Any, before: list[str], timeout_s: float) -> list[str]:
    """The explorer's readout texts once they differ from ``before`` (or at the timeout)."""
    deadline = time.monotonic() + timeout_s
    while True:
        now = page.evaluate("(cell) => window.__e2e.readouts(cell)", cell_el)
        if now != before or time.monotonic() > deadline:
            return now
        time.sleep(0.05)


def _check_readout(
    page: Any, el: Any, result: ExplorerResult, tag: str, r: dict[str, Any], value_shown: bool
) -> None:
    """The explorer's Label/HTML readout after one control change (``r`` from the page).

    An explorer with a readout widget must update it on every slider step, and the new text must
    show the slider's new value (``value_shown``); dropdown and checkbox changes need not show in
    the readout (a note, not a problem). No readout widget: the slider's own readout counts.
    """
    labels = wait_labels_changed(page, el, r["labelsBefore"], 3.0 if value_shown else 1.0)
    if not (r["labelsBefore"] or labels):
        return
    change = f"{r.get('readoutBefore', r.get('valueBefore'))} -> " \
             f"{r.get('readoutAfter', r.get('valueAfter'))}"  # fmt: skip
    if labels == r["labelsBefore"]:
        msg = f"{tag}: readout did not change after {change} (still {labels})"
        (result.problems if value_shown else result.notes).append(msg)
    elif value_shown and not any(shows_value(t, r["readoutAfter"]) for t in labels):
        result.problems.append(f"{tag}: readout does not show the new value {change}: {labels}")


def _control(el: Any, kind: str, k: int) -> Any:
    sel = {"slider": 'input[type="range"]', "select": "select",
           "checkbox": 'input[type="checkbox"]'}[kind]
    return el.query_selector_all(f".rnn-explorer {sel}")[k]


def step_control(page: Any, el: Any, kind: str, k: int, step_ms: float,
                 keys: list[str] | None = None) -> dict[str, Any]:
    """Move control k of one kind ("slider", "select", "checkbox") with real input events: a
    slider by ArrowRight (ArrowLeft at the top end), a dropdown by ArrowDown (ArrowUp at its last
    option), a checkbox by a click. Returns what ``__e2e.finish`` saw: moved, the value before
    and after, the readouts before, and the ms from the key/click to changed canvas pixels."""
    armed = page.evaluate("([c, kind, k]) => window.__e2e.arm(c, kind, k)", [el, kind, k])
    if armed is None:
        return {"moved": False}
    if armed["disabled"]:
        return {"moved": False, "disabled": True}
    ctl = _control(el, kind, k)
    if kind == "checkbox":
        ctl.click()
        return page.evaluate("([c, t]) => window.__e2e.finish(c, null, t)", [el, step_ms])
    tries = keys or (armed["keys"] if kind == "slider" else ["ArrowDown", "ArrowUp"])
    r: dict[str, Any] = {"moved": False}
    for i, key in enumerate(tries):
        if i:
            page.evaluate("([c, kind, k]) => window.__e2e.arm(c, kind, k)", [el, kind, k])
        ctl.press(key)
        r = page.evaluate("([c, key, t]) => window.__e2e.finish(c, key, t)", [el, key, step_ms])
        if r["moved"]:
            return r
    return r


def check_names(page: Any, el: Any, result: ExplorerResult) -> None:
    """Every control of the explorer has a non-empty accessible name (issue 18), read from the
    browser's accessibility tree (Playwright's ARIA snapshot of the explorer)."""
    tag = f"e2e-{result.tag}-{secrets.token_hex(3)}"
    el.evaluate("(o, t) => { o.querySelector('.rnn-explorer').dataset.e2e = t; }", tag)
    snap = page.locator(f'[data-e2e="{tag}"]').aria_snapshot()
    roles = re.findall(r"^\s*- (slider|combobox|checkbox|textbox)\b(.*)$", snap, re.M)
    unnamed = [role for role, rest in roles if not re.match(r'\s*"[^"]*\S[^"]*"', rest)]
    named = {role: sum(1 for r, rest in roles if r == role and role not in unnamed)
             for role in ("slider", "combobox", "checkbox")}
    if unnamed:
        result.problems.append(f"controls without an accessible name: {unnamed}\n{snap}")
    want = {"slider": result.sliders, "combobox": result.dropdowns,
            "checkbox": result.checkboxes}
    for role, n in want.items():
        if named[role] < n:
            result.problems.append(
                f"{n} {role}(s) in the explorer, {named[role]} with an accessible name:\n{snap}")
    result.notes.append("accessible names: " + "; ".join(
        rest.strip().split(":")[0] for role, rest in roles if role != "textbox"))


def exercise_explorer(
    page: Any, el: Any, result: ExplorerResult, latency_steps: int, artifacts: Path, stem: str
) -> None:
    """Step each slider, dropdown and checkbox of one explorer; time its first enabled slider.

    Dropdowns and checkboxes are put back to where they were (and the figure must change back),
    so the latency run sees the explorer's initial settings.
    """
    step_ms = STEP_TIMEOUT_S * 1000
    el.scroll_into_view_if_needed()
    t_shown = time.monotonic()
    if not page.evaluate("(c) => window.__e2e.settle(c, 300, 30000)", el):
        result.problems.append("the figure never settled (pixels kept changing for 30 s)")
        return
    settles = [time.monotonic() - t_shown]      # seconds each wait for the near neighbours took
    check_names(page, el, result)
    shot_before = artifacts / f"{stem}-{result.tag}-before.png"
    el.screenshot(path=str(shot_before))

    def settle() -> None:
        """Wait as a student pauses: the figure quiet and the near neighbours held (timed)."""
        t = time.monotonic()
        page.evaluate("(c) => window.__e2e.settle(c, 150, 30000)", el)
        settles.append(time.monotonic() - t)

    # The accessibility snapshot (check_names turns the page's accessibility tree on) and the
    # screenshot leave work for the page's next frames: a pause, as before every other step,
    # so the first touch times the explorer, not the harness.
    settle()
    timed_slider = None
    for k in range(result.sliders):
        r = step_control(page, el, "slider", k, step_ms)
        tag = f"slider {k}"
        if r.get("disabled"):
            result.notes.append(f"{tag}: disabled in the initial state, not stepped")
            continue
        if not r["moved"]:
            result.problems.append(f"{tag}: ArrowRight/ArrowLeft on it did not move it")
            continue
        if timed_slider is None:
            timed_slider = k
            if r["latency"] is not None:
                result.first_touch_ms = float(r["latency"])
        if r["latency"] is None:
            result.problems.append(
                f"{tag}: figure did not change within {STEP_TIMEOUT_S:.0f} s of stepping "
                f"{r['readoutBefore']} -> {r['readoutAfter']}"
            )
        _check_readout(page, el, result, tag, r, value_shown=True)
        settle()
    for kind, count in (("select", result.dropdowns), ("checkbox", result.checkboxes)):
        for k in range(count):
            tag = f"{'dropdown' if kind == 'select' else kind} {k}"
            r = step_control(page, el, kind, k, step_ms)
            if r.get("disabled"):
                result.notes.append(f"{tag}: disabled in the initial state, not changed")
                continue
            if not r["moved"]:
                if kind == "checkbox":
                    result.problems.append(f"{tag}: a click did not toggle it")
                continue
            if r["latency"] is None:
                result.problems.append(
                    f"{tag}: figure did not change within {STEP_TIMEOUT_S:.0f} s of "
                    f"{r['valueBefore']} -> {r['valueAfter']}"
                )
            _check_readout(page, el, result, tag, r, value_shown=False)
            settle()
            # back to the initial setting: the figure must follow this way too
            back_key = None if kind == "checkbox" else (
                ["ArrowUp"] if r["key"] == "ArrowDown" else ["ArrowDown"])
            back = step_control(page, el, kind, k, step_ms, keys=back_key)
            if back.get("latency") is None and r["latency"] is not None:
                result.problems.append(
                    f"{tag}: figure did not change back within {STEP_TIMEOUT_S:.0f} s of "
                    f"{r['valueAfter']} -> {r['valueBefore']}"
                )
            settle()
    if timed_slider is not None and not result.problems:
        load0 = os.getloadavg()[0]
        for _ in range(latency_steps):
            settle()
            r = step_control(page, el, "slider", timed_slider, step_ms)
            if not r["moved"] or r["latency"] is None:
                result.problems.append(f"latency run: a step did not change the figure: {r}")
                break
            result.latencies_ms.append(float(r["latency"]))
        jump_slider(page, el, result, timed_slider, JUMP_STEPS, step_ms, settle)
        result.load = (load0, os.getloadavg()[0])
        settle()
    result.notes.append(time_note(page.evaluate("(c) => window.__e2e.stats(c)", el), settles))
    stale = page.evaluate("() => window.__e2e.stale")
    if stale:
        result.problems.append(f"harness: {stale} cached pixel hash(es) differed from the canvas "
                               "(a draw the page script did not count): latencies unreliable")
    shot = artifacts / f"{stem}-{result.tag}-after.png"
    el.screenshot(path=str(shot))
    result.screenshot = shot


def time_note(stats: dict[str, Any] | None, settles: list[float]) -> str:
    """Where an explorer's time went: the waits for its near neighbours (count, total, median,
    max s), the kernel requests (position shown / ahead of time: count, median round trip, total
    s, median kernel ms of draw, serialise (of which, how many laid out new ticks, and their
    median), a new background (how many), restore), the browser's median paint and background
    decode ms."""
    med = statistics.median
    out = [f"time: {len(settles)} waits for the near neighbours, {sum(settles):.1f} s "
           f"(median {med(settles):.2f}, max {max(settles):.2f})" if settles else "time:"]
    if not stats:
        return out[0] + "; no explorer statistics"
    for kind in ("current", "prefetch"):
        reqs = stats.get(kind) or []
        if not reqs:
            continue
        new = [r["bg"] for r in reqs if r.get("bg_new")]
        laid = [r["frame"] for r in reqs if r.get("deco_new")]
        part = {k: med([r.get(k, 0.0) for r in reqs]) for k in ("draw", "frame", "restore")}
        out.append(
            f"{kind} {len(reqs)} x {med([r['ms'] for r in reqs]):.0f} ms round trip "
            f"({sum(r['ms'] for r in reqs) / 1e3:.1f} s): kernel draw {part['draw']:.0f}, "
            f"serialise {part['frame']:.0f} (with new tick layouts {len(laid)} x "
            f"{med(laid) if laid else 0:.0f}), restore {part['restore']:.0f}, new background "
            f"{len(new)} x {med(new) if new else 0:.0f} ms")
    for k in ("paint", "decode"):
        if stats.get(k):
            out.append(f"{k} {med(stats[k]):.1f} ms median of {len(stats[k])}")
    return "; ".join(out)


def jump_slider(page: Any, el: Any, result: ExplorerResult, k: int, steps: int,
                step_ms: float, settle: Any) -> None:
    """Time ``steps`` random jumps of slider k: type a value drawn uniformly over its range
    (seeded: the same jumps every run; uniform in log for a log slider) into its number field
    and press Enter. A slider without a number field gets a note, not a failure."""
    rng = random.Random(f"{result.notebook}:{result.cell}:{k}")
    for _ in range(steps):
        settle()
        spec = page.evaluate("([c, k]) => window.__e2e.armJump(c, k)", [el, k])
        if spec is None:
            result.notes.append(f"slider {k}: no number field, random jumps not timed")
            return
        u = rng.random()
        if spec["log"]:
            lo, hi = math.log10(spec["lo"]), math.log10(spec["hi"])
            text = f"{10.0 ** (lo + u * (hi - lo)):.4g}"
        else:
            x = spec["lo"] + u * (spec["hi"] - spec["lo"])
            text = str(round(x)) if spec["integer"] else f"{x:.4g}"
        field_ = _control(el, "slider", k).evaluate_handle(
            "(s) => s.parentElement.querySelector('.rnn-explorer-number')")
        field_.fill(text)
        field_.press("Enter")
        latency = page.evaluate("([c, t]) => window.__e2e.waitJump(c, t)", [el, step_ms])
        if latency is None:       # the nearest position is the current one: no change
            continue
        result.jump_ms.append(float(latency))


def find_explorers(page: Any, notebook: str) -> list[tuple[Any, ExplorerResult]]:
    """Explorers by their structure: a widget output holding an explorer canvas and a control.

    A figure is the explorer's ``<canvas>`` (``rnn_core.widgets``, drawn in the browser); a control
    is a range input, a select or a checkbox inside it. Each such output of each cell is one
    explorer.
    """
    found: list[tuple[Any, ExplorerResult]] = []
    for i, cell_el in enumerate(page.query_selector_all(".jp-Notebook .jp-Cell")):
        outs = cell_el.query_selector_all(".jp-OutputArea-child > .jp-OutputArea-output")
        hits = []
        for out in outs:
            if out.evaluate("(o) => !!o.parentElement.closest('.jp-OutputArea-output')"):
                continue  # an Output widget's own output area
            counts = out.evaluate(
                """(c) => ({figures: window.__e2e.canvases(c).length,
                            sliders: window.__e2e.sliders(c).length,
                            dropdowns: window.__e2e.selects(c).length,
                            checkboxes: window.__e2e.checkboxes(c).length})"""
            )
            if counts["figures"] and (
                counts["sliders"] or counts["dropdowns"] or counts["checkboxes"]
            ):
                hits.append((out, counts))
        for k, (out, counts) in enumerate(hits):
            result = ExplorerResult(
                notebook, i, counts["sliders"], counts["dropdowns"], counts["checkboxes"],
                output=k if len(hits) > 1 else None,
            )  # fmt: skip
            found.append((out, result))
    return found


def duplicate_figures(page: Any) -> list[str]:
    """Cells that show an explorer and, next to it, another copy of a figure.

    Counts the figures a cell shows (explorer canvases, static images) against the explorers it
    shows: a cell with more figures than explorers shows some figure twice (e.g. the backend
    displaying the explorer's figure a second time).
    """
    return page.evaluate(
        """() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')].flatMap((cell, i) => {
            const outs = [...cell.querySelectorAll(
                '.jp-OutputArea-child > .jp-OutputArea-output')]
                .filter(o => !o.parentElement.closest('.jp-OutputArea-output'));
            const figs = o => window.__e2e.canvases(o).length
                + o.querySelectorAll('.jp-RenderedImage img').length;
            const ctrl = o => o.querySelectorAll('.rnn-explorer input, .rnn-explorer select')
                .length;
            const explorers = outs.filter(o => figs(o) && ctrl(o)).length;
            const figures = outs.reduce((n, o) => n + figs(o), 0);
            return explorers && figures > explorers
                ? [`cell ${i}: ${figures} figures shown for ${explorers} explorer(s)`] : [];
        })"""
    )


def run_notebook(
    context: Any,
    server: LabServer,
    path: Path,
    *,
    mode: str,
    artifacts: Path,
    label: str,
    latency_steps: int = LATENCY_STEPS,
) -> NotebookRun:
    """Run one notebook in a fresh page and workspace and check it.

    Parameters
    ----------
    context : playwright BrowserContext
        From ``launch_browser``.
    server : LabServer
        A started server whose root holds ``path``.
    path : Path
        The notebook.
    mode : {"notebook", "student"}
        "notebook": every cell must run clean, every widget render, every explorer respond.
        "student": must run clean up to the first unimplemented exercise and stop there.
    artifacts : Path
        Folder for screenshots.
    label : str
        Short unique name used for the workspace and the screenshot files.
    """
    opened = start_notebook(context, server, path, mode=mode, label=label)
    begin_run(opened)
    return finish_notebook(opened, artifacts=artifacts, latency_steps=latency_steps)


def run_notebooks(
    context: Any,
    server: LabServer,
    paths: list[Path],
    *,
    mode: str,
    artifacts: Path,
    labels: list[str],
    at_once: int,
    ahead: Ahead | None = None,
    reuse_pages: bool = False,
) -> list[NotebookRun | Exception]:
    """Run several notebooks, ``at_once`` of them in their own pages at the same time.

    For notebooks that mostly wait (the student release's stop at their first exercise after a
    few cells): while one is checked, the next ones load JupyterLab, start their kernels and run.
    Explorers are stepped one page at a time, but other pages may still be running then: use
    ``at_once=1`` (``run_notebook``) where latency is measured. Returns, in the order of
    ``paths``, each notebook's run, or the exception that ended it. A page ``ahead`` holds for
    one of ``paths`` is used instead of opening another. ``reuse_pages``: a notebook that
    finished clean leaves its page, JupyterLab loaded, to a later one (``reopen_notebook``).
    """
    if at_once < 1:
        raise ValueError(f"run_notebooks: at_once must be at least 1, got {at_once}")
    results: list[NotebookRun | Exception | None] = [None] * len(paths)
    window: list[tuple[int, OpenNotebook | Exception]] = []
    todo = list(enumerate(zip(paths, labels, strict=True)))
    kept: list[OpenNotebook] = []  # finished, their pages still open for the next notebooks
    while todo or window:
        while todo and len(window) < at_once:
            i, (path, label) = todo.pop(0)
            opened = ahead.take(server, path, mode=mode) if ahead is not None else None
            try:
                if opened is None and kept:
                    opened = reopen_notebook(kept.pop(0), path, mode=mode, label=label)
                window.append(
                    (i, opened or start_notebook(context, server, path, mode=mode, label=label))
                )
            except Exception as e:  # that notebook's outcome
                window.append((i, e))
        for _, opened in window:  # every page in the window is loading; start each one's run
            if isinstance(opened, OpenNotebook) and not opened.begun:
                begin_run(opened)
        i, opened = window.pop(0)
        if isinstance(opened, Exception):
            results[i] = opened
            continue
        try:
            results[i] = finish_notebook(opened, artifacts=artifacts, keep_page=reuse_pages)
        except Exception as e:
            results[i] = e
        if opened.kept:
            kept.append(opened)
    for done in kept:
        done.page.close()
    return [r for r in results if r is not None]


SESSION_ID_JS = """() => {
    const app = window.jupyterapp;
    const w = app && app.shell && app.shell.currentWidget;
    const s = w && w.sessionContext && w.sessionContext.session;
    return s ? s.id : null;
}"""


@dataclass
class OpenNotebook:
    """A notebook being run in its own page: from ``start_notebook`` to ``finish_notebook``."""

    page: Any
    server: LabServer
    run: NotebookRun
    rel: str  # the notebook's path relative to the server root
    stem: str  # file-name-safe label for screenshots
    console_errors: list[str]
    start: float  # time.monotonic() at start_notebook
    begun: bool = False
    run_started: float = 0.0  # time.monotonic() when Run All was started
    failure: Exception | None = None  # what stopped begin_run, raised by finish_notebook
    on_error: Any = None  # the page's "pageerror" handler that fills console_errors
    kept: bool = False  # finish_notebook left the page open, its notebook closed (reopen_notebook)


def start_notebook(
    context: Any, server: LabServer, path: Path, *, mode: str, label: str
) -> OpenNotebook:
    """A new page on a fresh workspace, navigating to ``path``; returns while it loads."""
    if mode not in ("notebook", "student"):
        raise ValueError(f"run_notebook: mode must be 'notebook' or 'student', got {mode!r}")
    start = time.monotonic()
    rel = path.resolve().relative_to(server.root_dir).as_posix()
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", label)
    page = context.new_page()
    page.add_init_script(PAGE_JS)
    opened = OpenNotebook(page, server, NotebookRun(path=path, mode=mode), rel, stem, [], start)
    _listen(opened)
    try:
        goto_notebook(page, server, rel, f"e2e-{stem}-{secrets.token_hex(4)}")
    except Exception:
        page.close()
        raise
    return opened


def _listen(opened: OpenNotebook) -> None:
    def on_error(exc: Any) -> None:
        opened.console_errors.append(str(exc))

    opened.on_error = on_error
    opened.page.on("pageerror", on_error)


def reopen_notebook(
    done: OpenNotebook, path: Path, *, mode: str, label: str
) -> OpenNotebook:
    """``path`` in the page ``done`` left open (``finish_notebook(..., keep_page=True)``).

    JupyterLab stays loaded; ``begin_run`` opens the notebook in it (File > Open:
    ``docmanager:open``) with a new kernel. Page errors count for the new notebook from now on.
    """
    if not done.kept:
        raise ValueError("reopen_notebook: done must be a notebook finished with keep_page=True")
    page, server = done.page, done.server
    page.remove_listener("pageerror", done.on_error)
    done.kept = False
    rel = path.resolve().relative_to(server.root_dir).as_posix()
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", label)
    opened = OpenNotebook(
        page, server, NotebookRun(path=path, mode=mode), rel, stem, [], time.monotonic()
    )
    _listen(opened)
    opened.run.notes.append("opened in the page of the notebook before it")
    return opened


# Close the page's notebook without saving (autosave is off; its outputs make it dirty).
CLOSE_NOTEBOOK_JS = """async () => {
    const w = window.jupyterapp.shell.currentWidget;
    if (!w || !w.context) return false;
    w.dispose();
    await new Promise(r => setTimeout(r, 0));
    return !document.querySelector('.jp-Notebook');
}"""


def begin_run(opened: OpenNotebook) -> None:
    """Wait until the notebook is open and its kernel idle, then start Run All Cells."""
    opened.begun = True
    try:
        wait_lab_ready(opened.page, opened.rel)
        t = opened.run.phase("page", opened.start)
        wait_kernel_idle(opened.page, opened.rel)
        opened.run_started = opened.run.phase("kernel", t)
        start_run_all(opened.page)
    except Exception as e:  # finish_notebook raises it
        opened.failure = e


def finish_notebook(
    opened: OpenNotebook,
    *,
    artifacts: Path,
    latency_steps: int = LATENCY_STEPS,
    before_explorers: Callable[[], None] | None = None,
    keep_page: bool = False,
) -> NotebookRun:
    """Wait for the run to end, check outputs and widgets, step the explorers (notebook mode),
    take the screenshots, close the page and shut the kernel down.

    ``before_explorers``, if given, is called once before the first explorer is stepped (e.g.
    ``Ahead.wait_open``: the page opened ahead finishes loading before any latency is timed).
    ``keep_page``: after a run that raised nothing, close only the notebook and leave the page
    with JupyterLab loaded (``opened.kept``) for ``reopen_notebook``.
    """
    page, run, mode, stem = opened.page, opened.run, opened.run.mode, opened.stem
    session = None
    artifacts.mkdir(parents=True, exist_ok=True)
    try:
        if opened.failure is not None:
            raise opened.failure
        page.bring_to_front()
        wait_run_all(page, RUN_TIMEOUT_S)
        t = run.phase("run all", opened.run_started)
        run.cells = read_cells(page)
        if mode == "notebook":
            run.problems += check_all_ran(run.cells)
        else:
            problems, run.exercise = check_student(run.cells)
            run.problems += problems
            note = student_stop_note(run.cells, run.exercise)
            if note:
                run.notes.append(note)
        run.problems += check_widgets(page, run.cells, WIDGET_TIMEOUT_S)
        # cross-check against what the page shows: no traceback outside the cells found above
        erring = [c["index"] for c in run.cells if cell_errors(c)]
        allowed = set(erring) if mode == "notebook" else set(erring[:1])
        for i in page_traceback_cells(page):
            if i not in allowed:
                run.problems.append(f"cell {i}: the page shows a traceback")
        if mode == "notebook":
            run.problems += duplicate_figures(page)
        t = run.phase("checks", t)
        if mode == "notebook":
            explorers = find_explorers(page, opened.rel)
            if explorers and before_explorers is not None:
                before_explorers()
                t = run.phase("wait ahead", t)
            for out_el, result in explorers:
                exercise_explorer(page, out_el, result, latency_steps, artifacts, stem)
                run.explorers.append(result)
                run.problems += [f"explorer {result.name}: {p}" for p in result.problems]
                if result.screenshot:
                    run.screenshots.append(result.screenshot)
            t = run.phase("explorers", t)
        # the whole page, scrolled to the first explorer if any, else to the first error or top
        target = run.explorers[0].cell if run.explorers else next(
            (c["index"] for c in run.cells if cell_errors(c)), 0
        )
        cells_dom = page.query_selector_all(".jp-Notebook .jp-Cell")
        if cells_dom:
            cell_dom = cells_dom[min(target, len(cells_dom) - 1)]
            outputs = cell_dom.query_selector(".jp-Cell-outputArea .jp-OutputArea-child")
            (outputs or cell_dom).scroll_into_view_if_needed()
        shot = artifacts / f"{stem}.png"
        page.screenshot(path=str(shot))
        run.screenshots.insert(0, shot)
        run.problems += [f"page error: {e}" for e in opened.console_errors]
        t = run.phase("screenshot", t)
        session = page.evaluate(SESSION_ID_JS)
        opened.kept = keep_page and page.evaluate(CLOSE_NOTEBOOK_JS)
    finally:
        if not opened.kept:
            page.close()
        run.seconds = time.monotonic() - opened.start
    if session:
        opened.server.end_session_later(session)  # the kernel exits while the next one starts
    return run


QUIET_TIMEOUT_S = env_float("E2E_QUIET_TIMEOUT", 300.0)


def wait_quiet(timeout_s: float = QUIET_TIMEOUT_S) -> str | None:
    """Before an explorer's latency is timed: wait while the file ``E2E_QUIET_FILE`` exists
    (``run.sh`` keeps it while the explorer.js tests run in a browser of their own).

    Returns a note for the run (how long it waited, or that it gave up after ``timeout_s`` and
    the latency was timed beside those tests), or None when there was nothing to wait for.
    """
    path = os.environ.get("E2E_QUIET_FILE", "").strip()
    if not path or not os.path.exists(path):
        return None
    t0 = time.monotonic()
    while os.path.exists(path):
        if time.monotonic() - t0 > timeout_s:
            return (f"latency timed beside run.sh's explorer.js tests: still running after "
                    f"{timeout_s:g} s")
        time.sleep(0.2)
    return f"waited {time.monotonic() - t0:.1f} s for run.sh's explorer.js tests to end"


class Ahead:
    """Notebook pages opened ahead of their test, in the same browser.

    While a worker's current notebook runs, the pages of what it runs next load JupyterLab and
    start their kernels (``start_notebook`` only navigates; JupyterLab opens the notebook and
    starts its kernel on its own). The next test ``take``s a page if it is the one it needs, else
    opens its own. Nothing is checked ahead: every check runs in the test, on a page of its own,
    as without it.
    """

    def __init__(self) -> None:
        self.pending: dict[tuple[int, Path, str], OpenNotebook] = {}

    @staticmethod
    def _key(server: LabServer, path: Path, mode: str) -> tuple[int, Path, str]:
        return (server.port, path.resolve(), mode)

    def open(self, context: Any, server: LabServer, path: Path, *, mode: str, label: str) -> None:
        """Start loading ``path``'s page; a failure here is left to the test that needs it."""
        key = self._key(server, path, mode)
        if key in self.pending:
            return
        try:
            self.pending[key] = start_notebook(context, server, path, mode=mode, label=label)
        except Exception:
            pass  # the test opens the notebook itself and reports what goes wrong

    def take(self, server: LabServer, path: Path, *, mode: str) -> OpenNotebook | None:
        """The page opened ahead for ``path`` (its clock restarted now), or None."""
        opened = self.pending.pop(self._key(server, path, mode), None)
        if opened is None:
            return None
        now = time.monotonic()
        opened.run.notes.append(f"page opened ahead, {now - opened.start:.1f} s before its test")
        opened.start = now
        return opened

    def wait_open(self, timeout_s: float = 120.0) -> None:
        """Wait until each page opened ahead shows its notebook with an idle kernel (or failed:
        its test reports that)."""
        for opened in list(self.pending.values()):
            try:
                opened.page.wait_for_function(
                    """(path) => {
                        const app = window.jupyterapp;
                        const w = app && app.shell && app.shell.currentWidget;
                        return !!(w && w.context && w.context.path === path && w.context.isReady
                            && w.sessionContext && w.sessionContext.session
                            && w.sessionContext.session.kernel
                            && w.sessionContext.session.kernel.status === 'idle');
                    }""",
                    arg=opened.rel,
                    timeout=timeout_s * 1000,
                    polling=200,
                )
            except Exception:
                pass  # its own test waits again and reports

    def discard(self) -> None:
        """Close every page still waiting for its test, ending the sessions they started."""
        pending, self.pending = self.pending, {}
        for opened in pending.values():
            try:
                session = opened.page.evaluate(SESSION_ID_JS)
            except Exception:
                session = None
            opened.page.close()
            if session:
                opened.server.end_session_later(session)
