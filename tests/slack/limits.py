"""Slack's Block Kit limits as one reusable checker: `violations(blocks)` lists every limit a payload breaks.

Figures from Slack's Block Kit reference: 50 blocks in a message or modal (100 in a Home tab), section text
3000 characters, header text 150, context at most 10 elements, actions at most 25 elements, button text 75,
button value 2000, action_id and block_id 255, fallback text 40,000, modal title/submit/close 24, private
metadata 3000, plain-text input initial value 3000.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ID = 255
MAX_MESSAGE_TEXT = 40000
MAX_VIEW_TEXT = 24
MAX_PRIVATE_METADATA = 3000
MAX_INPUT_VALUE = 3000
MAX_OPTION_TEXT = 75


def _text(obj: Any) -> str:
    return obj.get("text", "") if isinstance(obj, dict) else ""


def _element(e: dict[str, Any], where: str) -> Iterable[str]:
    if len(e.get("action_id", "")) > MAX_ID:
        yield f"{where}: action_id longer than {MAX_ID}"
    if e.get("type") == "button":
        if len(_text(e.get("text"))) > MAX_BUTTON_TEXT:
            yield f"{where}: button text longer than {MAX_BUTTON_TEXT}"
        if len(e.get("value", "")) > MAX_BUTTON_VALUE:
            yield f"{where}: button value longer than {MAX_BUTTON_VALUE}"
    for option in e.get("options", []) or []:
        if len(_text(option.get("text"))) > MAX_OPTION_TEXT:
            yield f"{where}: option text longer than {MAX_OPTION_TEXT}"
    if len(e.get("initial_value", "") or "") > MAX_INPUT_VALUE:
        yield f"{where}: initial_value longer than {MAX_INPUT_VALUE}"


def _block(b: dict[str, Any], where: str) -> Iterable[str]:
    kind = b.get("type")
    if len(b.get("block_id", "")) > MAX_ID:
        yield f"{where}: block_id longer than {MAX_ID}"
    if kind == "section":
        if "text" not in b and "fields" not in b:
            yield f"{where}: section without text or fields"
        if len(_text(b.get("text"))) > MAX_SECTION_TEXT:
            yield f"{where}: section text {len(_text(b.get('text')))} > {MAX_SECTION_TEXT}"
        if "text" in b and not _text(b.get("text")):
            yield f"{where}: empty section text"
        fields = b.get("fields") or []
        if len(fields) > MAX_FIELDS:
            yield f"{where}: more than {MAX_FIELDS} fields"
        yield from (f"{where}: field longer than {MAX_FIELD_TEXT}" for f in fields if len(_text(f)) > MAX_FIELD_TEXT)
        if isinstance(b.get("accessory"), dict):
            yield from _element(b["accessory"], where + ".accessory")
    elif kind == "header":
        if len(_text(b.get("text"))) > MAX_HEADER_TEXT:
            yield f"{where}: header text longer than {MAX_HEADER_TEXT}"
    elif kind == "context":
        elements = b.get("elements") or []
        if not elements or len(elements) > MAX_CONTEXT_ELEMENTS:
            yield f"{where}: context needs 1..{MAX_CONTEXT_ELEMENTS} elements, has {len(elements)}"
        yield from (f"{where}: context text longer than {MAX_SECTION_TEXT}" for e in elements
                    if len(_text(e)) > MAX_SECTION_TEXT)
    elif kind == "actions":
        elements = b.get("elements") or []
        if not elements or len(elements) > MAX_ACTIONS_ELEMENTS:
            yield f"{where}: actions needs 1..{MAX_ACTIONS_ELEMENTS} elements, has {len(elements)}"
        for i, e in enumerate(elements):
            yield from _element(e, f"{where}.elements[{i}]")
    elif kind == "input":
        yield from _element(b.get("element") or {}, where + ".element")
    elif kind not in ("divider", "image", "rich_text", "file", "video"):
        yield f"{where}: unknown block type {kind!r}"


def violations(blocks: list[dict[str, Any]] | str | None, *, surface: str = "message",
               text: str | None = None) -> list[str]:
    """Every limit the blocks (a list, or the JSON string sent over the wire) break; [] when all is well."""
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    blocks = blocks or []
    found: list[str] = []
    if len(blocks) > MAX_BLOCKS[surface]:
        found.append(f"{len(blocks)} blocks > {MAX_BLOCKS[surface]} in a {surface}")
    if text is not None and len(text) > MAX_MESSAGE_TEXT:
        found.append(f"text longer than {MAX_MESSAGE_TEXT}")
    for i, block in enumerate(blocks):
        found += list(_block(block, f"blocks[{i}]"))
    return found


def view_violations(view: dict[str, Any] | str) -> list[str]:
    """A modal or Home tab: its blocks plus title/submit/close and private_metadata."""
    if isinstance(view, str):
        view = json.loads(view)
    surface = "home" if view.get("type") == "home" else "modal"
    found = violations(view.get("blocks"), surface=surface)
    for name in ("title", "submit", "close"):
        if len(_text(view.get(name))) > MAX_VIEW_TEXT:
            found.append(f"view {name} longer than {MAX_VIEW_TEXT}")
    if len(view.get("private_metadata", "") or "") > MAX_PRIVATE_METADATA:
        found.append(f"private_metadata longer than {MAX_PRIVATE_METADATA}")
    if len(view.get("callback_id", "") or "") > MAX_ID:
        found.append(f"callback_id longer than {MAX_ID}")
    return found


def assert_calls_within_limits(calls: Iterable[Any]) -> int:
    """Check every Block Kit payload among recorded fake Web API calls; returns how many were checked."""
    checked = 0
    for call in calls:
        if call.method in ("views.open", "views.publish", "views.update"):
            problems = view_violations(call.json("view"))
        elif call.method == "response_url" or call.method.startswith("chat."):
            if not call.params.get("blocks") and not call.params.get("text"):
                continue
            problems = violations(call.json("blocks"), text=call.params.get("text"))
        else:
            continue
        assert not problems, f"{call.method} breaks Slack's limits: {problems}"
        checked += 1
    return checked
