"""A small progress printer for long fits (no dependency): one line, rewritten in place on a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class Progress:
    """Counts steps of known total and prints ``[ 3/24] label  00:04 elapsed, ~00:30 left``.

    Parameters
    ----------
    total : int
        Number of steps.
    enabled : bool or None
        None: print only when ``stream`` is a terminal.
    stream : file, default sys.stderr
    min_interval : float
        Seconds between two printed lines on a terminal (every step prints when not a terminal).

    Examples
    --------
    >>> import io
    >>> buf = io.StringIO()
    >>> p = Progress(2, enabled=True, stream=buf)
    >>> p.step("first"); p.step("second"); p.close()
    >>> "[2/2] second" in buf.getvalue()
    True
    """

    def __init__(self, total: int, *, enabled: bool | None = None, stream: TextIO | None = None,
                 min_interval: float = 0.2):
        self.total = int(total)
        self.stream = stream if stream is not None else sys.stderr
        tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = tty if enabled is None else bool(enabled)
        self._tty = tty
        self.min_interval = min_interval
        self.done = 0
        self._start = time.perf_counter()
        self._last = -1e9
        self._width = 0

    def step(self, label: str = "") -> None:
        """Count one finished step and print the line (rate-limited on a terminal)."""
        self.done += 1
        if not self.enabled:
            return
        now = time.perf_counter()
        if self._tty and now - self._last < self.min_interval and self.done < self.total:
            return
        self._last = now
        elapsed = now - self._start
        left = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        n = len(str(self.total))
        line = f"[{self.done:>{n}}/{self.total}] {label}  {_clock(elapsed)} elapsed, ~{_clock(left)} left"
        if self._tty:
            pad = max(0, self._width - len(line))
            self.stream.write("\r" + line + " " * pad)
            self._width = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the line on a terminal."""
        if self.enabled and self._tty and self._width:
            self.stream.write("\n")
            self.stream.flush()
