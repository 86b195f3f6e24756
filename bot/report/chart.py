"""The report's picture: traffic per local hour (or per day for a longer period) as one PNG (matplotlib Agg,
a bare Figure as in bot/digest/chart.py: no pyplot, safe from worker threads)."""

from __future__ import annotations

from pathlib import Path

from bot.report.model import TRAFFIC_FIELDS, Report

#: One stable colour per column.
COLOURS = {"received": "#1f77b4", "delivered": "#2ca02c", "deferred": "#bcbd22", "bounced": "#ff7f0e",
           "rejected": "#d62728"}


def render_hours_chart(report: Report, path: Path) -> Path:
    """Write the PNG to `path` and return it."""
    # Imported here: matplotlib is heavy, and only the chart needs it.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    if report.single_day:
        labels = [f"{h:02d}" for h in range(24)]
        rows = report.hours
        unit = "hour"
    else:
        ordered = sorted(report.days.items())
        labels = [d.strftime("%d %b") for d, _ in ordered]
        rows = [row for _, row in ordered]
        unit = "day"
    fig = Figure(figsize=(10, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots()
    width = 0.8 / len(TRAFFIC_FIELDS)
    for i, column in enumerate(TRAFFIC_FIELDS):
        positions = [x - 0.4 + width * (i + 0.5) for x in range(len(labels))]
        axes.bar(positions, [getattr(r, column) for r in rows], width=width, label=column, color=COLOURS[column])
    axes.set_xticks(range(len(labels)), labels, fontsize=8, rotation=0 if unit == "hour" else 45)
    axes.set_title(f"Mail per {unit} — {report.label()} ({report.zone})")
    axes.set_ylabel("messages / events")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(fontsize=8, loc="upper left", ncol=len(TRAFFIC_FIELDS))
    top = max((getattr(r, c) for r in rows for c in TRAFFIC_FIELDS), default=0)
    axes.set_ylim(0, top * 1.25 or 1)
    fig.subplots_adjust(left=0.07, right=0.98, top=0.9, bottom=0.15)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path
