"""Public statistics of published results (issue 6): per municipality and national totals, with bar
charts drawn on the server as inline SVG (no script, no external library, no inline style: colours are
SVG presentation attributes), readable at a glance and backed by a table with the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask import render_template

from portal.public import data, filtering
from portal.public.views import bp

# The drawing's own units; CSS scales the SVG to the column (a 360 px phone shows it at about 0.9×).
CHART_WIDTH = 360
PLOT_WIDTH = 200  # the longest bar; the value is written after it
LABEL_HEIGHT = 18
BAR_HEIGHT = 16
ROW_GAP = 12
TOP = 4


@dataclass(frozen=True)
class Bar:
    label: str
    value: int | Decimal
    y: float
    width: float


@dataclass(frozen=True)
class Chart:
    key: str  # makes the element ids unique on the page
    bars: list[Bar]
    width: int
    height: int
    label_height: int = LABEL_HEIGHT
    bar_height: int = BAR_HEIGHT


def bar_chart(key: str, rows: list[dict], field: str) -> Chart | None:
    """Lay out one horizontal bar per row (in the table's order), its length proportional to the value;
    None when there is nothing to draw."""
    if not rows:
        return None
    highest = max((row[field] for row in rows), default=0) or 1
    row_height = LABEL_HEIGHT + BAR_HEIGHT + ROW_GAP
    bars = [
        Bar(
            label=row["municipality"],
            value=row[field],
            y=TOP + i * row_height,
            width=round(float(row[field]) * PLOT_WIDTH / float(highest), 1),
        )
        for i, row in enumerate(rows)
    ]
    return Chart(key=key, bars=bars, width=CHART_WIDTH, height=TOP + len(bars) * row_height)


@bp.get("/statistics")
def statistics():
    choices = filtering.filter_choices()
    filters = filtering.read_filters(choices)
    filters = data.Filters(programme=filters.programme, round=filters.round)
    rows, totals = data.statistics(filters)
    return render_template(
        "public/statistics.html",
        rows=rows,
        totals=totals,
        amount_chart=bar_chart("amount", rows, "amount"),
        participants_chart=bar_chart("participants", rows, "participants_planned"),
        choices=choices,
        filters=filters,
        filtered=filtering.is_filtered(filters),
    )
