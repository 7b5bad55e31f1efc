"""The demo's dashboard: one self-contained HTML page (inline SVG and CSS, no script, nothing
fetched) that tells the story of :func:`mlcore.maintain.demo.run_demo`.

Sections: the summary; the data (late-arrival rate per month); the goal and the first model;
metrics over time against the goal's ranges (with the model version in use and every
maintenance decision marked); drift per feature over time; the estimate made before labels
against what the labels then said; every decision, and the registry's audit log.

Every plot is a ``<figure id="plot-...">`` holding one ``<svg>`` with axes, ticks and labels.

Examples
--------
>>> page = render_dashboard({"months": [], "decisions": [], "data": {}, "goal": {"metrics": []}})
>>> page.startswith("<!DOCTYPE html>") and 'id="section-decisions"' in page
True
"""

from __future__ import annotations

import html as _html
import json
import math
import os
from typing import Any, Sequence

__all__ = ["render_dashboard", "write_dashboard", "summary_lines", "line_chart", "heatmap", "bar_chart"]

_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f"]


def _e(x: Any) -> str:
    return _html.escape(str(x), quote=True)


def _num(v) -> float:
    if v is None or isinstance(v, (str, bool)):
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return "NaN" if math.isnan(v) else f"{v:.{digits}g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values inside [lo, hi]: the finest step of 1, 2, 2.5 or 5 times a power of ten
    that gives at most ``n + 1`` ticks (so 3 to ``n + 1`` of them)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else [0.0]
    e = math.floor(math.log10((hi - lo) / max(n - 1, 1)))
    steps = sorted(m * 10.0 ** k for k in (e - 1, e, e + 1) for m in (1, 2, 2.5, 5))

    def count(step):
        return math.floor(hi / step + 1e-9) - math.ceil(lo / step - 1e-9) + 1

    step = next((st for st in steps if count(st) <= n + 1), steps[-1])
    first = math.ceil(lo / step - 1e-9)
    return [round((first + i) * step, 12) for i in range(max(count(step), 1))]


def _frame(w: int, h: int, title: str) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
            f'role="img" aria-label="{_e(title)}">',
            f'<rect x="0" y="0" width="{w}" height="{h}" fill="#ffffff"/>',
            f'<text x="{w / 2:.0f}" y="17" text-anchor="middle" class="t">{_e(title)}</text>']


