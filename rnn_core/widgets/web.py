"""The explorer in the browser: an anywidget whose front end draws the frames the kernel sends.

The front end (``static/explorer.js``, shipped in the package, never fetched) draws the controls
natively (``<label>`` + ``<input type="range">`` with a number field, ``<select>``, ``<input
type="checkbox">``), the readout as HTML and the figure on a ``<canvas>``: a background PNG plus
the frame of the current control positions (see ``frames``). It keeps every frame it received,
keyed by the control positions, so moving back is local; it asks the kernel for a missing frame
with a custom message: the position the student is at as soon as they move there, and when
the student's request is answered, look-ahead requests: what the next key press on the slider in
use reaches, then one step of every slider, then every option of a dropdown or checkbox, then the
whole range of every slider through the position shown (the slider moved last first, nearest
first), or the whole grid when it is small. For an explorer with a ``warm`` function the kernel
computes a look-ahead request in its look-ahead thread (``lookahead``), which waits while the
kernel answers the student, so a student's request never queues behind one; the browser then
keeps ``AHEAD_OUT`` look-ahead requests out (the thread computes the next while a frame
travels), else one (the kernel answers those on its main thread, in the student's way).

Messages, browser -> kernel: ``{"type": "hello", "dpr": ...}`` when a view is shown;
``{"type": "want", "idx": [...], "current": bool}`` for a frame (``current``: the position the
student moved to, which becomes the explorer's values; otherwise a prefetch, which does not).
Kernel -> browser: ``{"type": "frame", ...}`` with its buffers (``ExplorerView.frame_message``);
``{"type": "code", "code": n}`` when a cell run changed the exercise code (D1): the browser drops
every frame it holds, because each was computed by the code it replaced;
``{"type": "error", "idx": [...], "message": ...}`` when drawing a position raised (an exercise
not written yet): the browser shows the message and does not ask for that position again until
the code changes; ``{"type": "dropped", "idx": [...], "code": n}`` for a look-ahead request the
kernel took off its queue unanswered when the student's next request came (``lookahead.moved``):
it was asked for the position the student left, and the browser may ask for it again.
"""

from __future__ import annotations

import asyncio
import math
import pathlib
import time
import weakref
from collections import deque
from typing import Any

import anywidget
import traitlets

from rnn_core._ipython import shell
from rnn_core._lookahead import foreground
from rnn_core.analysis.explore import layer_a_code
from rnn_core.widgets import lookahead

__all__ = ["ExplorerView", "AHEAD_OUT", "PREFETCH_ALL_MAX", "PREFETCH_ALONG"]

AHEAD_OUT = 2
"""Look-ahead requests the browser keeps out for an explorer computed in the look-ahead thread:
with one, the thread sat idle while each frame was serialised, sent and received (at least 89
of the vanilla explorer's 201 ms look-ahead round trip in make e2e, load1 about 10); with two
it computes the next meanwhile (D6, "Two look-ahead requests out")."""

PREFETCH_ALL_MAX = 200
"""A grid of at most this many positions (all controls together) is fetched whole after display."""
PREFETCH_ALONG = 128
"""When idle, the browser fetches ahead the positions within ``PREFETCH_ALONG / 2`` steps either
way along every slider (nearest first, the slider moved last first): a whole slider of up to 129
positions, not the 999 of a sequence-length slider."""

TIMINGS_KEPT = 2048
"""Per-request kernel timings kept by a view (``ExplorerView.timings``)."""

MAX_SCALE = 2.0
"""Backgrounds are rendered at the screen's device pixel ratio, up to this."""


