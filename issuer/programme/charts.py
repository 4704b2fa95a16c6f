"""Server-rendered SVG bar charts, readable without JavaScript.

Named for assistive technology (role="img" with a title and a description); each page shows the
same figures as a table.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from markupsafe import Markup, escape

# Colours that keep 3:1 contrast against white and differ for common colour blindness (Okabe-Ito).
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00")
_ids = itertools.count(1)


def bar_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], *,
              unit: str = "", maximum: float | None = None, table_id: str | None = None) -> Markup:
    """Horizontal bars, one group per label and one bar per series; missing values are left out."""
    chart_id = f"chart-{next(_ids)}"
    label_width, bar_height, gap, width = 230, 14, 10, 720
    plot = width - label_width - 70
    values = [v for _, vs in series for v in vs if v is not None]
    top = maximum if maximum is not None else max(values, default=0) or 1
    group = bar_height * len(series) + gap
    legend = 22 if len(series) > 1 else 0
    height = legend + group * len(labels) + 20
    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
            f'width="100%" aria-labelledby="{chart_id}-title {chart_id}-desc">'),
           f'<title id="{chart_id}-title">{escape(title)}</title>',
           f'<desc id="{chart_id}-desc">{escape(_description(labels, series, unit, table_id))}</desc>']
    for i, (name, _) in enumerate(series if legend else []):
        x = label_width + i * 160
        out.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{COLOURS[i % len(COLOURS)]}"/>'
                   f'<text x="{x + 16}" y="14" font-size="12">{escape(name)}</text>')
    for row, label in enumerate(labels):
        y0 = legend + row * group
        out.append(f'<text x="{label_width - 6}" y="{y0 + group / 2}" font-size="12" text-anchor="end" '
                   f'dominant-baseline="middle">{escape(_short(label))}</text>')
        for i, (_, vs) in enumerate(series):
            value = vs[row]
            if value is None:
                continue
            y, length = y0 + i * bar_height, max(plot * value / top, 0)
            out.append(f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height - 2}" '
                       f'fill="{COLOURS[i % len(COLOURS)]}"/>'
                       f'<text x="{label_width + length + 4:.1f}" y="{y + bar_height / 2}" font-size="11" '
                       f'dominant-baseline="middle">{_number(value)}{escape(unit)}</text>')
    out.append(f'<line x1="{label_width}" y1="{legend}" x2="{label_width}" y2="{height - 20}" stroke="#555"/></svg>')
    return Markup("".join(out))


def _description(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], unit: str,
                 table_id: str | None) -> str:
    where = " The table below gives every figure." if table_id else ""
    names = ", ".join(name for name, _ in series)
    return f"Bar chart of {names} for {len(labels)} rows.{where}"


def _short(label: str, limit: int = 34) -> str:
    return label if len(label) <= limit else label[:limit - 1] + "…"


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
