"""The evaluation report: JSON, and one self-contained HTML page with inline SVG plots.

The page has no script, no external stylesheet, font or image, and loads nothing from the
network: it opens the same from a file, an e-mail attachment or an air-gapped machine. It shows
the verdict first, then each metric against its range (failures first, with the shortfall), then
the plots: ROC and precision-recall curves, calibration, the worst slices, per-feature drift,
fairness per group and the latency distribution.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> from mlcore.goals import Goal
>>> from mlcore.evaluate.gate import gate
>>> X = np.random.default_rng(0).normal(size=(400, 2)); y = (X[:, 0] > 0).astype(int)
>>> r = gate(LogisticRegression().fit(X, y), Goal.single("demo", ["roc_auc >= 0.8"]), X, y, n_boot=20)
>>> html = to_html(r)
>>> html.startswith("<!DOCTYPE html>") and "<svg" in html and "http" not in html.split("xmlns")[0]
True
"""

from __future__ import annotations

import html as _html
import json
import math
import os
from typing import Any

from .gate import GateResult, GoalResult

__all__ = ["to_html", "write_html", "write_json", "svg_line_chart", "svg_bar_chart"]

_W, _H = 360, 270
_PAD = dict(l=48, r=12, t=26, b=40)
_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def _e(x: Any) -> str:
    return _html.escape(str(x), quote=True)


def _fmt(v: Any, digits: int = 4) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        return f"{v:.{digits}g}"
    return str(v)


def _num(v) -> float:
    if v is None or isinstance(v, str):
        return float("nan")
    return float(v)


def svg_line_chart(series: list, *, title: str, xlabel: str, ylabel: str, xlim=(0.0, 1.0), ylim=(0.0, 1.0),
                   diagonal: bool = False, points: bool = False) -> str:
    """An SVG line chart: ``series`` is a list of (xs, ys, label)."""
    pl, pr, pt, pb = _PAD["l"], _PAD["r"], _PAD["t"], _PAD["b"]
    iw, ih = _W - pl - pr, _H - pt - pb
    x0, x1 = xlim
    y0, y1 = ylim
    if x1 <= x0:
        x1 = x0 + 1.0
    if y1 <= y0:
        y1 = y0 + 1.0

    def sx(x):
        return pl + (x - x0) / (x1 - x0) * iw

    def sy(y):
        return pt + ih - (y - y0) / (y1 - y0) * ih

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}" '
           f'role="img" aria-label="{_e(title)}">',
           f'<rect x="0" y="0" width="{_W}" height="{_H}" fill="#ffffff"/>',
           f'<text x="{_W / 2}" y="16" text-anchor="middle" class="t">{_e(title)}</text>',
           f'<rect x="{pl}" y="{pt}" width="{iw}" height="{ih}" fill="#fafafa" stroke="#999"/>']
    for k in range(5):
        gx = x0 + (x1 - x0) * k / 4
        gy = y0 + (y1 - y0) * k / 4
        out.append(f'<line x1="{sx(gx):.1f}" y1="{pt}" x2="{sx(gx):.1f}" y2="{pt + ih}" stroke="#e4e4e4"/>')
        out.append(f'<line x1="{pl}" y1="{sy(gy):.1f}" x2="{pl + iw}" y2="{sy(gy):.1f}" stroke="#e4e4e4"/>')
        out.append(f'<text x="{sx(gx):.1f}" y="{pt + ih + 14}" text-anchor="middle" class="a">{_fmt(gx, 3)}</text>')
        out.append(f'<text x="{pl - 4}" y="{sy(gy) + 4:.1f}" text-anchor="end" class="a">{_fmt(gy, 3)}</text>')
    out.append(f'<text x="{pl + iw / 2}" y="{_H - 6}" text-anchor="middle" class="l">{_e(xlabel)}</text>')
    out.append(f'<text x="12" y="{pt + ih / 2}" text-anchor="middle" class="l" '
               f'transform="rotate(-90 12 {pt + ih / 2})">{_e(ylabel)}</text>')
    if diagonal:
        out.append(f'<line x1="{sx(x0):.1f}" y1="{sy(y0):.1f}" x2="{sx(x1):.1f}" y2="{sy(y1):.1f}" '
                   'stroke="#888" stroke-dasharray="4 3"/>')
    for i, (xs, ys, label) in enumerate(series):
        c = _COLORS[i % len(_COLORS)]
        pts = [(sx(_num(x)), sy(_num(y))) for x, y in zip(xs, ys) if math.isfinite(_num(x)) and math.isfinite(_num(y))]
        if not pts:
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{c}" stroke-width="2.2"/>')
        if points:
            out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{c}"/>' for x, y in pts]
        out.append(f'<text x="{pl + 8}" y="{pt + 16 + 14 * i}" class="k" fill="{c}">{_e(label)}</text>')
    out.append("</svg>")
    return "".join(out)


