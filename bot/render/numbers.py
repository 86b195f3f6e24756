"""Numbers the same way in every rendering: thousands separators, and a noun that agrees with its count.

"62,039 accepted", "1 event", "3 events": `num` for a bare number, `count` for a number with its noun.
"""

from __future__ import annotations

#: Nouns whose plural is not noun + "s".
_PLURALS = {"address": "addresses", "reply": "replies", "entry": "entries", "was": "were"}


def num(value: float) -> str:
    """A count with thousands separators; a fraction keeps one decimal only when it has one (12.5, 10)."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def plural(noun: str, n: float) -> str:
    """`noun` as it reads after the number `n`."""
    if n == 1:
        return noun
    return _PLURALS.get(noun, noun + "s")


def count(n: float, noun: str) -> str:
    """"1 event", "2 events", "62,039 events"."""
    return f"{num(n)} {plural(noun, n)}"
