"""The digest's chart: blocked mail per local hour by cause, and the 14-day trend, as one PNG (matplotlib Agg).

A bare `Figure` on the Agg canvas, not pyplot: no display, no global figure registry, safe from the scheduler's
worker threads of a long-running bot.
"""

from __future__ import annotations

from pathlib import Path

from bot.digest.content import Digest

#: One stable colour per cause, so the charts of successive days read alike.
CAUSE_COLOURS = {
    "gateway_policy": "#d62728",
    "gateway_reputation": "#ff7f0e",
    "invalid_recipient": "#9467bd",
    "remote_blacklist": "#8c564b",
    "remote_policy": "#e377c2",
    "recipient_unavailable": "#7f7f7f",
    "transient": "#bcbd22",
    "delivered": "#2ca02c",
    "unknown": "#17becf",
}


def render_chart(digest: Digest, path: Path) -> Path:
    """Write the PNG to `path` and return it."""
    # Imported here: matplotlib costs ~50 MB and a second at import, and only the digest's chart needs it.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(10, 6.5), dpi=100)
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, gridspec_kw={"height_ratios": [3, 2]})
    labels = [label for label, _ in digest.chart_buckets]
    causes = sorted({c for _, counts in digest.chart_buckets for c in counts},
                    key=lambda c: -sum(counts.get(c, 0) for _, counts in digest.chart_buckets))
    base = [0] * len(labels)
    positions = list(range(len(labels)))
    for cause in causes:
        values = [counts.get(cause, 0) for _, counts in digest.chart_buckets]
        top.bar(positions, values, bottom=base, label=cause, color=CAUSE_COLOURS.get(cause, "#1f77b4"), width=0.8)
        base = [b + v for b, v in zip(base, values, strict=True)]
    unit = "hour" if digest.period.days == 1 else "day"
    top.set_title(f"Blocked per {unit} by cause — {digest.period.label()} ({digest.zone})")
    top.set_xticks(positions, labels, fontsize=8)
    top.set_ylabel("blocked")
    top.yaxis.set_major_locator(MaxNLocator(integer=True))
    if causes:
        top.set_ylim(0, max(base) * 1.3 or 1)   # room for the legend above the bars
        top.legend(fontsize=8, loc="upper left", ncol=min(4, len(causes)))
    else:
        top.text(0.5, 0.5, "nothing blocked", ha="center", va="center", transform=top.transAxes)
    days = [d.strftime("%d %b") for d, _, _ in digest.trend]
    bottom.plot(days, [b for _, b, _ in digest.trend], marker="o", label="blocked", color="#d62728")
    bottom.plot(days, [x for _, _, x in digest.trend], marker="s", label="bounced", color="#1f77b4")
    bottom.set_title(f"Last {len(days)} days")
    bottom.tick_params(axis="x", labelsize=8, rotation=45)
    bottom.legend(fontsize=8, loc="upper left")
    bottom.set_ylim(bottom=0)
    bottom.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.subplots_adjust(left=0.07, right=0.98, top=0.94, bottom=0.12, hspace=0.45)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path
