"""A small progress line for long work (rows/s and time left), on stderr, only when it is a terminal
or when forced. No dependency."""

from __future__ import annotations

import os
import sys
import time

__all__ = ["Progress"]


class Progress:
    def __init__(self, total: int | None = None, *, label: str = "", unit: str = "rows", enabled: bool | None = None,
                 stream=None, min_interval_s: float = 0.5):
        self.total = total
        self.label = label
        self.unit = unit
        self.stream = stream or sys.stderr
        if enabled is None:
            enabled = os.environ.get("MLCORE_PROGRESS", "") == "1" or (hasattr(self.stream, "isatty") and self.stream.isatty())
        self.enabled = enabled
        self.done = 0
        self._t0 = time.monotonic()
        self._last = 0.0
        self._interval = min_interval_s

    def update(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and now - self._last >= self._interval:
            self._last = now
            self._print(now)

    def _print(self, now: float, end: str = "\r") -> None:
        elapsed = max(now - self._t0, 1e-9)
        rate = self.done / elapsed
        if self.total:
            pct = 100.0 * self.done / self.total
            left = (self.total - self.done) / rate if rate > 0 else float("inf")
            msg = f"{self.label} {self.done:,}/{self.total:,} {self.unit} ({pct:5.1f}%) {rate:,.0f} {self.unit}/s, {left:,.0f} s left"
        else:
            msg = f"{self.label} {self.done:,} {self.unit} {rate:,.0f} {self.unit}/s"
        self.stream.write(msg.ljust(100) + end)
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self._print(time.monotonic(), end="\n")
