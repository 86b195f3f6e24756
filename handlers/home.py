"""App Home: approved senders (with expiry), open support cases, yesterday's blocked-traffic totals."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App

from bot import answers
from bot.ports import ChatError
from handlers.context import Services, services_of

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.event("app_home_opened")(ack=_ack, lazy=[publish_home])


def _ack(ack: Any) -> None:
    ack()


def publish_home(event: dict[str, Any], context: Any) -> None:
    if event.get("tab", "home") != "home":
        return
    refresh_home(services_of(context), event["user"])


def refresh_home(services: Services, user: str) -> None:
    """views.publish the Home tab for one user; Remove buttons only for approvers."""
    try:
        can_remove = services.is_approver(user)
    except ChatError:
        log.exception("the approver group could not be read; showing App Home without Remove buttons")
        can_remove = False
    with services.session() as session:
        view = answers.home_view(session, can_remove=can_remove)
    services.chat.client.views_publish(user_id=user, view=view)
