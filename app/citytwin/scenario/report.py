"""The comparison report: one self-contained HTML file (images embedded as base64 PNG, charts
as inline SVG, no scripts, no external links), written atomically."""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..core.files import atomic_open
from .indicators import KPI, LABELS

__all__ = ["Column", "report_html", "write_report"]

PALETTE = ("#7a7a7a", "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b")
CHARTED = ("gfa_m2", "footprint_m2", "volume_m3", "max_height_m", "mean_height_m", "far", "coverage",
           "open_space_ratio", "flooded_buildings", "roof_irradiation_kwh")


@dataclass
class Column:
    """One scenario (or the base) in the report."""

    name: str
    values: dict[str, Any]
    images: list[bytes] = field(default_factory=list)  # PNG per camera
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    edits: list[str] = field(default_factory=list)
    source: str = ""


def _fmt(v: Any, key: str) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if key in ("far", "coverage", "open_space_ratio"):
            return f"{v:.3f}"
        return f"{v:,.1f}" if abs(v) >= 100 else f"{v:,.2f}"
    return html.escape(str(v))


def _diff(v: Any, b: Any, key: str) -> str:
    if not isinstance(v, (int, float)) or not isinstance(b, (int, float)) or isinstance(v, bool):
        return ""
    d = v - b
    if abs(d) < 1e-12:
        return '<span class="same">±0</span>'
    sign = "+" if d > 0 else "−"
    mag = _fmt(abs(d) if isinstance(d, float) else abs(int(d)), key)
    pct = f" ({sign}{abs(d) / abs(b) * 100:.1f} %)" if b else ""
    cls = "up" if d > 0 else "down"
    return f'<span class="{cls}">{sign}{mag}{pct}</span>'


def _bar_chart(key: str, cols: Sequence[Column], width: int = 420, bar_h: int = 22) -> str:
    vals = [c.values.get(key) for c in cols]
    nums = [float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan for v in vals]
    finite = [v for v in nums if math.isfinite(v)]
    if not finite:
        return ""
    top = max(max(finite), 1e-12)
    label, unit = LABELS.get(key, (key, ""))
    left, right = 150, 90
    h = 28 + bar_h * len(cols) + 8
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" '
             f'viewBox="0 0 {width} {h}" role="img" aria-label="{html.escape(label)}">',
             f'<text x="0" y="16" class="ct">{html.escape(label)}{" (" + unit + ")" if unit else ""}</text>']
    span = width - left - right
    for k, (c, v) in enumerate(zip(cols, nums)):
        y = 28 + k * bar_h
        w = 0.0 if not math.isfinite(v) else max(span * max(v, 0.0) / top, 1.0 if v > 0 else 0.0)
        colour = PALETTE[k % len(PALETTE)]
        parts.append(f'<text x="{left - 6}" y="{y + bar_h * 0.65:.1f}" class="cl">{html.escape(c.name[:24])}</text>')
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{bar_h - 6}" fill="{colour}"/>')
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + bar_h * 0.65:.1f}" class="cv">{_fmt(vals[k], key)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _change_chart(keys: Sequence[str], cols: Sequence[Column], width: int = 640, row_h: int = 16) -> str:
    """Per indicator, each scenario's change against the base in per cent (bars left and right of 0)."""
    base = cols[0].values
    rows: list[tuple[str, list[float | None]]] = []
    for k in keys:
        b = base.get(k)
        if not isinstance(b, (int, float)) or isinstance(b, bool) or b == 0:
            continue
        ch = []
        for c in cols[1:]:
            v = c.values.get(k)
            ch.append(None if not isinstance(v, (int, float)) or isinstance(v, bool) else 100.0 * (v - b) / abs(b))
        rows.append((LABELS.get(k, (k, ""))[0], ch))
    if not rows or len(cols) < 2:
        return ""
    span = max([abs(v) for _, ch in rows for v in ch if v is not None] + [1.0])
    left, right = 170, 60
    mid = left + (width - left - right) / 2
    half = (width - left - right) / 2
    n = len(cols) - 1
    h = 30 + len(rows) * (n * row_h + 8) + 24
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" '
             f'viewBox="0 0 {width} {h}" role="img" aria-label="Change against the base">',
             '<text x="0" y="16" class="ct">Change against the base (%)</text>',
             f'<line x1="{mid:.1f}" y1="24" x2="{mid:.1f}" y2="{h - 20}" stroke="#999"/>']
    y = 30
    for label, ch in rows:
        parts.append(f'<text x="{left - 6}" y="{y + n * row_h / 2 + 4:.1f}" class="cl">{html.escape(label)}</text>')
        for n_s, v in enumerate(ch):
            if v is not None:
                w = half * abs(v) / span
                x0 = mid if v >= 0 else mid - w
                parts.append(f'<rect x="{x0:.1f}" y="{y + 2}" width="{max(w, 0.5):.1f}" height="{row_h - 4}" '
                             f'fill="{PALETTE[(n_s + 1) % len(PALETTE)]}"/>')
                tx = mid + w + 4 if v >= 0 else mid - w - 4
                anchor = "start" if v >= 0 else "end"
                parts.append(f'<text x="{tx:.1f}" y="{y + row_h - 4}" class="cv" text-anchor="{anchor}">{v:+.1f}</text>')
            y += row_h
        y += 8
    for n_s, c in enumerate(cols[1:]):  # legend
        x = left + n_s * 150
        parts.append(f'<rect x="{x}" y="{h - 14}" width="10" height="10" fill="{PALETTE[(n_s + 1) % len(PALETTE)]}"/>'
                     f'<text x="{x + 14}" y="{h - 5}" class="cv">{html.escape(c.name[:20])}</text>')
    parts.append("</svg>")
    return "".join(parts)


