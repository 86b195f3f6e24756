"""Registrable domains from an offline Public Suffix List (bot/data/public_suffix_list.txt.gz).

Domain block lists (Spamhaus DBL, SURBL, URIBL) list registrable domains, so "mail.shop.example.co.uk" is
also looked up as "example.co.uk". The list ships with the package: a check never fetches anything but DNS.
Regenerate the data file from a PSL snapshot with `python3 -m bot.blacklists.psl SNAPSHOT_FILE`.
"""

from __future__ import annotations

import gzip
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

DATA_FILE = "data/public_suffix_list.txt.gz"


@dataclass(frozen=True)
class SuffixRules:
    exact: frozenset[str]
    wildcard: frozenset[str]   # "*.ck" stored as "ck"
    exception: frozenset[str]  # "!www.ck" stored as "www.ck"

    @classmethod
    def parse(cls, text: str) -> SuffixRules:
        exact, wildcard, exception = set(), set(), set()
        for raw in text.splitlines():
            rule = raw.strip()
            if not rule or rule.startswith(("#", "//")):
                continue
            if rule.startswith("!"):
                exception.add(rule[1:])
            elif rule.startswith("*."):
                wildcard.add(rule[2:])
            else:
                exact.add(rule)
        return cls(frozenset(exact), frozenset(wildcard), frozenset(exception))

    def suffix_length(self, labels: list[str]) -> int:
        """Number of trailing labels forming the public suffix (the PSL algorithm; unknown TLD = 1 label)."""
        best = 1
        for i in range(len(labels)):
            candidate = ".".join(labels[i:])
            size = len(labels) - i
            if candidate in self.exception:
                return size - 1
            if candidate in self.exact:
                best = max(best, size)
            parent = ".".join(labels[i + 1:])
            if i + 1 < len(labels) and parent in self.wildcard:
                best = max(best, size)
        return best


@lru_cache(maxsize=1)
def rules() -> SuffixRules:
    data = resources.files("bot").joinpath(DATA_FILE).read_bytes()
    return SuffixRules.parse(gzip.decompress(data).decode("utf-8"))


def public_suffix(domain: str) -> str:
    labels = domain.lower().rstrip(".").split(".")
    return ".".join(labels[-rules().suffix_length(labels):])


def registrable_domain(domain: str) -> str | None:
    """The public suffix plus one label ("example.co.uk"), or None when the name is itself a public suffix."""
    labels = domain.lower().rstrip(".").split(".")
    size = rules().suffix_length(labels)
    if len(labels) <= size:
        return None
    return ".".join(labels[-size - 1:])


def compact(snapshot: str) -> str:
    """Rules of a PSL snapshot without comments, Unicode labels IDNA-encoded (as queried names are)."""
    out = []
    for raw in snapshot.splitlines():
        rule = raw.strip()
        if not rule or rule.startswith("//"):
            continue
        bang = "!" if rule.startswith("!") else ""
        labels = rule.lstrip("!").split(".")
        out.append(bang + ".".join(lab if lab.isascii() else lab.encode("idna").decode("ascii") for lab in labels))
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:  # pragma: no cover - maintenance tool
    if len(argv) != 1:
        print("usage: python3 -m bot.blacklists.psl PUBLIC_SUFFIX_LIST_SNAPSHOT", file=sys.stderr)
        return 2
    source = Path(argv[0]).read_text(encoding="utf-8")
    header = ("# Public Suffix List (https://publicsuffix.org/list/), comments removed, Unicode rules IDNA-encoded.\n"
              "# This Source Code Form is subject to the terms of the Mozilla Public License, v. 2.0.\n")
    target = Path(str(resources.files("bot").joinpath(DATA_FILE)))
    target.write_bytes(gzip.compress((header + compact(source)).encode("utf-8"), mtime=0))
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
