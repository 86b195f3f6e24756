"""`/bounce report [day]`: the traffic report of a local day, posted in the channel it was asked in (with its
chart in the thread), or, where the bot may not post, answered to the person through the response URL."""

from __future__ import annotations

import logging
from typing import Any

from bot import messages
from bot.ports import ChatError
from bot.render.report_blocks import render_report_blocks, summary_text
from bot.report.post import publish_report
from bot.report.service import make_report, resolve_days, today_in
from handlers.context import Services

log = logging.getLogger(__name__)


def answer_report(services: Services, day: str | None, channel: str, respond: Any) -> None:
    try:
        first, last = resolve_days(day, None, None, today=today_in(services.settings))
    except ValueError as exc:
        respond(text=messages.bad_input(str(exc)), response_type="ephemeral")
        return
    report = make_report(services.store, services.settings, first, last)
    try:
        publish_report(services.chat, channel, report)
    except ChatError as exc:  # not in the channel, a DM, a private channel: the person still gets it
        log.info("report not posted in %s (%s): answered through the response URL", channel, exc)
        respond(text=summary_text(report), blocks=render_report_blocks(report), response_type="ephemeral")
        return
    respond(text=messages.report_posted(report.label(), channel), response_type="ephemeral")