_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ccc;padding-bottom:4px}
.meta{color:#666;font-size:13px}
table{border-collapse:collapse;font-size:13px} th,td{border:1px solid #ddd;padding:4px 8px;text-align:right;vertical-align:top}
th{background:#f3f3f3} td.k,th.k{text-align:left} td.kpi{text-align:left;color:#666;font-size:11px;max-width:260px}
.up{color:#b03030;font-size:11px;display:block} .down{color:#2060b0;font-size:11px;display:block}
.same{color:#999;font-size:11px;display:block}
.grid{display:grid;gap:10px} .grid figure{margin:0} .grid img{width:100%;height:auto;border:1px solid #ccc}
figcaption{font-size:12px;color:#555;margin-top:2px}
.charts{display:flex;flex-wrap:wrap;gap:18px} svg.chart text{font-size:12px;fill:#333}
svg.chart .ct{font-weight:bold} svg.chart .cl{text-anchor:end} .edits{font-size:13px} .notes{font-size:12px;color:#555}
"""


def report_html(title: str, base_label: str, columns: Sequence[Column], camera_labels: Sequence[str],
                notes: Sequence[str] = (), site: str | None = None) -> str:
    """The report's HTML text; ``columns[0]`` is the base."""
    e = html.escape
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{e(title)}</title>", f"<style>{_CSS}</style></head><body>",
           f"<h1>{e(title)}</h1>",
           f'<p class="meta">Base: {e(base_label)} · {len(columns) - 1} scenario(s) · '
           f'{"site: " + e(site) if site else "whole scene"} · made by citytwin on {now}</p>']
    # pictures: one row per camera, one column per scenario
    out.append("<h2>Views</h2>")
    out.append('<p class="meta">The same cameras for every scenario; added and changed buildings tinted blue.</p>')
    for j, cam in enumerate(camera_labels):
        out.append(f'<div class="grid" style="grid-template-columns:repeat({len(columns)},1fr)">')
        for c in columns:
            if j < len(c.images):
                b64 = base64.b64encode(c.images[j]).decode("ascii")
                out.append(f'<figure><img alt="{e(c.name)}, {e(cam)}" src="data:image/png;base64,{b64}">'
                           f"<figcaption>{e(c.name)} — {e(cam)}</figcaption></figure>")
        out.append("</div>")
    # indicator table
    out.append("<h2>Indicators</h2>")
    keys = [k for k in LABELS if any(k in c.values for c in columns)]
    head = "".join(f"<th>{e(c.name)}</th>" for c in columns)
    out.append(f'<table><tr><th class="k">Indicator</th>{head}<th class="k">U4SSC KPI it feeds</th></tr>')
    base = columns[0].values
    for k in keys:
        label, unit = LABELS[k]
        cells = []
        for n, c in enumerate(columns):
            v = c.values.get(k)
            cells.append(f"<td>{_fmt(v, k)}{_diff(v, base.get(k), k) if n else ''}</td>")
        kpi = KPI.get(k) or ""
        out.append(f'<tr><td class="k">{e(label)}{" (" + e(unit) + ")" if unit else ""}</td>{"".join(cells)}'
                   f'<td class="kpi">{e(kpi)}</td></tr>')
    out.append("</table>")
    out.append('<p class="meta">Differences are against the base. Heights: measuredHeight where the data has it, '
               "else top minus the footprint's lowest point; storeys: storeysAboveGround, else height / storey "
               "height; a building is in the site when its footprint centroid is.</p>")
    charts = [_change_chart([k for k in CHARTED if k in keys], columns)]
    charts += [_bar_chart(k, columns) for k in CHARTED if k in keys]
    if any(charts):
        out.append("<h2>Charts</h2><div class=\"charts\">" + "".join(c for c in charts if c) + "</div>")
    out.append("<h2>Edits</h2>")
    for c in columns[1:]:
        out.append(f'<div class="edits"><b>{e(c.name)}</b>{" (" + e(c.source) + ")" if c.source else ""}: '
                   f"{len(c.added)} added, {len(c.changed)} changed, {len(c.removed)} removed<ol>")
        out += [f"<li>{e(x)}</li>" for x in c.edits]
        out.append("</ol></div>")
    if notes:
        out.append('<h2>Notes</h2><ul class="notes">' + "".join(f"<li>{e(n)}</li>" for n in notes) + "</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write_report(path: str | Path, text: str) -> Path:
    """Write the report atomically (a temporary file, then a rename)."""
    with atomic_open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return Path(path)
