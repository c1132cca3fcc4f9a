"""Inline SVG charts for the co-browse insights, laid out here and drawn by templates
(supervisor/_day_chart.html, supervisor/_bar_chart.html), and the filters the page formats with.

A chart is an <svg role="img"> named by its <title> and summed up by its <desc>; the page puts the
same numbers in a table. Colours are CSS classes (helpdesk.css, "insights"): the
Content-Security-Policy refuses inline styles.
"""

import math

from django import template

from integrations.cobrowse.insights import format_length

register = template.Library()

DAY_WIDTH, DAY_HEIGHT = 720, 220
DAY_LEFT, DAY_RIGHT, DAY_TOP, DAY_BOTTOM = 40, 8, 12, 28
MAX_DAY_LABELS = 8
BAR_WIDTH, BAR_ROW, BAR_LABEL, BAR_VALUE = 420, 30, 126, 48
TONES = {"allowed": "ok", "declined": "warn"}


def _axis(top_value, ticks=4):
    """A round axis maximum at or above top_value, and its tick step (1, 2 or 5 times a power of ten)."""
    top_value = max(top_value, 1)
    magnitude = 10 ** max(0, math.floor(math.log10(top_value / ticks)))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude * ticks >= top_value)
    return step * math.ceil(top_value / step), step


def day_label(day):
    return f"{day.day} {day:%b}"


def day_chart(chart_id, title, per_day):
    """A column per day of [(date, n)]."""
    values = [n for _, n in per_day]
    top, step = _axis(max(values, default=0))
    plot_w = DAY_WIDTH - DAY_LEFT - DAY_RIGHT
    plot_h = DAY_HEIGHT - DAY_TOP - DAY_BOTTOM
    slot = plot_w / max(len(per_day), 1)
    width = max(slot * 0.7, 1)
    every = math.ceil(len(per_day) / MAX_DAY_LABELS) or 1
    columns = []
    for i, (day, n) in enumerate(per_day):
        height = n / top * plot_h
        columns.append({
            "day": day, "value": n, "label": day_label(day) if i % every == 0 else "",
            "x": round(DAY_LEFT + i * slot + (slot - width) / 2, 2), "width": round(width, 2),
            "y": round(DAY_TOP + plot_h - height, 2), "height": round(height, 2),
            "centre": round(DAY_LEFT + i * slot + slot / 2, 2),
        })
    ticks = [{"value": v, "y": round(DAY_TOP + plot_h - v / top * plot_h, 2)} for v in range(0, top + 1, step)]
    busiest = max(per_day, key=lambda item: item[1], default=None)
    total = sum(values)
    if per_day:
        summary = (f"{total} in all from {day_label(per_day[0][0])} to {day_label(per_day[-1][0])}"
                   + (f", most on {day_label(busiest[0])} ({busiest[1]})." if total else "."))
    else:
        summary = "No days."
    return {
        "id": chart_id, "title": title, "summary": summary, "columns": columns, "ticks": ticks,
        "width": DAY_WIDTH, "height": DAY_HEIGHT, "left": DAY_LEFT, "right": DAY_WIDTH - DAY_RIGHT,
        "base": DAY_TOP + plot_h, "label_y": DAY_HEIGHT - 8,
    }


def bar_chart(chart_id, title, bars):
    """A horizontal bar per insights.Bar, its value written at its end."""
    top = max((bar.value for bar in bars), default=0) or 1
    span = BAR_WIDTH - BAR_LABEL - BAR_VALUE
    rows = []
    for i, bar in enumerate(bars):
        width = bar.value / top * span
        y = 4 + i * BAR_ROW
        rows.append({
            "bar": bar, "tone": TONES.get(bar.key, ""), "y": y + 6, "text_y": y + 19,
            "width": round(width, 2), "value_x": round(BAR_LABEL + width + 6, 2),
        })
    summary = ", ".join(f"{bar.label}: {bar.value}" for bar in bars) or "Nothing to show."
    return {
        "id": chart_id, "title": title, "summary": summary, "rows": rows, "width": BAR_WIDTH,
        "height": 8 + len(bars) * BAR_ROW, "label_x": BAR_LABEL - 8, "bar_x": BAR_LABEL,
    }


@register.filter
def duration(value):
    """A session length (timedelta) as "4 min 10 s"."""
    return format_length(value)


@register.filter
def percent(share):
    """A share (0-1) as "42%" or "42.5%"; "—" for none."""
    if share is None:
        return "—"
    value = round(share * 100, 1)
    return f"{value:g}%"