class ExplorerView(anywidget.AnyWidget):
    """The browser view of an :class:`~rnn_core.widgets.explorer.Explorer` (one per explorer).

    Traits synced to the browser: ``spec`` (the controls' grids and labels, the canvas size, the
    explorer's name; sent once) and ``index`` (the positions of the explorer's current values).
    """

    _esm = pathlib.Path(__file__).parent / "static" / "explorer.js"
    spec = traitlets.Dict().tag(sync=True)

    def __init__(self, explorer: Any) -> None:
        from rnn_core.widgets.frames import pixel_size

        sizes = [len(c.grid) for c in explorer.controls.values()]
        w, h = pixel_size(explorer.fig)
        super().__init__(spec={
            "name": explorer.name,
            "controls": [c.spec(k) for k, c in explorer.controls.items()],
            "index": explorer.index(),       # where the controls start (a frame may move them)
            "width": w, "height": h,
            "prefetch_all": math.prod(sizes) <= PREFETCH_ALL_MAX,
            "along": PREFETCH_ALONG,
            "ahead": AHEAD_OUT if explorer.warm is not None else 1,
        })
        self._explorer = explorer
        self._bg_sent: set[int] = set()
        self._scale = 1.0
        self._code = layer_a_code()
        self.code_gen = 0
        self.sent = 0        # frames sent (tests, benchmarks)
        self.timings: deque[dict[str, Any]] = deque(maxlen=TIMINGS_KEPT)
        self.on_msg(self._on_msg)
        _watch_code(self)
        lookahead.hold_during_cells()

    # -- the code key (D1) ---------------------------------------------------------------------

    def check_code(self) -> bool:
        """If the exercise code changed since the last check, count a new generation and tell
        the browser to drop its frames. Returns whether it changed."""
        code = layer_a_code()
        if code == self._code:
            return False
        self._code = code
        self.code_gen += 1
        self.send({"type": "code", "code": self.code_gen})
        lookahead.cancel()          # a look-ahead still running the replaced code stops
        return True

    # -- frames --------------------------------------------------------------------------------

    def frame_message(self, idx: list[int] | None = None, push: bool = False
                      ) -> tuple[dict[str, Any], list[bytes]]:
        """The frame for control positions ``idx`` (None: the explorer's current values) as
        (JSON-able message, buffers). The background PNG rides along, as the last buffer, the
        first time its id is sent to the views."""
        ex = self._explorer
        t0 = time.perf_counter()
        if idx is None:
            idx, exact = ex.index(), ex.on_grid()
            drawn = ex.draw_values(ex.values)
            return self._message(idx, exact, push, drawn, t0)
        with ex.elsewhere():
            drawn = ex.draw_values(ex.values_at(idx))
            msg, buffers = self._message(idx, True, push, drawn, t0)
            t1 = time.perf_counter()
        # putting the current values back (limits, artists) after drawing elsewhere
        msg["t"]["restore"] = round(1e3 * (time.perf_counter() - t1), 2)
        return msg, buffers

    def _message(self, idx: list[int], exact: bool, push: bool, drawn: str, t0: float
                 ) -> tuple[dict[str, Any], list[bytes]]:
        from rnn_core.widgets.frames import frame, overlay_boxes

        ex = self._explorer
        t1 = time.perf_counter()
        renders, laid_out = ex.backgrounds.renders, ex.decorations.axes_laid_out
        bg_id, png = ex.backgrounds.get(self._scale)
        t2 = time.perf_counter()
        artists, buffers = frame(ex.fig, ex.animated, ex.decorations)
        overlays = overlay_boxes(ex.fig, ex.overlays)
        t3 = time.perf_counter()
        msg: dict[str, Any] = {
            "type": "frame", "idx": list(idx), "exact": exact, "push": push,
            "code": self.code_gen, "bg": bg_id, "scale": self._scale, "readout": drawn,
            "artists": artists, "overlays": overlays,
            # kernel ms: compute + artists, background (new: rendered), serialise (with the
            # ticks and axis labels; new: laid out for new limits)
            "t": {"draw": round(1e3 * (t1 - t0), 2), "bg": round(1e3 * (t2 - t1), 2),
                  "bg_new": ex.backgrounds.renders != renders,
                  "frame": round(1e3 * (t3 - t2), 2),
                  "deco_new": ex.decorations.axes_laid_out != laid_out},
        }
        if bg_id not in self._bg_sent:
            msg["png"] = len(buffers)
            buffers = [*buffers, png]
        return msg, buffers

    def send_frame(self, idx: list[int] | None = None, push: bool = False,
                   kind: str = "push", drawn_ms: float = 0.0) -> None:
        """Send the frame of ``idx`` (None: the current values); ``kind`` ("current",
        "prefetch", "push") labels its entry in ``timings``; ``drawn_ms``: time already spent
        drawing it (moving the explorer there), added to its "draw"."""
        self.check_code()
        msg, buffers = self.frame_message(idx, push)
        msg["t"]["draw"] = round(msg["t"]["draw"] + drawn_ms, 2)
        if "png" in msg:
            self._bg_sent.add(msg["bg"])
        t0 = time.perf_counter()
        self.send(msg, buffers)
        self.sent += 1
        self.timings.append({**msg["t"], "kind": kind, "idx": msg["idx"],
                             "send": round(1e3 * (time.perf_counter() - t0), 2),
                             "bytes": sum(len(b) for b in buffers)})

    def _on_msg(self, _widget: Any, content: dict[str, Any], _buffers: list) -> None:
        with foreground():      # the look-ahead thread waits while the student is answered
            kind = content.get("type")
            if kind == "hello":
                self._bg_sent.clear()           # a new view holds no background yet
                self._scale = min(max(float(content.get("dpr") or 1.0), 1.0), MAX_SCALE)
                self.send_frame(push=True)
            elif kind == "want":
                idx = self._explorer.check_index(content.get("idx"))
                current = bool(content.get("current"))
                if current:
                    # the student moved: what was queued ahead was for the position they left,
                    # and this explorer's look-ahead now goes before the others'
                    lookahead.moved(self)
                if current or not self._ahead(idx):
                    self._answer(idx, current)

    def _answer(self, idx: list[int], current: bool, computed_ms: float = 0.0) -> None:
        """Send the frame of ``idx`` (``current``: the student's position, which becomes the
        explorer's values), or the error drawing it raised; ``computed_ms``: compute already
        done for it in the look-ahead thread."""
        try:
            if current:
                t0 = time.perf_counter()
                self._explorer.set_index(idx)  # draws it: the frame of the current values
                self.send_frame(kind="current", drawn_ms=1e3 * (time.perf_counter() - t0))
            else:
                self.send_frame(idx, kind="prefetch", drawn_ms=computed_ms)
        except Exception as err:  # noqa: BLE001 - e.g. an exercise not written yet
            # the browser shows it in the readout and stops asking for this position
            # (until the code changes); without an answer it would wait forever
            self.send({"type": "error", "idx": idx, "code": self.code_gen,
                       "message": f"{type(err).__name__}: {err}"})

    def _ahead(self, idx: list[int]) -> bool:
        """Hand a look-ahead request's compute to the look-ahead thread (``lookahead``); the
        frame follows on the main thread. False when it cannot: the explorer has no ``warm``,
        or no event loop runs here to come back to (a script, a test)."""
        warm = self._explorer.warm
        if warm is None:
            return False
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        values, gen = self._explorer.values_at(idx), self.code_gen

        def done(error: BaseException | None, ms: float) -> None:
            with foreground():
                if self.comm is None:
                    return
                self.check_code()
                if gen != self.code_gen:
                    return          # the browser dropped its requests when told of the new code
                if isinstance(error, lookahead.Dropped):
                    self.send({"type": "dropped", "idx": idx, "code": gen})
                    return
                # from the cache just filled; after an error, drawing raises it again here
                # and the browser is told
                self._answer(idx, False, 0.0 if error else ms)

        try:
            lookahead.submit(lambda: warm(**values), done, loop, owner=self)
        except Exception:  # noqa: BLE001 - e.g. no thread can be started: answer on the spot
            return False
        return True


def _watch_code(view: ExplorerView) -> None:
    """After every cell run, check the exercise code (a student's edit or an autoreload)."""
    ip = shell()
    if ip is None:
        return
    ref = weakref.ref(view)

    def post_run_cell(*_args: Any) -> None:
        v = ref()
        if v is None:
            ip.events.unregister("post_run_cell", post_run_cell)
        elif v.comm is not None:
            v.check_code()

    ip.events.register("post_run_cell", post_run_cell)
