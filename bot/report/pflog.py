"""pflogsumm's own small rules, reproduced where the report must agree with it (docs/report.md)."""

from __future__ import annotations

import heapq
import re

_SHORTEN = re.compile(r"^(.*)\.([^.]+)\.([^.]{3}|[^.]{2,3}\.[^.]{2})$")


def gimme_domain(host: str | None, ip: str | None) -> str:
    """pflogsumm's name for a client: its IP when unnamed, else the host cut to its last two labels (three under
    a two-letter country code such as co.uk) when the top-level label has 3 letters; other names stay whole."""
    if not host or host == "unknown":
        return ip or ""
    match = _SHORTEN.match(host)
    return f"{match.group(2)}.{match.group(3)}".lower() if match else host


def sending_domain(sender: str | None, host: str | None, ip: str | None) -> str:
    """Where pflogsumm says a received message came from: the sender's domain, else (null sender, bare local
    part) the client's gimme_domain, else (local submission through pickup) the sender itself or 'from=<>'."""
    if sender and "@" in sender:
        return sender.rsplit("@", 1)[1]
    if host or ip:
        return gimme_domain(host, ip)
    return sender or "from=<>"


def relay_host(relay: str | None) -> str:
    """'mx.b.example[192.0.2.1]:25' -> 'mx.b.example'; 'none' when there was no relay."""
    if not relay:
        return "none"
    return relay.split("[", 1)[0] or relay


def percent(part: int, whole: int) -> int:
    """pflogsumm's percentages: truncated, 0 of nothing."""
    return int(part / whole * 100) if whole else 0


def ranked(table: dict[str, list[int]], by: int, top: int) -> list[tuple[str, list[int]]]:
    """The `top` entries of {name: [count, bytes]} in pflogsumm's order: the figure `by` (0 count, 1 bytes),
    largest first, then the other figure, then the name."""
    other = 1 - by
    return heapq.nsmallest(top, table.items(), key=lambda item: (-item[1][by], -item[1][other], item[0]))
