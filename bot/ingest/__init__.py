"""Log sources: one module per gateway log format, all behind bot.ingest.base.LogParser.

SOURCES is the explicit registry (most specific first is irrelevant here: the user names the source).
Adding a source = one module with a parser class plus one line below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.ingest.base import NO_EVENTS, LogParser, ParseStats
from bot.ingest.jsonl import JsonlParser
from bot.ingest.postfix import PostfixParser

#: source name -> a factory taking keyword options (reference time, tz, local_domains) and giving a parser.
SOURCES: dict[str, Callable[..., LogParser]] = {
    "postfix": PostfixParser,
    "jsonl": JsonlParser,
}


def make_parser(source: str, **options: Any) -> LogParser:
    """A fresh parser for a registered source; unknown names raise KeyError naming the choices."""
    try:
        factory = SOURCES[source]
    except KeyError:
        raise KeyError(f"unknown log source {source!r} (known: {', '.join(sorted(SOURCES))})") from None
    return factory(**options)


__all__ = ["NO_EVENTS", "SOURCES", "LogParser", "ParseStats", "make_parser"]
