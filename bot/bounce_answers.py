"""A pasted or attached bounce message, explained: each failed recipient with its status, reason and cause."""

from __future__ import annotations

from typing import Any

from bot.answers import Answer


def explain_text(text: str) -> Answer:
    from bot.bounce import explain_text as analyze

    return _answer(analyze(text), "the pasted bounce")


def explain_bytes(data: bytes, *, name: str) -> Answer:
    from bot.bounce import explain_bytes as analyze

    return _answer(analyze(data), name)


def _answer(result: Any, name: str) -> Answer:
    raise NotImplementedError
