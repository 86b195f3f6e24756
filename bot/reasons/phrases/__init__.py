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
    "networkerror",     # before expired: "could not connect" names the cause (chain._GAVE_UP then reads
                        # "... in the queue too long" as the queue giving up on it: expired)
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
    specific: tuple[re.Pattern[str], ...]
    weak: tuple[re.Pattern[str], ...]

    def says(self, text: str) -> bool:
        """Whether one of the reason's specific phrases or patterns occurs in a normalized text."""
        for regex in self.specific:  # noqa: SIM110 -- a plain loop: any() over a generator costs more per call
            if regex.search(text):
                return True
        return False

    def hints(self, text: str) -> bool:
        """Whether one of the reason's generic words occurs in a normalized text."""
        for regex in self.weak:  # noqa: SIM110 -- as above
            if regex.search(text):
                return True
        return False


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


def _compile(phrases: tuple[str, ...], patterns: tuple[str, ...] = ()) -> tuple[re.Pattern[str], ...]:
    """The phrases as one trie, each pattern on its own: `re` scans for a pattern's leading literal at C speed
    when the pattern stands alone, but tries every alternative at every position when it is one branch of an
    alternation (a table's patterns joined to its trie cost more than the whole trie). Patterns therefore start
    with a literal where they can ("user(?<=\\buser) ..." rather than "\\buser ...")."""
    return ((re.compile(_trie(phrases)),) if phrases else ()) + tuple(re.compile(p) for p in patterns)


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
        if table.says(text):
            return table.reason, "phrase"
    return None


def match_weak(text: str) -> tuple[str, str] | None:
    """(reason, "weak-phrase") for the first reason whose generic words occur in the text, or None."""
    if not text:
        return None
    for table in TABLES:
        if table.hints(text):
            return table.reason, "weak-phrase"
    return None


def matches(text: str) -> list[str]:
    """Every reason whose specific phrases occur in the text (for tests and explanations)."""
    return [t.reason for t in TABLES if t.says(text)]
