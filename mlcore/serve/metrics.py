"""A small Prometheus registry: counters and histograms, rendered in the text exposition format."""

from __future__ import annotations

import bisect
import threading

__all__ = ["Metrics"]

_LATENCY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)
_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384)


def _labels(d: dict) -> str:
    if not d:
        return ""
    inner = ",".join(f'{k}="{str(v)}"' for k, v in sorted(d.items()))
    return "{" + inner + "}"


class Metrics:
    def __init__(self):
        self._lock = threading.Lock()
        self._counters: dict[tuple[str, tuple], float] = {}
        self._hist: dict[tuple[str, tuple], list] = {}
        self._help: dict[str, tuple[str, str]] = {}

    def inc(self, name: str, value: float = 1.0, help: str = "", **labels) -> None:
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            self._help.setdefault(name, ("counter", help))
            self._counters[key] = self._counters.get(key, 0.0) + value

    def observe(self, name: str, value: float, *, buckets=_LATENCY_BUCKETS, help: str = "", **labels) -> None:
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            self._help.setdefault(name, ("histogram", help))
            h = self._hist.get(key)
            if h is None:
                h = self._hist[key] = [tuple(buckets), [0] * (len(buckets) + 1), 0.0, 0]
            h[1][bisect.bisect_left(h[0], value)] += 1
            h[2] += value
            h[3] += 1

    def observe_size(self, name: str, value: float, help: str = "", **labels) -> None:
        self.observe(name, value, buckets=_SIZE_BUCKETS, help=help, **labels)

    def counter(self, name: str, **labels) -> float:
        return self._counters.get((name, tuple(sorted(labels.items()))), 0.0)

    def render(self) -> str:
        lines = []
        with self._lock:
            for name, (kind, help) in sorted(self._help.items()):
                lines.append(f"# HELP {name} {help}")
                lines.append(f"# TYPE {name} {kind}")
                if kind == "counter":
                    for (n, labels), v in sorted(self._counters.items()):
                        if n == name:
                            lines.append(f"{name}{_labels(dict(labels))} {v:g}")
                else:
                    for (n, labels), (bounds, counts, total, count) in sorted(self._hist.items()):
                        if n != name:
                            continue
                        cum = 0
                        lab = dict(labels)
                        for b, c in zip(bounds, counts):
                            cum += c
                            lines.append(f"{name}_bucket{_labels({**lab, 'le': f'{b:g}'})} {cum}")
                        lines.append(f"{name}_bucket{_labels({**lab, 'le': '+Inf'})} {count}")
                        lines.append(f"{name}_sum{_labels(lab)} {total:g}")
                        lines.append(f"{name}_count{_labels(lab)} {count}")
        return "\n".join(lines) + "\n"
