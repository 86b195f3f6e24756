"""Rebuild docs/benchmarks.md: its summary (everything above the marker line) followed by every section file
docs/benchmarks/<name>.md in a fixed order, headings one level down (code fences left alone).

    python3 bench/benchmarks_doc.py          # rewrite docs/benchmarks.md
    python3 bench/benchmarks_doc.py --check  # exit 1 if it is not what the section files give
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"
MARKER = "<!-- Sections below: built by bench/benchmarks_doc.py from docs/benchmarks/*.md; edit those files. -->"
ORDER = ("why", "ingest", "accuracy", "blacklists", "slack_ack", "digest", "tmems", "approvals")


def demoted(text: str) -> str:
    """Every Markdown heading one level deeper, except inside ``` fences."""
    out, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        out.append("#" + line if not fenced and line.startswith("#") else line)
    return "\n".join(out)


def build(current: str) -> str:
    summary = current.split(MARKER, 1)[0].rstrip("\n")
    names = [*ORDER, *sorted(p.stem for p in (DOCS / "benchmarks").glob("*.md") if p.stem not in ORDER)]
    sections = [demoted((DOCS / "benchmarks" / f"{name}.md").read_text().strip("\n")) for name in names]
    return "\n\n".join([summary, MARKER, *sections]) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the file is current")
    args = parser.parse_args()
    target = DOCS / "benchmarks.md"
    current = target.read_text()
    wanted = build(current)
    if args.check:
        if current != wanted:
            print(f"{target} is out of date: run python3 bench/benchmarks_doc.py", file=sys.stderr)
            return 1
        return 0
    target.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
