"""Post a traffic report to Slack through the Chat port: the message, then the per-hour chart in its thread."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.ports import Chat, ChatError
from bot.render.report_blocks import render_report_blocks, summary_text
from bot.report.chart import render_hours_chart
from bot.report.model import Report

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PostedReport:
    channel: str
    ts: str
    chart_uploaded: bool


def publish_report(chat: Chat, channel: str, report: Report) -> PostedReport:
    """Raises ChatError if the message cannot be posted (e.g. the bot is not in the channel); a failed chart
    upload is logged and reported, the message stays."""
    ts = chat.post_message(channel, text=summary_text(report), blocks=render_report_blocks(report))
    if report.empty:
        return PostedReport(channel, ts, chart_uploaded=False)
    with tempfile.TemporaryDirectory(prefix="bouncebot-report-") as folder:
        try:
            path = render_hours_chart(report, Path(folder) / f"traffic-{report.last.isoformat()}.png")
            chat.upload_file(channel, path, title=f"Mail traffic, {report.label()}", thread_ts=ts)
            return PostedReport(channel, ts, chart_uploaded=True)
        except ChatError as exc:
            log.warning("report chart upload failed (the report message was posted): %s", exc)
        except Exception:  # the message is out; a chart problem is logged, not told as a failed report
            log.exception("report chart failed (the report message was posted)")
    return PostedReport(channel, ts, chart_uploaded=False)
