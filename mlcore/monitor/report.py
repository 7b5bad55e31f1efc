"""A self-contained HTML report: the latest verdict per feature, ranked, and each feature's
drift over the windows as an inline SVG plot (effect size against its floor; drifted windows in
red). No script, no external file: one HTML string."""

from __future__ import annotations

import html
import math
from typing import Sequence

__all__ = ["html_report"]


def _svg(values: Sequence[float], flags: Sequence[bool], floor: float, w: int = 260, h: int = 60) -> str:
    vals = [v if v is not None and math.isfinite(v) else 0.0 for v in values]
    top = max(vals + [floor * 1.5, 1e-12])
    n = len(vals)

    def x(i):
        return 4 + (w - 8) * (i / max(n - 1, 1))

    def y(v):
        return h - 4 - (h - 8) * (v / top)

    pts = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(vals))
    dots = "".join(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" fill="{"#c0392b" if f else "#2c3e50"}"/>'
                   for i, (v, f) in enumerate(zip(vals, flags)))
    return (f'<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img">'
            f'<line x1="4" x2="{w - 4}" y1="{y(floor):.1f}" y2="{y(floor):.1f}" stroke="#e67e22" stroke-dasharray="4 3"/>'
            f'<polyline fill="none" stroke="#2c3e50" stroke-width="1.5" points="{pts}"/>{dots}</svg>')


def _fmt(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        return f"{v:.3g}"
    return html.escape(str(v))


def html_report(reports, title: str = "mlcore drift report") -> str:
    """Render one :class:`DriftReport` or a list of ``(window_label, report)`` as HTML.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> from mlcore.monitor import DriftMonitor, html_report
    >>> rng = np.random.default_rng(0)
    >>> m = DriftMonitor().fit(pa.table({"a": rng.normal(size=1000)}))
    >>> page = html_report(m.check(pa.table({"a": rng.normal(size=1000)})))
    >>> page.startswith("<!DOCTYPE html>") and "<svg" in page
    True
    """
    if not isinstance(reports, (list, tuple)):
        reports = [("current", reports)]
    if not reports:
        raise ValueError("html_report needs at least one report")
    labels = [str(lbl) for lbl, _ in reports]
    last = reports[-1][1]
    series = {}
    for _, rep in reports:
        for f in rep.features:
            series.setdefault(f.column, []).append(f)
    rows = []
    for f in last.ranked():
        hist = series.get(f.column, [])
        rows.append(
            f"<tr class={'drift' if f.drifted else 'ok'}><td>{html.escape(f.column)}</td><td>{f.kind}</td>"
            f"<td>{html.escape(f.test)}</td><td>{_fmt(f.statistic)}</td><td>{_fmt(f.p_value)}</td>"
            f"<td>{_fmt(f.adjusted_p_value)}</td><td>{_fmt(f.effect_size)}</td><td>{_fmt(f.effect_floor)}</td>"
            f"<td>{'DRIFT' if f.drifted else ('significant, below floor' if f.significant else 'no')}</td>"
            f"<td>{_svg([g.effect_size for g in hist], [g.drifted for g in hist], f.effect_floor)}</td></tr>")
    verdict = (f"<p class=verdict-drift>Dataset drift: {last.n_drifted} feature(s) drifted "
               f"({html.escape(', '.join(last.drifted_columns))})</p>" if last.drifted
               else "<p class=verdict-ok>No dataset drift</p>")
    settings = html.escape(", ".join(f"{k}={v}" for k, v in last.settings.items()))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse}}
td,th{{padding:4px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:middle}}
tr.drift td{{background:#fdecea}}.verdict-drift{{color:#c0392b;font-weight:bold}}.verdict-ok{{color:#27ae60}}
small{{color:#666}}</style></head><body>
<h1>{html.escape(title)}</h1>{verdict}
<p><small>Windows: {html.escape(', '.join(labels))}. Level {last.alpha}, correction {html.escape(last.correction)};
a feature drifts when its adjusted p-value is at most the level and its effect size at least the floor
(dashed line). Settings: {settings}.</small></p>
<table><thead><tr><th>column</th><th>kind</th><th>test</th><th>statistic</th><th>p</th><th>adjusted p</th>
<th>effect size</th><th>floor</th><th>verdict</th><th>effect size over windows</th></tr></thead>
<tbody>{''.join(rows)}</tbody></table></body></html>"""