def svg_bar_chart(labels: list, values: list, *, title: str, xlabel: str, lines: tuple = (),
                  colors: list | None = None, notes: list | None = None) -> str:
    """A horizontal SVG bar chart (one bar per label, in the order given); ``lines`` are
    vertical reference lines (e.g. a goal's threshold)."""
    n = max(len(labels), 1)
    bh = 18
    pl, pr, pt, pb = 150, 50, 26, 36
    h = pt + pb + n * (bh + 6)
    iw = _W + 120 - pl - pr
    finite = [abs(_num(v)) for v in values if math.isfinite(_num(v))] + [abs(x) for x, _ in lines]
    vmax = max(finite) if finite else 1.0
    vmax = vmax if vmax > 0 else 1.0
    w = _W + 120
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
           f'role="img" aria-label="{_e(title)}">',
           f'<rect x="0" y="0" width="{w}" height="{h}" fill="#ffffff"/>',
           f'<text x="{w / 2}" y="16" text-anchor="middle" class="t">{_e(title)}</text>']
    for i, (lab, v) in enumerate(zip(labels, values)):
        y = pt + i * (bh + 6)
        val = _num(v)
        c = (colors[i] if colors else _COLORS[0])
        out.append(f'<text x="{pl - 6}" y="{y + bh - 5}" text-anchor="end" class="a">{_e(str(lab)[:24])}</text>')
        if math.isfinite(val):
            bw = max(abs(val) / vmax * iw, 1.0)
            out.append(f'<rect x="{pl}" y="{y}" width="{bw:.1f}" height="{bh}" fill="{c}"/>')
            out.append(f'<text x="{pl + bw + 4:.1f}" y="{y + bh - 5}" class="a">{_fmt(val, 3)}</text>')
        else:
            note = (notes[i] if notes else "") or "undefined"
            out.append(f'<text x="{pl + 4}" y="{y + bh - 5}" class="a">{_e(note[:40])}</text>')
    for x, label in lines:
        lx = pl + abs(x) / vmax * iw
        out.append(f'<line x1="{lx:.1f}" y1="{pt - 4}" x2="{lx:.1f}" y2="{h - pb + 4}" stroke="#d62728" '
                   'stroke-dasharray="5 3" stroke-width="1.5"/>')
        out.append(f'<text x="{lx:.1f}" y="{h - pb + 18}" text-anchor="middle" class="a" fill="#d62728">{_e(label)}</text>')
    out.append(f'<text x="{pl + iw / 2}" y="{h - 4}" text-anchor="middle" class="l">{_e(xlabel)}</text>')
    out.append("</svg>")
    return "".join(out)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 8px} h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}
