"""The two modals: approve a sender, open a support case. Their inputs' ids live in bot/render/ids.py.

private_metadata carries where the click came from (channel, message ts, thread, the click's response_url and
user) and the target, as JSON (Slack allows 3000 characters), so the submission can update the original
message and answer the user even where Slack refuses the bot's posts (the response_url is valid 30 minutes).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from bot.render import ids
from bot.render.mrkdwn import cut, fit

MAX_METADATA = 3000
MAX_INPUT = 3000

#: Expiry choices of the approve modal: value (a duration for bot.timeutil.parse_duration) and label.
EXPIRY_CHOICES: tuple[tuple[str, str], ...] = (
    ("none", "No expiry"), ("1d", "1 day"), ("7d", "7 days"), ("30d", "30 days"), ("90d", "90 days"),
    ("365d", "1 year"),
)


@dataclass(frozen=True)
class Origin:
    """Where a modal was opened from, and about what."""

    kind: str
    value: str
    channel: str | None = None
    message_ts: str | None = None
    thread_ts: str | None = None
    response_url: str | None = None
    user: str | None = None

    def dump(self) -> str:
        text = json.dumps(asdict(self), separators=(",", ":"))
        if len(text) > MAX_METADATA:
            raise ValueError("the modal's metadata is longer than Slack allows")
        return text

    @classmethod
    def load(cls, text: str) -> Origin:
        data = json.loads(text or "{}")
        if not isinstance(data, dict) or not data.get("kind") or not data.get("value"):
            raise ValueError("the modal carries no target")
        fields = ("kind", "value", "channel", "message_ts", "thread_ts", "response_url", "user")
        return cls(**{k: data.get(k) for k in fields})


def _plain(text: str, limit: int = 75) -> dict[str, Any]:
    return {"type": "plain_text", "text": cut(text, limit), "emoji": True}


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": _plain(label), "value": value}


def approve_modal(origin: Origin) -> dict[str, Any]:
    """Address or whole domain (a domain target offers only the domain), a reason, an optional expiry."""
    domain = origin.value.rpartition("@")[2] if origin.kind == "address" else origin.value
    scopes = [_option("domain", f"The whole domain {domain}")]
    if origin.kind == "address":
        scopes.insert(0, _option("address", f"Only {origin.value}"))
    expiry = [_option(v, label) for v, label in EXPIRY_CHOICES]
    return {
        "type": "modal",
        "callback_id": ids.VIEW_APPROVE_SENDER,
        "private_metadata": origin.dump(),
        "title": _plain("Approve sender", 24),
        "submit": _plain("Approve", 24),
        "close": _plain("Cancel", 24),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": (
                f"Our gateway will accept mail from the sender you choose. Approve only senders you trust: "
                f"`{fit(origin.value, 2000)}`.")}},
            {"type": "input", "block_id": ids.BLOCK_APPROVE_SCOPE, "label": _plain("What to approve"),
             "element": {"type": "radio_buttons", "action_id": ids.ACTION_APPROVE_SCOPE, "options": scopes,
                         "initial_option": scopes[0]}},
            {"type": "input", "block_id": ids.BLOCK_APPROVE_REASON, "label": _plain("Why is it trusted?"),
             "element": {"type": "plain_text_input", "action_id": ids.ACTION_APPROVE_REASON, "multiline": True,
                         "max_length": 500}},
            {"type": "input", "block_id": ids.BLOCK_APPROVE_EXPIRY, "label": _plain("Expires"), "optional": True,
             "element": {"type": "static_select", "action_id": ids.ACTION_APPROVE_EXPIRY, "options": expiry,
                         "initial_option": expiry[0]}},
        ],
    }


def case_modal(origin: Origin, *, title: str, description: str) -> dict[str, Any]:
    """Prefilled with the target, the verdict and the evidence; the person may edit both."""
    return {
        "type": "modal",
        "callback_id": ids.VIEW_OPEN_CASE,
        "private_metadata": origin.dump(),
        "title": _plain("Open support case", 24),
        "submit": _plain("Open case", 24),
        "close": _plain("Cancel", 24),
        "blocks": [
            {"type": "input", "block_id": ids.BLOCK_CASE_TITLE, "label": _plain("Title"),
             "element": {"type": "plain_text_input", "action_id": ids.ACTION_CASE_TITLE,
                         "initial_value": cut(title, 150), "max_length": 255}},
            {"type": "input", "block_id": ids.BLOCK_CASE_DESCRIPTION, "label": _plain("What happened"),
             "element": {"type": "plain_text_input", "action_id": ids.ACTION_CASE_DESCRIPTION, "multiline": True,
                         "initial_value": cut(description, MAX_INPUT), "max_length": MAX_INPUT}},
        ],
    }


def submitted(values: dict[str, Any], block_id: str, action_id: str) -> str | None:
    """The value of one input in a view_submission's state: text, or the selected option's value."""
    element = (values.get(block_id) or {}).get(action_id) or {}
    if element.get("selected_option"):
        return str(element["selected_option"].get("value"))
    value = element.get("value")
    return None if value is None else str(value)