def line_chart(x_labels: Sequence[str], series: Sequence[dict], *, title: str, ylabel: str, xlabel: str = "month",
               band: tuple | None = None, band_label: str = "goal range", markers: Sequence[tuple] = (),
               ylim: tuple | None = None, percent: bool = False, width: int = 520, height: int = 300) -> str:
    """An SVG line chart over categorical x positions.

    ``series``: dicts with ``label``, ``values`` (one per x, None for no value), optional ``low`` /
    ``high`` (an interval drawn as error bars), ``dash`` and ``color``. ``band``: ``(lo, hi)`` of the
    acceptable range (None for an open side), shaded green. ``markers``: ``(x index, text)`` drawn
    as labelled vertical lines (model changes).

    Examples
    --------
    >>> svg = line_chart(["Sep", "Oct"], [{"label": "auc", "values": [0.71, 0.66]}], title="t", ylabel="auc",
    ...                  band=(0.65, None))
    >>> svg.startswith("<svg") and svg.count("<circle") == 2
    True
    """
    pl, pr, pt, pb = 58, 16, 30, 58
    iw, ih = width - pl - pr, height - pt - pb
    n = max(len(x_labels), 1)
    vals = [v for s in series for key in ("values", "low", "high") for v in (s.get(key) or [])]
    finite = [_num(v) for v in vals if math.isfinite(_num(v))]
    if band:
        finite += [b for b in band if b is not None]
    if ylim is None:
        lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
        pad = (hi - lo) * 0.12 or abs(hi) * 0.1 or 0.1
        lo, hi = lo - pad, hi + pad
    else:
        lo, hi = ylim
    ticks = _nice_ticks(lo, hi)
    lo, hi = min(lo, ticks[0]), max(hi, ticks[-1])

    def sx(i: float) -> float:
        return pl + iw * (i + 0.5) / n

    def sy(v: float) -> float:
        return pt + ih - (v - lo) / (hi - lo) * ih

    out = _frame(width, height, title)
    out.append(f'<rect x="{pl}" y="{pt}" width="{iw}" height="{ih}" fill="#fbfbfb" stroke="#999"/>')
    if band:
        b0 = lo if band[0] is None else max(band[0], lo)
        b1 = hi if band[1] is None else min(band[1], hi)
        if b1 > b0:
            out.append(f'<rect x="{pl}" y="{sy(b1):.1f}" width="{iw}" height="{sy(b0) - sy(b1):.1f}" '
                       'fill="#2ca02c" fill-opacity="0.13"/>')
            for b in band:
                if b is not None and lo <= b <= hi:
                    out.append(f'<line x1="{pl}" x2="{pl + iw}" y1="{sy(b):.1f}" y2="{sy(b):.1f}" stroke="#2ca02c" '
                               'stroke-width="1.5" stroke-dasharray="6 3"/>')
            out.append(f'<text x="{pl + iw - 4}" y="{sy(b1) + 12:.1f}" text-anchor="end" class="a" '
                       f'fill="#1d6b1d">{_e(band_label)}</text>')
    for t in ticks:
        y = sy(t)
        out.append(f'<line x1="{pl}" x2="{pl + iw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e6e6e6"/>')
        out.append(f'<line x1="{pl - 4}" x2="{pl}" y1="{y:.1f}" y2="{y:.1f}" stroke="#666"/>')
        txt = f"{t * 100:g}%" if percent else f"{t:g}"
        out.append(f'<text x="{pl - 6}" y="{y + 3.5:.1f}" text-anchor="end" class="a">{txt}</text>')
    for i, lab in enumerate(x_labels):
        x = sx(i)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{pt + ih}" y2="{pt + ih + 4}" stroke="#666"/>')
        out.append(f'<text x="{x:.1f}" y="{pt + ih + 16}" text-anchor="middle" class="a">{_e(lab)}</text>')
    for i, text in markers:
        x = sx(i + 0.5) if i + 0.5 < n else sx(n - 0.5)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{pt}" y2="{pt + ih}" stroke="#555" stroke-dasharray="2 3"/>')
        out.append(f'<text x="{x + 3:.1f}" y="{pt + 11}" class="m">{_e(text)}</text>')
    out.append(f'<text x="{pl + iw / 2:.0f}" y="{height - 22}" text-anchor="middle" class="l">{_e(xlabel)}</text>')
    out.append(f'<text x="14" y="{pt + ih / 2:.0f}" text-anchor="middle" class="l" '
               f'transform="rotate(-90 14 {pt + ih / 2:.0f})">{_e(ylabel)}</text>')
    lx = pl
    for k, s in enumerate(series):
        c = s.get("color") or _COLORS[k % len(_COLORS)]
        vs = [_num(v) for v in s.get("values", [])]
        lows, highs = s.get("low"), s.get("high")
        if lows and highs:
            for i, (a, b) in enumerate(zip(lows, highs)):
                a, b = _num(a), _num(b)
                if math.isfinite(a) and math.isfinite(b):
                    x = sx(i)
                    out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{sy(a):.1f}" y2="{sy(b):.1f}" stroke="{c}" '
                               'stroke-width="1.2"/>')
                    out += [f'<line x1="{x - 4:.1f}" x2="{x + 4:.1f}" y1="{sy(v):.1f}" y2="{sy(v):.1f}" stroke="{c}"/>'
                            for v in (a, b)]
        pts = [(sx(i), sy(v)) for i, v in enumerate(vs) if math.isfinite(v)]
        if len(pts) > 1 and not s.get("points_only"):
            dash = ' stroke-dasharray="6 4"' if s.get("dash") else ""
            out.append(f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in pts)}" fill="none" '
                       f'stroke="{c}" stroke-width="2.2"{dash}/>')
        fails = s.get("fail") or []
        for j, (i, v) in enumerate((i, v) for i, v in enumerate(vs) if math.isfinite(v)):
            bad = i < len(fails) and fails[i]
            out.append(f'<circle cx="{sx(i):.1f}" cy="{sy(v):.1f}" r="{5 if bad else 3.8}" fill="{"#ffffff" if bad else c}" '
                       f'stroke="{"#d62728" if bad else c}" stroke-width="{2.5 if bad else 1}"/>')
        label = s.get("label", "")
        out.append(f'<rect x="{lx}" y="{height - 13}" width="12" height="4" fill="{c}"/>'
                   f'<text x="{lx + 16}" y="{height - 8}" class="k">{_e(label)}</text>')
        lx += 26 + 6.2 * len(label)
    out.append("</svg>")
    return "".join(out)


