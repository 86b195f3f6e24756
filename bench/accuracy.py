"""Agreement of `bouncebot explain` with Sisimai on Sisimai's public bounce corpus.

    python3 bench/accuracy.py [CORPUS_DIR] [--limit N] [--misses]

CORPUS_DIR holds expected.tsv (file, index, status, reply_code, reason, ...) and eml/ (default:
../shared/corpus/sisimai). Only the messages are read; the status and reply_code columns are never shown to
the analyzer. Prints agreement per expected reason and overall, files that could not be read, and (with
--misses) every recipient whose reason differs.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.bounce import BadMessage, NotABounce, explain_bytes

DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "sisimai"


def load_expected(corpus: Path) -> list[tuple[str, int, str]]:
    with (corpus / "expected.tsv").open(newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return [(row["file"], int(row["index"]), row["reason"]) for row in rows]


def run(corpus: Path, limit: int | None = None) -> dict[str, object]:
    """Score the analyzer; returns the figures (also used by the tests)."""
    expected = load_expected(corpus)
    files = sorted({name for name, _, _ in expected})[:limit]
    wanted = set(files)
    results: dict[str, list[str]] = {}
    errors: dict[str, str] = {}
    crashes: dict[str, str] = {}
    started = time.perf_counter()
    for name in files:
        data = (corpus / "eml" / name).read_bytes()
        try:
            results[name] = [r.reason for r in explain_bytes(data)]
        except (BadMessage, NotABounce) as exc:
            errors[name] = str(exc)
            results[name] = []
        except Exception as exc:
            crashes[name] = f"{type(exc).__name__}: {exc}"
            results[name] = []
    elapsed = time.perf_counter() - started
    per_reason: dict[str, Counter[str]] = {}
    misses: list[tuple[str, int, str, str]] = []
    for name, index, reason in expected:
        if name not in wanted:
            continue
        got = results[name][index - 1] if index <= len(results[name]) else "(none)"
        tally = per_reason.setdefault(reason, Counter())
        tally["total"] += 1
        if got == reason:
            tally["same"] += 1
        else:
            misses.append((name, index, reason, got))
    total = sum(t["total"] for t in per_reason.values())
    same = sum(t["same"] for t in per_reason.values())
    return {"files": len(files), "recipients": total, "same": same, "per_reason": per_reason,
            "misses": misses, "errors": errors, "crashes": crashes, "seconds": elapsed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--limit", type=int, default=None, help="only the first N files")
    parser.add_argument("--misses", action="store_true", help="list every recipient with another reason")
    args = parser.parse_args(argv)
    if not (args.corpus / "expected.tsv").is_file():
        print(f"accuracy: no expected.tsv in {args.corpus}", file=sys.stderr)
        return 2
    figures = run(args.corpus, args.limit)
    per_reason: dict[str, Counter[str]] = figures["per_reason"]  # type: ignore[assignment]
    print(f"{'reason':16} {'same':>5} {'total':>5}  agreement")
    for reason, tally in sorted(per_reason.items(), key=lambda kv: (-kv[1]["total"], kv[0])):
        print(f"{reason:16} {tally['same']:5} {tally['total']:5}  {100 * tally['same'] / tally['total']:6.1f}%")
    same, total = figures["same"], figures["recipients"]
    print(f"{'overall':16} {same:5} {total:5}  {100 * same / total:6.1f}%   "  # type: ignore[operator]
          f"({figures['files']} files in {figures['seconds']:.2f} s)")
    for name, message in sorted(figures["errors"].items()):  # type: ignore[union-attr]
        print(f"unreadable: {name}: {message}")
    for name, message in sorted(figures["crashes"].items()):  # type: ignore[union-attr]
        print(f"CRASH: {name}: {message}")
    if args.misses:
        for name, index, want, got in figures["misses"]:  # type: ignore[union-attr]
            print(f"miss: {name}#{index}: expected {want}, got {got}")
    return 1 if figures["crashes"] else 0


if __name__ == "__main__":
    sys.exit(main())
