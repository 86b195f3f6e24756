"""The traffic report as Slack Block Kit, within Slack's limits (50 blocks, 3000 characters a section, 10
fields of 2000 a section). The per-hour table goes in as monospaced text; the picture is uploaded beside it."""

from __future__ import annotations

from typing import Any

from bot.render.blocks import MAX_BLOCKS, MAX_HEADER, context, cut, escape, section
from bot.report.model import TRAFFIC_FIELDS, Problem, Report

#: Rows of each list in the message (the CLI and JSON give --top).
SHOWN = 5


def summary_text(report: Report) -> str:
    """The notification text (and the fallback of clients that show no blocks)."""
    t = report.totals
    return (f"Traffic report {report.label()}: {t.received} received, {t.delivered} delivered, {t.deferred} deferred, "
            f"{t.bounced} bounced, {t.rejected} rejected ({t.rejected_percent}%)")


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": cut(text, MAX_HEADER), "emoji": True}}


def _totals(report: Report) -> dict[str, Any]:
    t = report.totals
    pairs = [
        ("Received", f"{t.received:,}"), ("Delivered", f"{t.delivered:,} (+{t.forwarded:,} forwarded)"),
        ("Deferred", f"{t.deferred:,} messages, {t.deferrals:,} deferrals"), ("Bounced", f"{t.bounced:,}"),
        ("Rejected", f"{t.rejected:,} ({t.rejected_percent}%)"),
        ("Warnings / held / discarded", f"{t.reject_warnings:,} / {t.held:,} / {t.discarded:,}"),
        ("Bytes in / out", f"{_bytes(t.bytes_received)} / {_bytes(t.bytes_delivered)}"),
        ("Senders (domains)", f"{t.senders:,} ({t.sending_domains:,})"),
        ("Recipients (domains)", f"{t.recipients:,} ({t.recipient_domains:,})"),
    ]
    return {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in pairs]}


def _bytes(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def _table(report: Report) -> str:
    head = f"{'hour' if report.single_day else 'day':<10}" + "".join(f"{c:>10}" for c in TRAFFIC_FIELDS)
    if report.single_day:
        rows = [(f"{h:02d}-{h + 1:02d}", row) for h, row in enumerate(report.hours)
                if any(getattr(row, c) for c in TRAFFIC_FIELDS)]
    else:
        rows = [(day.strftime("%m-%d"), row) for day, row in sorted(report.days.items())]
    lines = [head] + [f"{label:<10}" + "".join(f"{getattr(row, c):>10}" for c in TRAFFIC_FIELDS)
                      for label, row in rows]
    if len(lines) == 1:
        lines.append("(no traffic)")
    return "```" + cut("\n".join(lines), 2900) + "```"


def _problems(title: str, rows: list[Problem], with_host: bool) -> str:
    lines = [f"*{title}*"]
    for p in rows[:SHOWN]:
        where = f" at `{escape(p.host)}`" if with_host and p.host else (f" at {p.stage}" if p.stage else "")
        kind = "" if p.kind in ("rejected", "deferred", "bounced") else f" _{p.kind.replace('_', ' ')}_"
        example = f"\n      {escape(cut(p.example, 160))}" if p.example else ""
        lines.append(f"• *{p.count:,}* {p.reason}{where}{kind}{example}")
    if len(rows) > SHOWN:
        lines.append(f"_… {len(rows) - SHOWN} more groups_")
    return "\n".join(lines)


def render_report_blocks(report: Report) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [_header(f"Mail traffic — {report.label()} ({report.zone})")]
    if report.notices:
        blocks.append(context(*(f":warning: {escape(n)}" for n in report.notices)))
    blocks.append(_totals(report))
    blocks.append(section(("*Per hour*" if report.single_day else "*Per day*") + "\n" + _table(report)))
    if report.recipient_domains:
        lines = ["*Recipient domains* (sent, deferrals, avg/max delay)"]
        for d in report.recipient_domains[:SHOWN]:
            delay = "" if d.avg_delay is None else f", {d.avg_delay:.0f}s/{d.max_delay or 0:.0f}s"
            lines.append(f"• `{escape(d.domain)}` {d.sent:,} sent, {d.deferred:,} deferred{delay}")
        blocks.append(section("\n".join(lines)))
    if report.sending_domains:
        lines = ["*Sending domains* (messages, bytes)"]
        lines += [f"• `{escape(d.domain)}` {d.messages:,}, {_bytes(d.bytes)}" for d in report.sending_domains[:SHOWN]]
        blocks.append(section("\n".join(lines)))
    tops = []
    for title, rows, by_size in (("Top senders", report.senders_by_count, False),
                                 ("Top recipients", report.recipients_by_count, False),
                                 ("Senders by size", report.senders_by_size, True)):
        if rows:
            tops.append(f"*{title}*\n" + "\n".join(
                f"• `{escape(r.address)}` {_bytes(r.bytes) if by_size else f'{r.messages:,}'}" for r in rows[:SHOWN]))
    if tops:
        blocks.append(section("\n\n".join(tops)))
    for title, rows, with_host in (("Rejects by reason", report.rejects, False),
                                   ("Deferrals by reason and remote host", report.deferrals, True),
                                   ("Bounces by reason and remote host", report.bounces, True)):
        if rows:
            blocks.append(section(_problems(title, rows, with_host)))
    if report.waiting_total:
        lines = [f"*Deferred now: {report.waiting_total:,}* (oldest first)"]
        for w in report.waiting[:SHOWN]:
            lines.append(f"• {w.since:%Y-%m-%d %H:%M} `{escape(w.queue_id)}` {escape(w.sender or '<>')} → "
                         f"{escape(w.recipient or '?')} ({w.deferrals}×)")
        blocks.append(section("\n".join(lines)))
    blocks.append(context("Counted as pflogsumm counts; `bouncebot report --json` has every figure "
                          "(docs/report.md)."))
    return blocks[:MAX_BLOCKS]
