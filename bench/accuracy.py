"""Agreement of `bouncebot explain` with Sisimai on public bounce corpora.

    python3 bench/accuracy.py [CORPUS_DIR ...] [--limit N] [--misses]

Without CORPUS_DIR both corpora in ../shared are measured: ../shared/corpus/sisimai (expected.tsv with file,
index, reason, ...; messages in eml/) and ../shared/corpus/bounces-public (expected.tsv with file, recipient,
reason; messages in one folder per source). Only the messages are read; no other column of expected.tsv is
shown to the analyzer. Prints, per corpus, the agreement per source folder and per expected reason, overall,
files that could not be read, crashes, a confusion table of the misses (expected -> got), and (with --misses)
every recipient whose reason differs.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.bounce import BadMessage, NotABounce, RecipientResult, explain_bytes

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
DEFAULTS = (SHARED / "sisimai", SHARED / "bounces-public")
#: What Sisimai writes when a report names no recipient: then the recipient is matched by position.
UNDISCLOSED = "undisclosed-recipient-in-headers@libsisimai.org.invalid"
NONE = "(none)"


class Layout(NamedTuple):
    """Where a corpus keeps its messages and how its expected.tsv names a recipient."""

    messages: str  # sub-folder holding the files named in expected.tsv ("" = the corpus folder itself)
    key: str       # "index" (1-based position among the file's recipients) or "recipient" (the address)


def layout_of(corpus: Path) -> Layout:
    """Sisimai's layout (index column, eml/) or bounces-public's (recipient column, per-source folders)."""
    with (corpus / "expected.tsv").open(newline="") as handle:
        columns = next(csv.reader(handle, delimiter="\t"), [])
    if "index" in columns:
        return Layout("eml", "index")
    if "recipient" in columns:
        return Layout("", "recipient")
    raise ValueError(f"{corpus / 'expected.tsv'}: neither an index nor a recipient column")


def load_expected(corpus: Path) -> list[tuple[str, int | str, str]]:
    """(file, index or recipient, reason) per expected row; no other column is kept."""
    key = layout_of(corpus).key
    with (corpus / "expected.tsv").open(newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return [(row["file"], int(row[key]) if key == "index" else row[key].strip().lower(), row["reason"])
                for row in rows]


def source_of(name: str) -> str:
    """The source a file comes from: its folder (bounces-public), else its name up to the number (sisimai)."""
    if "/" in name:
        return name.split("/", 1)[0]
    stem = name.rsplit(".", 1)[0]
    return stem.rstrip("0123456789").rstrip("-") or stem


def _pick(results: list[RecipientResult], key: int | str, taken: set[int]) -> str:
    """The reason explain gave the expected recipient: by position, or by address (by position among the
    recipients no other row names when Sisimai found no address)."""
    if isinstance(key, int):
        return results[key - 1].reason if 0 < key <= len(results) else NONE
    for number, result in enumerate(results):
        if result.address.lower() == key and number not in taken:
            taken.add(number)
            return result.reason
    if key == UNDISCLOSED:
        for number, result in enumerate(results):
            if number not in taken:
                taken.add(number)
                return result.reason
    return NONE


def run(corpus: Path, limit: int | None = None) -> dict[str, object]:
    """Score the analyzer on one corpus; returns the figures (also used by the tests)."""
    layout = layout_of(corpus)
    expected = load_expected(corpus)
    files = sorted({name for name, _, _ in expected})[:limit]
    wanted = set(files)
    results: dict[str, list[RecipientResult]] = {}
    errors: dict[str, str] = {}
    crashes: dict[str, str] = {}
    started = time.perf_counter()
    for name in files:
        data = (corpus / layout.messages / name).read_bytes()
        try:
            results[name] = explain_bytes(data)
        except (BadMessage, NotABounce) as exc:
            errors[name] = str(exc)
            results[name] = []
        except Exception as exc:
            crashes[name] = f"{type(exc).__name__}: {exc}"
            results[name] = []
    elapsed = time.perf_counter() - started
    per_reason: dict[str, Counter[str]] = {}
    per_source: dict[str, Counter[str]] = {}
    confusion: Counter[tuple[str, str]] = Counter()
    misses: list[tuple[str, int | str, str, str]] = []
    taken: dict[str, set[int]] = {}
    for name, key, reason in expected:
        if name not in wanted:
            continue
        got = _pick(results[name], key, taken.setdefault(name, set()))
        for tally in (per_reason.setdefault(reason, Counter()), per_source.setdefault(source_of(name), Counter())):
            tally["total"] += 1
            tally["same"] += got == reason
        if got != reason:
            misses.append((name, key, reason, got))
            confusion[(reason, got)] += 1
    total = sum(t["total"] for t in per_reason.values())
    same = sum(t["same"] for t in per_reason.values())
    return {"files": len(files), "recipients": total, "same": same, "per_reason": per_reason,
            "per_source": per_source, "confusion": confusion, "misses": misses, "errors": errors,
            "crashes": crashes, "seconds": elapsed}


def _table(title: str, rows: dict[str, Counter[str]]) -> None:
    print(f"  {title:22} {'same':>5} {'total':>5}  agreement")
    for name, tally in sorted(rows.items(), key=lambda kv: (-kv[1]["total"], kv[0])):
        print(f"  {name:22} {tally['same']:5} {tally['total']:5}  {100 * tally['same'] / tally['total']:6.1f}%")


def report(corpus: Path, figures: dict[str, object], *, misses: bool) -> None:
    """Print one corpus's figures."""
    same, total = figures["same"], figures["recipients"]
    share = 100 * same / total if total else 0.0  # type: ignore[operator]
    print(f"== {corpus.name}: {same}/{total} = {share:.1f} %  "
          f"({figures['files']} files in {figures['seconds']:.2f} s, {len(figures['crashes'])} crashes)")  # type: ignore[arg-type]
    _table("source", figures["per_source"])  # type: ignore[arg-type]
    _table("reason", figures["per_reason"])  # type: ignore[arg-type]
    confusion: Counter[tuple[str, str]] = figures["confusion"]  # type: ignore[assignment]
    if confusion:
        print(f"  {'misses: expected':22} {'got':16} {'count':>5}")
        for (want, got), count in sorted(confusion.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"  {want:22} {got:16} {count:5}")
    for name, message in sorted(figures["errors"].items()):  # type: ignore[union-attr]
        print(f"  unreadable: {name}: {message}")
    for name, message in sorted(figures["crashes"].items()):  # type: ignore[union-attr]
        print(f"  CRASH: {name}: {message}")
    if misses:
        for name, key, want, got in figures["misses"]:  # type: ignore[union-attr]
            print(f"  miss: {name}#{key}: expected {want}, got {got}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="*", type=Path, help="corpus folders (default: both in ../shared)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N files of each corpus")
    parser.add_argument("--misses", action="store_true", help="list every recipient with another reason")
    args = parser.parse_args(argv)
    crashed = False
    for corpus in args.corpus or DEFAULTS:
        if not (corpus / "expected.tsv").is_file():
            print(f"accuracy: no expected.tsv in {corpus}", file=sys.stderr)
            return 2
        figures = run(corpus, args.limit)
        report(corpus, figures, misses=args.misses)
        crashed = crashed or bool(figures["crashes"])
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
