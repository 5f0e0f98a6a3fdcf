"""Watching a run: its output read with a cap, its exit code from bwrap, its end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time


class Capture:
    """Reads stdout and stderr in threads; keeps at most ``cap`` bytes of the two together."""

    def __init__(self, proc: subprocess.Popen, cap: int, full: threading.Event):
        self.cap, self.kept, self.over, self.full = cap, 0, False, full
        self.lock = threading.Lock()
        self.parts: dict[str, list[bytes]] = {"stdout": [], "stderr": []}
        self.threads = [threading.Thread(target=self._read, args=(name, stream), daemon=True)
                        for name, stream in (("stdout", proc.stdout), ("stderr", proc.stderr))]
        for t in self.threads:
            t.start()

    def _read(self, name, stream):
        fd = stream.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                return
            if not data:
                return
            with self.lock:
                room = self.cap - self.kept
                self.parts[name].append(data[:room])
                self.kept += min(room, len(data))
                if len(data) > room and not self.over:
                    self.over = True
                    self.full.set()

    def join(self, timeout: float) -> bool:
        """Wait for both readers to reach end of file; whether they did."""
        end = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, end - time.monotonic()))
        return not any(t.is_alive() for t in self.threads)

    def text(self) -> tuple[str, str]:
        with self.lock:
            return tuple(b"".join(self.parts[k]).decode("utf-8", "replace")
                         for k in ("stdout", "stderr"))


def bwrap_exit(fd: int) -> int | None:
    """Exit code of the command from bwrap's ``--json-status-fd``; None if it has none."""
    os.set_blocking(fd, False)
    raw = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        raw += chunk
    text, decoder, pos = raw.decode("utf-8", "replace"), json.JSONDecoder(), 0
    code = None
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            break
        try:
            doc, pos = decoder.raw_decode(text, pos)
        except ValueError:
            break
        if "exit-code" in doc:
            code = int(doc["exit-code"])
    return code


def killpg(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def exit_message(rc: int | None) -> str:
    if rc is None:
        return "stopped"
    if rc > 128:
        try:
            name = signal.Signals(rc - 128).name
        except ValueError:
            name = f"signal {rc - 128}"
        return f"exited with code {rc} (killed by {name})"
    return f"exited with code {rc}"
