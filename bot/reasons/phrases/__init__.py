"""Phrase tables, one module per reason; the order below is the one place that decides precedence.

Each module has `PHRASES` (lowercase substrings specific to the reason, each with where it is seen),
optionally `PATTERNS` (regular expressions for replies with variable parts), `WEAK` (generic words) and
`WEAK_PATTERNS` (generic words as regular expressions, e.g. whole words only).
All specific phrases of all reasons are tried first, in ORDER; only then the weak words, in ORDER.
Adding a reason: one module here and one line in ORDER.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass

#: Most specific first. A reply that names a block list and says "spam" is `blocked` (the block list is the
#: finding); "mailbox full" beats "user unknown" text in the same reply; the transport reasons come last.
ORDER: tuple[str, ...] = (
    "exceedlimit",      # before mesgtoobig: "message length exceeds administrative limit" is per mailbox
    "mesgtoobig",       # "message size exceeds ..." often also says "rejected"
    "mailboxfull",
    "systemfull",
    "suspend",
    "hasmoved",
    "norelaying",
    "notcompliantrfc",  # before authfailure: "Duplicate header 'DKIM-Signature'" is a format error
    "spamdetected",     # before authfailure: spam verdicts often add advice about SPF/DKIM
    "authfailure",
    "requireptr",
    "virusdetected",
    "badreputation",
    "rejected",         # before blocked: "an address that has been blacklisted" is about the sender
    "blocked",
    "hostunknown",      # before userunknown: "unrouteable"/"host unknown" texts also say "address"
    "userunknown",
    "toomanyconn",      # before speeding: "connection rate limit" is about connections
    "speeding",
    "failedstarttls",
    "securityerror",
    "policyviolation",
    "filtered",
    "notaccept",
    "contenterror",
    "networkerror",     # before expired: "could not connect ... in the queue too long" names the cause
    "systemerror",
    "expired",
    "syntaxerror",
    "mailererror",
)


@dataclass(frozen=True)
class ReasonTable:
    """One reason's compiled phrases."""

    reason: str
    description: str
    specific: re.Pattern[str] | None
    weak: re.Pattern[str] | None


def _trie(phrases: tuple[str, ...]) -> str:
    """One regular expression for literal phrases, shaped as a trie ("user (?:unknown|not found)"): Python's
    `re` tries the alternatives of a flat list one by one at every position, a trie only the branch whose
    first letter is there. Only whether some phrase occurs matters, so a phrase that extends another one
    adds nothing."""
    root: dict[str, dict] = {}
    for phrase in phrases:
        node = root
        for char in phrase:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        if "" in node:
            return ""  # a whole phrase ends here: what follows it is not needed for a match
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items())]
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return build(root) if phrases else ""


def _compile(phrases: tuple[str, ...], patterns: tuple[str, ...] = ()) -> re.Pattern[str] | None:
    parts = ([_trie(phrases)] if phrases else []) + list(patterns)
    return re.compile("|".join(parts)) if parts else None


def _load(name: str) -> ReasonTable:
    module = importlib.import_module(f"{__name__}.{name}")
    return ReasonTable(
        reason=name,
        description=module.DESCRIPTION,
        specific=_compile(module.PHRASES, getattr(module, "PATTERNS", ())),
        weak=_compile(getattr(module, "WEAK", ()), getattr(module, "WEAK_PATTERNS", ())),
    )


TABLES: tuple[ReasonTable, ...] = tuple(_load(name) for name in ORDER)
DESCRIPTIONS: dict[str, str] = {table.reason: table.description for table in TABLES}


def match(text: str) -> tuple[str, str] | None:
    """(reason, "phrase") for the first reason whose specific phrases occur in a normalized text, or None."""
    if not text:
        return None
    for table in TABLES:
        if table.specific is not None and table.specific.search(text):
            return table.reason, "phrase"
    return None


def match_weak(text: str) -> tuple[str, str] | None:
    """(reason, "weak-phrase") for the first reason whose generic words occur in the text, or None."""
    if not text:
        return None
    for table in TABLES:
        if table.weak is not None and table.weak.search(text):
            return table.reason, "weak-phrase"
    return None


def matches(text: str) -> list[str]:
    """Every reason whose specific phrases occur in the text (for tests and explanations)."""
    return [t.reason for t in TABLES if t.specific is not None and t.specific.search(text)]