def _heat_color(v: float, vmax: float) -> str:
    """White to dark red by v / vmax."""
    if not math.isfinite(v):
        return "#eeeeee"
    f = max(0.0, min(1.0, v / vmax)) if vmax > 0 else 0.0
    r = int(255 - f * (255 - 165))
    g = int(255 - f * 255 * 0.92)
    b = int(255 - f * 255 * 0.88)
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap(rows: Sequence[str], cols: Sequence[str], values: Sequence[Sequence], flags: Sequence[Sequence], *,
            title: str, value_label: str, xlabel: str = "month", ylabel: str = "feature") -> str:
    """An SVG heat map (rows x cols) with the value in each cell; flagged cells get a thick border.

    Examples
    --------
    >>> svg = heatmap(["temp"], ["Sep", "Oct"], [[0.7, 0.5]], [[True, False]], title="t", value_label="effect")
    >>> svg.count('stroke="#222"')
    1
    """
    cw, rh = 64, 22
    pl, pr, pt, pb = 110, 120, 30, 48
    width = pl + cw * max(len(cols), 1) + pr
    height = pt + rh * max(len(rows), 1) + pb
    finite = [_num(v) for r in values for v in r if math.isfinite(_num(v))]
    vmax = max(finite) if finite else 1.0
    out = _frame(width, height, title)
    for i, name in enumerate(rows):
        y = pt + i * rh
        out.append(f'<text x="{pl - 6}" y="{y + rh / 2 + 4:.1f}" text-anchor="end" class="a">{_e(name)}</text>')
        for j in range(len(cols)):
            v = _num(values[i][j])
            x = pl + j * cw
            flag = bool(flags[i][j])
            out.append(f'<rect x="{x + 1}" y="{y + 1}" width="{cw - 2}" height="{rh - 2}" fill="{_heat_color(v, vmax)}"'
                       + (' stroke="#222" stroke-width="2"' if flag else ' stroke="#ddd"') + "/>")
            dark = math.isfinite(v) and vmax > 0 and v / vmax > 0.55
            fill = ' style="fill:#ffffff"' if dark else ""
            out.append(f'<text x="{x + cw / 2:.1f}" y="{y + rh / 2 + 4:.1f}" text-anchor="middle" class="a"{fill}>'
                       f'{_fmt(v, 2)}</text>')
    for j, c in enumerate(cols):
        out.append(f'<text x="{pl + j * cw + cw / 2:.1f}" y="{pt + len(rows) * rh + 15}" text-anchor="middle" '
                   f'class="a">{_e(c)}</text>')
    out.append(f'<text x="{pl + cw * len(cols) / 2:.0f}" y="{height - 12}" text-anchor="middle" class="l">{_e(xlabel)}</text>')
    out.append(f'<text x="14" y="{pt + rh * len(rows) / 2:.0f}" text-anchor="middle" class="l" '
               f'transform="rotate(-90 14 {pt + rh * len(rows) / 2:.0f})">{_e(ylabel)}</text>')
    # colour scale
    lx = pl + cw * len(cols) + 30
    steps = 8
    sh = rh * max(len(rows), 1) / steps
    for k in range(steps):
        v = vmax * (steps - 1 - k) / (steps - 1)
        out.append(f'<rect x="{lx}" y="{pt + k * sh:.1f}" width="16" height="{sh + 0.5:.1f}" fill="{_heat_color(v, vmax)}"/>')
    out.append(f'<rect x="{lx}" y="{pt}" width="16" height="{sh * steps:.1f}" fill="none" stroke="#999"/>')
    out.append(f'<text x="{lx + 20}" y="{pt + 9}" class="a">{_fmt(vmax, 2)}</text>')
    out.append(f'<text x="{lx + 20}" y="{pt + sh * steps:.1f}" class="a">0</text>')
    out.append(f'<text x="{lx + 8}" y="{pt + sh * steps + 16:.1f}" text-anchor="middle" class="a">{_e(value_label)}</text>')
    out.append("</svg>")
    return "".join(out)


def bar_chart(labels: Sequence[str], values: Sequence, *, title: str, ylabel: str, colors: Sequence[str],
              legend: Sequence[tuple] = (), percent: bool = False, width: int = 620, height: int = 280) -> str:
    """A vertical SVG bar chart with a y axis, value labels and a colour legend.

    Examples
    --------
    >>> svg = bar_chart(["Sep", "Dec"], [0.13, 0.33], title="t", ylabel="late", colors=["#d62728"] * 2, percent=True)
    >>> "33.0%" in svg
    True
    """
    pl, pr, pt, pb = 58, 16, 30, 54
    iw, ih = width - pl - pr, height - pt - pb
    n = max(len(labels), 1)
    finite = [_num(v) for v in values if math.isfinite(_num(v))]
    top = max(finite) if finite else 1.0
    ticks = _nice_ticks(0.0, top * 1.1)
    hi = max(ticks[-1], top * 1.1) or 1.0

    def sy(v: float) -> float:
        return pt + ih - v / hi * ih

    out = _frame(width, height, title)
    out.append(f'<rect x="{pl}" y="{pt}" width="{iw}" height="{ih}" fill="#fbfbfb" stroke="#999"/>')
    for t in ticks:
        out.append(f'<line x1="{pl}" x2="{pl + iw}" y1="{sy(t):.1f}" y2="{sy(t):.1f}" stroke="#e6e6e6"/>')
        txt = f"{t * 100:g}%" if percent else f"{t:g}"
        out.append(f'<text x="{pl - 6}" y="{sy(t) + 3.5:.1f}" text-anchor="end" class="a">{txt}</text>')
    bw = iw / n * 0.7
    for i, (lab, v) in enumerate(zip(labels, values)):
        x = pl + iw * (i + 0.5) / n
        val = _num(v)
        if math.isfinite(val):
            out.append(f'<rect x="{x - bw / 2:.1f}" y="{sy(val):.1f}" width="{bw:.1f}" height="{sy(0) - sy(val):.1f}" '
                       f'fill="{colors[i]}"/>')
            txt = f"{val * 100:.1f}%" if percent else _fmt(val)
            out.append(f'<text x="{x:.1f}" y="{sy(val) - 3:.1f}" text-anchor="middle" class="a">{txt}</text>')
        out.append(f'<text x="{x:.1f}" y="{pt + ih + 15}" text-anchor="middle" class="a">{_e(lab)}</text>')
    out.append(f'<text x="14" y="{pt + ih / 2:.0f}" text-anchor="middle" class="l" '
               f'transform="rotate(-90 14 {pt + ih / 2:.0f})">{_e(ylabel)}</text>')
    lx = pl
    for text, c in legend:
        out.append(f'<rect x="{lx}" y="{height - 16}" width="12" height="10" fill="{c}"/>'
                   f'<text x="{lx + 16}" y="{height - 7}" class="k">{_e(text)}</text>')
        lx += 30 + 6.2 * len(text)
    out.append("</svg>")
    return "".join(out)