.verdict{font-size:20px;font-weight:700;padding:10px 14px;border-radius:6px;display:inline-block;margin:8px 0}
.pass{background:#e3f5e6;color:#17692a;border:1px solid #8fd19e}.fail{background:#fde8e8;color:#9b1c1c;border:1px solid #f5a3a3}
table{border-collapse:collapse;font-size:13px;margin:6px 0}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}
th{background:#f3f3f3}td.n{text-align:left}tr.bad td{background:#fff3f3}
.plots{display:flex;flex-wrap:wrap;gap:14px}figure.plot{margin:0;border:1px solid #e3e3e3;padding:4px;background:#fff}
figcaption{font-size:12px;color:#555;max-width:470px}
svg .t{font-size:13px;font-weight:600}svg .a{font-size:10px;fill:#444}svg .l{font-size:11px;fill:#333}svg .k{font-size:11px}
.muted{color:#666;font-size:12px}
"""


def _metrics_table(r: dict) -> str:
    rows = sorted(r["metrics"], key=lambda m: m["passed"])
    out = ["<table><tr><th>metric</th><th>value</th><th>interval</th><th>goal</th><th>result</th>"
           "<th>missed by</th><th>note</th></tr>"]
    for m in rows:
        ci = "–" if m["low"] is None else f"[{_fmt(m['low'])}, {_fmt(m['high'])}]"
        res = "pass" if m["passed"] else "FAIL"
        miss = "" if m["passed"] else _fmt(m["shortfall"])
        out.append(f'<tr class="{"" if m["passed"] else "bad"}"><td class="n">{_e(m["name"])}</td>'
                   f'<td>{_fmt(m["value"], 6)}</td><td>{ci}</td><td class="n">{_e(m["range"])}</td>'
                   f'<td>{res}</td><td>{miss}</td><td class="n">{_e(m.get("note", ""))}</td></tr>')
    out.append("</table>")
    return "".join(out)


def _figure(key: str, svg: str, caption: str) -> str:
    return f'<figure class="plot" id="plot-{_e(key)}">{svg}<figcaption>{_e(caption)}</figcaption></figure>'


def _model_section(r: dict) -> str:
    ok = r["passed"]
    parts = [f'<h2>Model <code>{_e(r["model"])}</code> ({_e(r["task"])}, {r["n_rows"]:,} test rows)</h2>',
             f'<div class="verdict {"pass" if ok else "fail"}">{_e(r["verdict"])}</div>']
    if not ok:
        miss = "; ".join(f'{f["name"]} = {_fmt(f["value"])} misses {f["range"]}'
                         + (f' by {_fmt(f["shortfall"])}' if f["shortfall"] is not None else f' ({f["note"]})')
                         for f in r["failures"])
        parts.append(f'<p><b>Failed:</b> {_e(miss)}</p>')
    parts.append(_metrics_table(r))
    figs = []
    p = r.get("plots", {})
    if "roc" in p:
        figs.append(_figure("roc", svg_line_chart([(p["roc"]["fpr"], p["roc"]["tpr"], f"AUC {_fmt(p['roc']['auc'])}")],
                                                  title="ROC curve", xlabel="false positive rate",
                                                  ylabel="true positive rate", diagonal=True),
                            "Each point is a threshold; the dashed diagonal is a random ranking."))
    if "pr" in p:
        figs.append(_figure("pr", svg_line_chart([(p["pr"]["recall"], p["pr"]["precision"], f"AP {_fmt(p['pr']['ap'])}")],
                                                 title="Precision-recall curve", xlabel="recall", ylabel="precision"),
                            "Precision at each recall level, thresholds from high to low."))
    if "calibration" in p:
        c = p["calibration"]
        xs = [x for x, wt in zip(c["predicted"], c["weight"]) if wt and wt > 0]
        ys = [y for y, wt in zip(c["observed"], c["weight"]) if wt and wt > 0]
        figs.append(_figure("calibration", svg_line_chart([(xs, ys, "observed rate per bin")], title="Calibration",
                                                          xlabel="mean predicted probability",
                                                          ylabel="observed positive rate", diagonal=True, points=True),
                            "10 uniform bins; on the diagonal means well calibrated."))
    slices = r.get("slices") or []
    if slices:
        top = slices[:14]
        labels = [f'{s["column"]}={s["segment"]}' for s in top]
        vals = [s["value"] for s in top]
        metric = p.get("slices_metric", "metric")
        rng = next((m for m in r["metrics"] if m["metric"] == metric), None)
        lines = ()
        if rng is not None:
            thr = _goal_threshold(rng["range"])
            if thr is not None:
                lines = ((thr, f"goal {_fmt(thr)}"),)
        colors = ["#d62728" if (rng is not None and thr is not None and _num(v) == _num(v) and not _meets(rng["range"], v))
                  else "#1f77b4" for v in vals] if lines else None
        figs.append(_figure("slices", svg_bar_chart(labels, vals, title=f"Worst slices by {metric}", xlabel=metric,
                                                    lines=lines, colors=colors, notes=[s["note"] for s in top]),
                            "Segments worst first; red bars miss the goal's range."))
    drift = (r.get("domain") or {}).get("drift") or {}
    if drift:
        items = sorted(drift.items(), key=lambda kv: -(_num(kv[1]) if math.isfinite(_num(kv[1])) else -1))[:20]
        vals = [v for _, v in items]
        colors = ["#d62728" if _num(v) >= 0.2 else "#ff7f0e" if _num(v) >= 0.1 else "#2ca02c" for v in vals]
        figs.append(_figure("drift", svg_bar_chart([k for k, _ in items], vals, title="Per-feature drift (PSI)",
                                                   xlabel="population stability index",
                                                   lines=((0.1, "0.1"), (0.2, "0.2")), colors=colors),
                            "Training vs production-like data; above 0.2 is a large shift."))
    fair = r.get("fairness") or {}
    if fair.get("groups"):
        g = fair["groups"]
        names = list(g)[:14]
        figs.append(_figure("fairness", svg_bar_chart([str(k) for k in names], [g[k]["selection_rate"] for k in names],
                                                      title="Selection rate per group", xlabel="P(predicted positive)"),
                            f'Demographic parity difference {_fmt(fair["demographic_parity_difference"])}, '
                            f'equalised odds difference {_fmt(fair["equalized_odds_difference"])}.'))
    if p.get("latency_us"):
        lat = p["latency_us"]
        k = len(lat)
        ys = [i / max(k - 1, 1) for i in range(k)]
        hi = lat[min(k - 1, int(0.995 * k))]
        figs.append(_figure("latency", svg_line_chart([(lat, ys, "single-row calls")], title="Latency distribution",
                                                      xlabel="µs per call", ylabel="share of calls at most",
                                                      xlim=(0.0, float(hi) * 1.05 or 1.0)),
                            f'p50 {_fmt(r["speed"].get("p50_us"))} µs, p99 {_fmt(r["speed"].get("p99_us"))} µs, '
                            f'batch {_fmt(r["speed"].get("throughput_rows_per_s"))} rows/s.'))
    if figs:
        parts.append('<div class="plots">' + "".join(figs) + "</div>")
    if fair.get("groups"):
        parts.append("<h3>Fairness per group</h3><table><tr><th>group</th><th>rows</th><th>selection rate</th>"
                     "<th>TPR</th><th>FPR</th></tr>" + "".join(
                         f'<tr><td class="n">{_e(k)}</td><td>{v["n"]}</td><td>{_fmt(v["selection_rate"])}</td>'
                         f'<td>{_fmt(v["tpr"])}</td><td>{_fmt(v["fpr"])}</td></tr>' for k, v in fair["groups"].items())
                     + "</table>")
    dom = r.get("domain") or {}
    if "domain_auc" in dom:
        parts.append(f'<p>Domain classifier (training vs production-like rows): AUC {_fmt(dom["domain_auc"])} '
                     f'[{_fmt(dom["domain_auc_interval"][0])}, {_fmt(dom["domain_auc_interval"][1])}]; 0.5 means '
                     f'indistinguishable. Effective sample size of the importance weights: '
                     f'{_fmt(dom.get("effective_sample_size"))}.</p>')
    if slices:
        parts.append("<h3>Slices</h3><table><tr><th>column</th><th>segment</th><th>rows</th><th>value</th>"
                     "<th>note</th></tr>" + "".join(
                         f'<tr><td class="n">{_e(s["column"])}</td><td class="n">{_e(s["segment"])}</td>'
                         f'<td>{s["n"]}</td><td>{_fmt(s["value"])}</td><td class="n">{_e(s["note"])}</td></tr>'
                         for s in slices[:40]) + "</table>")
    st = r.get("settings", {})
    parts.append(f'<p class="muted">Intervals: {_e(st.get("bootstrap", ""))}, {st.get("n_boot")} resamples, '
                 f'{_fmt(st.get("confidence"))} confidence, seed {st.get("seed")}.</p>')
    return "".join(parts)


def _goal_threshold(text: str):
    for op in (">=", "<=", ">", "<"):
        if f" {op} " in text:
            try:
                return float(text.rsplit(f" {op} ", 1)[1])
            except ValueError:
                return None
    return None


def _meets(text: str, v) -> bool:
    thr = _goal_threshold(text)
    v = _num(v)
    if thr is None:
        return True
    if " >= " in text:
        return v >= thr
    if " > " in text:
        return v > thr
    if " <= " in text:
        return v <= thr
    return v < thr


def to_html(result: GateResult | GoalResult | dict, *, title: str | None = None) -> str:
    """The self-contained HTML report of a gate result (one model) or a goal result (all models).

    Examples
    --------
    >>> import numpy as np
    >>> from mlcore.goals import Goal
    >>> from mlcore.evaluate.gate import Predictions, gate
    >>> r = gate(Predictions(labels=np.array([0, 1, 1])), Goal.single("g", ["accuracy >= 0.5"]), None,
    ...          np.array([0, 1, 0]), n_boot=5)
    >>> "Verdict: may go to production" in to_html(r)
    True"""
    d = result.to_dict() if hasattr(result, "to_dict") else result
    models = list(d["models"].values()) if "models" in d else [d]
    goal = d.get("goal", "")
    ok = all(m["passed"] for m in models)
    verdict = "may go to production" if ok else "may not go to production"
    head = title or f"Evaluation of goal “{goal}”"
    body = [f"<h1>{_e(head)}</h1>",
            f'<div class="verdict {"pass" if ok else "fail"}">Verdict: {_e(verdict)}</div>',
            f'<p class="muted">{len(models)} model(s): {_e(", ".join(m["model"] for m in models))}. '
            "Every metric must hold its range for the goal to pass.</p>"]
    body += [_model_section(m) for m in models]
    payload = _e(json.dumps({"goal": goal, "passed": ok}))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"mlcore-result\" content=\"{payload}\">"
            f"<title>{_e(head)}</title><style>{_CSS}</style></head><body>" + "".join(body) + "</body></html>\n")


def write_html(result, path: str | os.PathLike, **kw) -> str:
    """Write :func:`to_html` to ``path``; returns the path."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(to_html(result, **kw))
    return str(path)


def write_json(result, path: str | os.PathLike) -> str:
    """Write the result's JSON (NaN written as null, infinities as strings) to ``path``."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(result.to_json())
    return str(path)
