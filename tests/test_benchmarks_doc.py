"""docs/benchmarks.md is its summary plus the section files, as bench/benchmarks_doc.py builds it."""

from __future__ import annotations

from bench.benchmarks_doc import DOCS, MARKER, build, demoted


def test_the_benchmarks_document_is_built_from_the_section_files() -> None:
    current = (DOCS / "benchmarks.md").read_text()
    assert MARKER in current
    assert current == build(current), "docs/benchmarks.md is stale: run python3 bench/benchmarks_doc.py"


def test_headings_go_one_level_down_except_in_code_fences() -> None:
    text = "# Title\n\ntext\n\n```\n# a shell comment\n```\n## Part"
    assert demoted(text) == "## Title\n\ntext\n\n```\n# a shell comment\n```\n### Part"