# ------------------------------------------------------------------------------------- the page
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1180px;color:#222;
background:#fff;padding:0 16px}
h1{font-size:24px;margin:0 0 6px}h2{font-size:19px;margin:30px 0 8px;border-bottom:1px solid #ddd;padding-bottom:3px}
h3{font-size:15px;margin:16px 0 6px}
.lead{font-size:15px;line-height:1.45;max-width:1000px}
table{border-collapse:collapse;font-size:13px;margin:6px 0 10px}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right;
vertical-align:top}th{background:#f3f3f3}td.n,th.n{text-align:left}tr.bad td{background:#fff3f3}tr.good td{background:#f1faf1}
.plots{display:flex;flex-wrap:wrap;gap:14px}figure.plot{margin:0;border:1px solid #e3e3e3;padding:4px;background:#fff;width:min-content}
figcaption{font-size:12px;color:#555;margin-top:2px}
svg .t{font-size:13px;font-weight:600}svg .a{font-size:10.5px;fill:#444}svg .l{font-size:11.5px;fill:#333}
svg .k{font-size:11px;fill:#333}svg .m{font-size:10px;fill:#333}
.pill{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.ok{background:#e3f5e6;color:#17692a}.no{background:#fde8e8;color:#9b1c1c}.info{background:#e8f0fd;color:#1c3f9b}
.muted{color:#666;font-size:12px}details.report{margin:4px 0;font-size:13px}details.report summary{cursor:pointer}code{font-size:12px;background:#f5f5f5;padding:0 3px}
"""


def _figure(key: str, svg: str, caption: str) -> str:
    return f'<figure class="plot" id="plot-{_e(key)}">{svg}<figcaption>{_e(caption)}</figcaption></figure>'


def _pill(ok: bool, yes: str = "pass", no: str = "fail") -> str:
    return f'<span class="pill {"ok" if ok else "no"}">{_e(yes if ok else no)}</span>'


def _table(head: Sequence[str], rows: Sequence[Sequence], left: int = 1, classes: Sequence[str] | None = None) -> str:
    out = ["<table><tr>" + "".join(f'<th class="{"n" if i < left else ""}">{_e(h)}</th>' for i, h in enumerate(head))
           + "</tr>"]
    for r_i, r in enumerate(rows):
        cls = f' class="{classes[r_i]}"' if classes and classes[r_i] else ""
        out.append(f"<tr{cls}>" + "".join(f'<td class="{"n" if i < left else ""}">{c}</td>' for i, c in enumerate(r))
                   + "</tr>")
    out.append("</table>")
    return "".join(out)


def _summary_lines(story: dict) -> list[str]:
    """The terminal summary (also the page's lead paragraph)."""
    d = story.get("data", {})
    rates = d.get("late_rate_by_month", {})
    months = story.get("months", [])
    lines = []
    if d:
        lines.append(f"Data: {d.get('n_flights', 0):,} NYC flights of 2013 joined with hourly weather; "
                     f"{d.get('n_cancelled', 0):,} cancelled or diverted flights have no arrival delay and are left out "
                     f"of training and evaluation (in production they are scored, but no label ever arrives).")
    if months:
        seq = ", ".join(f"{r['month']} {rates.get(r['month'], math.nan):.1%}" for r in months)
        lines.append(f"Late-arrival rate (> 15 min) by production month: {seq} "
                     f"(training window {d.get('train_window', '?')}: "
                     f"{_mean([rates.get(k) for k in list(rates)[:story.get('config', {}).get('train_months', 7)]]):.1%} on average).")
    ev = story.get("evaluation")
    if ev:
        lines.append(f"First model, tested on {ev['window']}: {ev['verdict']} ("
                     + ", ".join(f"{k} {v['value']:.3f}" for k, v in ev["metrics"].items()) + ").")
    flagged = [r["month"] for r in months if not r.get("goal_met", True)]
    drifted = [r["month"] for r in months if r.get("drifted_inputs")]
    if months:
        lines.append(f"Monitoring: input drift in {', '.join(drifted) or 'no month'}; goal missed in "
                     f"{', '.join(flagged) or 'no month'}.")
    for dec in story.get("decisions", []):
        if dec.get("kind") in ("deployed", "promoted", "promotion_refused", "rollback", "retrain_failed"):
            v = f" v{dec['version']}" if dec.get("version") else ""
            lines.append(f"{str(dec.get('at') or '')[:10]} {dec['kind']}{v}: {_short_reason(dec)}")
    return lines


def _short_reason(dec: dict) -> str:
    """The decision's reason without the policy preamble ("... -> what was decided")."""
    reason = str(dec.get("reason", ""))
    return reason.split(" -> ", 1)[1] if " -> " in reason else reason


def _mean(vals) -> float:
    v = [_num(x) for x in vals if math.isfinite(_num(x))]
    return sum(v) / len(v) if v else math.nan


_KIND_CLASS = {"deployed": "ok", "promoted": "ok", "promotion_refused": "no", "retrain_failed": "no",
               "retrain_triggered": "info", "retrain_skipped": "info", "rollback": "info"}


def _evidence_html(d: dict) -> str:
    """The evidence of one decision, in a few lines (the full record is in the decision log)."""
    ev = d.get("evidence") or {}
    kind = d.get("kind")
    if kind == "deployed":
        return _e(", ".join(f"{k} {_fmt(_num(v), 4)}" for k, v in (ev.get("metrics") or {}).items()
                            if isinstance(v, (int, float))))
    if kind in ("promoted", "promotion_refused"):
        champ = ev.get("champion") or {}
        w = ev.get("evaluation_window") or {}
        lines = [f"{ev.get('metric')} on {_fmt(w.get('rows'))} rows {str(w.get('start', ''))[:10]} .. "
                 f"{str(w.get('end', ''))[:10]}: champion {_fmt(_num(champ.get('value')), 4)} "
                 f"({'meets' if champ.get('meets_goal') else 'misses'} the goal)"]
        for c in ev.get("challengers", []):
            diff = c.get("difference") or {}
            lines.append(f"{c['name']} {_fmt(_num(c.get('value')), 4)}: improvement {_fmt(_num(diff.get('improvement')), 3)} "
                         f"[{_fmt(_num((diff.get('interval') or [None])[0]), 3)}, "
                         f"{_fmt(_num((diff.get('interval') or [None, None])[1]), 3)}], "
                         f"{'meets' if c.get('meets_goal') else 'misses'} the goal, "
                         f"{'beats' if c.get('beats_champion') else 'does not beat'} the champion")
        wt = ev.get("weights") or {}
        if wt:
            lines.append(f"weights: domain AUC {_fmt(_num(wt.get('domain_auc')), 3)}, effective sample size "
                         f"{_fmt(_num(wt.get('effective_sample_size')), 4)}")
        return "<br>".join(_e(x) for x in lines)
    if kind in ("retrain_triggered", "retrain_skipped"):
        pols = [p for p in ev.get("policies", []) if p.get("triggered")] or ev.get("policies", [])
        return _e("; ".join(f"{p.get('policy')}: {p.get('reason')}" for p in pols))
    return f"<code>{_e(json.dumps(ev, sort_keys=True, default=str)[:300])}</code>"


def _audit_evidence(a: dict) -> str:
    ev = a.get("evidence")
    if ev is None:
        return _e(a.get("reason") or "")
    if isinstance(ev, dict) and "reason" in ev:  # a retraining's evidence: its verdict
        return _e(f"promote={ev.get('promote')}: {ev.get('reason')}")
    if isinstance(ev, dict) and isinstance(ev.get("goal"), dict):  # the goal gate's checks
        return _e("goal gate: " + ", ".join(f"{k} {_fmt(_num(v.get('value')), 4)} {'pass' if v.get('passed') else 'fail'}"
                                            for k, v in ev["goal"].items()))
    return f"<code>{_e(json.dumps(ev, sort_keys=True, default=str)[:400])}</code>"


def _comparison_figure(d: dict, goal: dict) -> str:
    """Champion and challengers of one retraining: the compared metric with its interval, on the
    same rows, the goal's range shaded."""
    ev = d["evidence"]
    metric = ev.get("metric", "")
    champ = ev.get("champion") or {}
    names = ["champion"] + [c["name"] for c in ev.get("challengers", [])]
    items = [champ] + list(ev.get("challengers", []))
    vals = [_num(c.get("value")) for c in items]
    ivs = [c.get("interval") or [None, None] for c in items]
    band = next(((m.get("min"), m.get("max")) for m in goal.get("metrics", []) if m.get("name") == metric), None)
    when = str(d.get("at") or "")[:7]
    svg = line_chart(names, [{"label": f"{metric} on the evaluation window (95% interval)", "values": vals,
                              "low": [i[0] for i in ivs], "high": [i[1] for i in ivs],
                              "fail": [not c.get("meets_goal", True) for c in items], "points_only": True}],
                     title=f"Retraining at {when}: {d.get('kind')}", ylabel=metric, xlabel="model",
                     band=band, band_label="goal range", width=420, height=280)
    return _figure(f"comparison-{when}", svg,
                   f"Every model scored on the same {_fmt((ev.get('evaluation_window') or {}).get('rows'))} most recent "
                   f"labelled flights; hollow red: the model misses the goal on some metric. Chosen: {ev.get('chosen')}; "
                   f"{_short_reason(d)}")


def render_dashboard(story: dict) -> str:
    """The dashboard page for a demo story (the dict :func:`~mlcore.maintain.demo.run_demo` returns)."""
    months = story.get("months", [])
    data = story.get("data", {})
    goal = story.get("goal", {"metrics": []})
    ev = story.get("evaluation")
    parts = [f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>mlcore demo: late arrivals at NYC airports</title>
<style>{_CSS}</style></head><body>
<h1>mlcore life-cycle demo: will this flight arrive more than 15 minutes late?</h1>"""]
    parts.append('<section id="section-summary"><p class="lead">'
                 + "<br>".join(_e(s) for s in _summary_lines(story)) + "</p></section>")

    # -- data ------------------------------------------------------------------------------
    rates = data.get("late_rate_by_month", {})
    train_m = story.get("config", {}).get("train_months", 7)
    prod = {r["month"] for r in months}
    names = list(rates)
    colors = ["#1f77b4" if i < train_m else ("#9467bd" if i == train_m else ("#d62728" if n in prod else "#bbbbbb"))
              for i, n in enumerate(names)]
    parts.append('<section id="section-data"><h2>The data</h2>')
    if names:
        parts.append('<div class="plots">' + _figure("late-rate", bar_chart(
            names, [rates[n] for n in names], title="Late-arrival rate by month (2013)", ylabel="flights > 15 min late",
            colors=colors, percent=True, legend=[("training", "#1f77b4"), ("test (gate)", "#9467bd"),
                                                  ("production", "#d62728")]),
            "Share of the flights with a recorded arrival that arrived more than 15 minutes late, per month: "
            "the quantity the model predicts, and how it moves once the model is in production.") + "</div>")
    facts = [("flights (joined with weather at the origin, departure hour)", _fmt(data.get("n_flights"))),
             ("without arr_delay: cancelled or diverted, no label", _fmt(data.get("n_cancelled"))),
             ("training rows / window", f"{_fmt(data.get('n_train'))} / {_e(data.get('train_window', ''))}"),
             ("test rows / window", f"{_fmt(data.get('n_test'))} / {_e(data.get('test_window', ''))}"),
             ("weather gaps filled with the training medians (training rows)",
              _fmt((data.get("train_validation") or {}).get("filled"))),
             ("sample of the flights used", _fmt(data.get("sample")))]
    parts.append(_table(["fact", "value"], [(_e(a), b) for a, b in facts]) + "</section>")

    # -- goal and first model --------------------------------------------------------------------
    parts.append('<section id="section-model"><h2>Goal and first model</h2>')
    parts.append(f"<p>Goal <b>{_e(goal.get('name', ''))}</b>: {_e(goal.get('description', ''))}.</p>")
    sel = story.get("selection")
    if sel:
        rows = [(_e(c["name"]), _e(json.dumps(c["params"], sort_keys=True)), _fmt(c["score"], 4),
                 _fmt(c["fit_seconds"], 2), _fmt(c["rank"])) for c in sel["candidates"]]
        parts.append(f"<h3>Model selection: {_e(sel['metric'])}, {_e(sel['validation'])} on "
                     f"{_fmt(sel.get('n_rows'))} training rows; {_fmt(sel.get('n_features'))} features</h3>")
        parts.append(_table(["candidate", "params", sel["metric"], "fit s", "rank"], rows, left=2))
    if ev:
        rows = [(_e(k), _fmt(v["value"], 4), f"[{_fmt(v['low'], 4)}, {_fmt(v['high'], 4)}]", _e(v["range"]),
                 _pill(v["passed"])) for k, v in ev["metrics"].items()]
        parts.append(f"<h3>Evaluation on {_e(ev['window'])} ({_fmt(ev['n'])} flights, late rate "
                     f"{ev['late_rate']:.1%}): {_e(ev['verdict'])}</h3>")
        parts.append(_table(["metric", "value", "95% interval", "goal", ""], rows))
    parts.append("</section>")

    # -- metrics over time ------------------------------------------------------------------------
    parts.append('<section id="section-metrics"><h2>Metrics over time, against the goal</h2>')
    x = ([ev["window"].split()[0] + " (test)"] if ev else []) + [r["month"] for r in months]
    markers = []
    prev = None
    for i, r in enumerate(months):
        v = r.get("model_version")
        if prev is not None and v != prev:
            markers.append((i - 1 + (1 if ev else 0), f"v{v}"))
        prev = v
    figs = []
    for m in goal.get("metrics", []):
        name = m["name"]
        vals = ([ev["metrics"].get(name, {}).get("value")] if ev else []) + \
               [r.get("metrics", {}).get(name, {}).get("value") for r in months]
        low = ([ev["metrics"].get(name, {}).get("low")] if ev else []) + \
              [r.get("metrics", {}).get(name, {}).get("low") for r in months]
        high = ([ev["metrics"].get(name, {}).get("high")] if ev else []) + \
               [r.get("metrics", {}).get(name, {}).get("high") for r in months]
        fail = ([not ev["metrics"].get(name, {}).get("passed", True)] if ev else []) + \
               [not r.get("metrics", {}).get(name, {}).get("passed", True) for r in months]
        figs.append(_figure(f"metric-{name}", line_chart(
            x, [{"label": f"{name} of the production model (95% interval)", "values": vals, "low": low, "high": high,
                 "fail": fail}],
            title=f"{name} per month", ylabel=name, band=(m.get("min"), m.get("max")),
            band_label=f"goal: {m.get('range', '')}", markers=markers),
            f"{name} on each month's flights once their labels arrived; green: the goal's range ({m.get('range', '')}); "
            "hollow red points miss it; dotted lines: a new model version took over production."))
    if months:
        figs.append(_figure("late-rate-predicted", line_chart(
            x[1:] if ev else x, [
                {"label": "actual late rate", "values": [r["labels"]["late_rate"] for r in months]},
                {"label": "predicted (mean probability)", "values": [r["estimate"]["late_rate"] for r in months],
                 "dash": True}],
            title="Late-arrival rate: predicted vs actual", ylabel="share of flights", percent=True,
            markers=[(i - (1 if ev else 0), t) for i, t in markers]),
            "The mean predicted probability (known when the month is scored) against the share that was actually "
            "late (known once the labels arrive)."))
        figs.append(_figure("estimate", line_chart(
            x[1:] if ev else x, [
                {"label": "estimated accuracy before labels (CBPE, 95% band)",
                 "values": [r["estimate"]["accuracy"] for r in months],
                 "low": [r["estimate"]["band"][0] for r in months], "high": [r["estimate"]["band"][1] for r in months],
                 "dash": True},
                {"label": "accuracy once labels arrived", "values": [r["labels"]["accuracy"] for r in months]}],
            title="Performance estimated before labels vs measured", ylabel="accuracy at p >= 0.5",
            markers=[(i - (1 if ev else 0), t) for i, t in markers]),
            "Confidence-based performance estimation assumes calibrated probabilities: where the estimate and the "
            "measurement part, the probabilities stopped being calibrated."))
    parts.append('<div class="plots">' + "".join(figs) + "</div></section>")

    # -- drift ------------------------------------------------------------------------------
    parts.append('<section id="section-drift"><h2>Drift per feature over time</h2>')
    if months:
        feats = list(months[0].get("drift", {}))
        vals = [[r["drift"].get(f, {}).get("effect_size") for r in months] for f in feats]
        flags = [[r["drift"].get(f, {}).get("drifted") for r in months] for f in feats]
        psi = [[r["drift"].get(f, {}).get("psi") for r in months] for f in feats]
        mx = [r["month"] for r in months]
        dfigs = [_figure("drift", heatmap(feats, mx, vals, flags, title="Input drift against the training data",
                                          value_label="effect size"),
                         "Effect size per feature and month (numeric: Wasserstein-1 / reference std; categorical: total "
                         "variation). A framed cell is drift: adjusted p-value <= 0.05 and effect above its floor.")]
        dfigs.append(_figure("psi", heatmap(feats, mx, psi, [[(v or 0) >= 0.2 for v in row] for row in psi],
                                            title="PSI from the monitoring profiles", value_label="PSI"),
                             "Population stability index of each month's profile against the reference profile, "
                             "on the reference's bins (framed: PSI >= 0.2)."))
        dfigs.append(_figure("prediction-drift", line_chart(mx, [
            {"label": "prediction drift effect size", "values": [r["prediction_drift"]["effect_size"] for r in months],
             "fail": [r["prediction_drift"]["drifted"] for r in months]}],
            title="Drift of the model's output", ylabel="W1 / reference std", band=(None, 0.1),
            band_label="below the effect floor", ylim=None),
            "The predicted probabilities of each month against those on the training data; hollow red: drift."))
        parts.append('<div class="plots">' + "".join(dfigs) + "</div>")
    parts.append("</section>")

    # -- decisions ----------------------------------------------------------------------------
    parts.append('<section id="section-decisions"><h2>Every decision</h2>')
    parts.append('<p class="muted">From the maintainer\'s decision log: every deployment, every retraining '
                 "the monitoring rules asked for, and what the registry did with its challenger.</p>")
    rows, classes = [], []
    for d in story.get("decisions", []):
        kind = d.get("kind", "")
        rows.append((_e(str(d.get("at") or "")[:10]), f'<span class="pill {_KIND_CLASS.get(kind, "info")}">{_e(kind)}</span>',
                     _fmt(d.get("version")), _fmt(d.get("previous")), _e(d.get("reason", "")),
                     _evidence_html(d)))
        classes.append("good" if kind in ("promoted", "deployed") else
                       ("bad" if kind in ("promotion_refused", "retrain_failed") else ""))
    parts.append(_table(["data time", "decision", "version", "previous", "reason", "evidence"], rows, left=6,
                        classes=classes))
    comps = [d for d in story.get("decisions", []) if d.get("kind") in ("promoted", "promotion_refused")
             and (d.get("evidence") or {}).get("champion")]
    if comps:
        parts.append("<h3>Champion vs challengers, on the same recent window</h3>")
        parts.append('<div class="plots">' + "".join(_comparison_figure(d, goal) for d in comps) + "</div>")
    reports = story.get("retrain_reports") or []
    if reports:
        from .challengers import report_html  # mlcore.maintain's own rendering of a retraining report

        parts.append("<h3>Retraining reports</h3>")
        for r in reports:
            parts.append(f'<details class="report"><summary>{_e(str(r.get("at") or "")[:10])}: {_e(r.get("kind"))}'
                         f"</summary>{report_html(r['report'])}</details>")
    mrows = []
    for r in months:
        mrows.append((_e(r["month"]), f"v{r.get('model_version')}", _fmt(r["scored"]["rows"]),
                      _fmt(r["labels"]["labelled"]), f"{r['labels']['late_rate']:.1%}",
                      _e(", ".join(r.get("drifted_inputs", [])) or "none"), _pill(r.get("goal_met", False), "met", "missed"),
                      _e(", ".join(r.get("alerts", [])) or "none"),
                      _e(", ".join(f"{m['kind']}" + (f" v{m['version']}" if m.get("version") else "")
                                   for m in r.get("maintenance", [])) or "none")))
    if mrows:
        parts.append("<h3>Month by month</h3>")
        parts.append(_table(["month", "model", "scored", "labelled", "late rate", "drifted inputs", "goal",
                             "alerts fired", "maintenance"], mrows, left=9))
    audit = story.get("registry", {}).get("audit", [])
    if audit:
        arows = [(_e(a.get("time", "")[:19]), _e(a.get("event", "")), _e(a.get("model", "")), _fmt(a.get("version")),
                  _e(a.get("alias", "") or ""), _fmt(a.get("previous")), _audit_evidence(a)) for a in audit]
        parts.append("<h3>Registry audit log</h3>")
        parts.append(_table(["time (UTC)", "event", "model", "version", "alias", "previous", "evidence / reason"],
                            arows, left=7))
    parts.append("</section>")
    t = story.get("timings", {})
    if t:
        parts.append('<section id="section-timings"><h2>Where the time went</h2>'
                     + _table(["stage", "seconds"], [(_e(k), _fmt(v, 3)) for k, v in t.items()])
                     + f'<p class="muted">Total {_fmt(story.get("seconds"))} s. Files: '
                     + _e(", ".join(f"{k}: {os.path.basename(str(v))}" for k, v in story.get("paths", {}).items()
                                    if k != "out")) + "</p></section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_dashboard(story: dict, path: str | os.PathLike) -> str:
    """Write :func:`render_dashboard` to ``path``; returns the path.

    Examples
    --------
    >>> import os, tempfile
    >>> path = write_dashboard({"months": [], "decisions": []}, os.path.join(tempfile.mkdtemp(), "d.html"))
    >>> os.path.getsize(path) > 0
    True
    """
    page = render_dashboard(story)
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    return os.fspath(path)


def summary_lines(story: dict) -> list[str]:
    """The terminal summary of a story (one line per fact or decision).

    Examples
    --------
    >>> summary_lines({"decisions": [{"kind": "promoted", "version": 3, "at": "2013-10-31T23:59:59",
    ...                               "reason": "alert -> expanding wins"}]})
    ['2013-10-31 promoted v3: expanding wins']
    """
    return _summary_lines(story)
