"""`explain` against Sisimai's public corpus: at least 90% of recipients with Sisimai's reason, no crash.

Uses bench/accuracy.py (the benchmark prints the same figures per reason)."""

from __future__ import annotations

import importlib.util

import pytest

from tests.support import ROOT, shared_path


def _accuracy_module():
    spec = importlib.util.spec_from_file_location("bench_accuracy", ROOT / "bench" / "accuracy.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize(("corpus", "recipients"), [("sisimai", 630), ("bounces-public", 282)])
def test_corpus_agreement_and_no_crash(corpus: str, recipients: int):
    """bench/accuracy.py's scorer on both corpora: at least 90 % of recipients with Sisimai's reason, no crash.
    bounces-public was never used to build the tables' older entries: it is the check that explain reads
    bounces, not one corpus."""
    figures = _accuracy_module().run(shared_path("corpus", corpus))
    assert figures["crashes"] == {}
    assert figures["recipients"] == recipients
    agreement = figures["same"] / figures["recipients"]
    assert agreement >= 0.90, f"{agreement:.1%} agree; misses: {figures['misses'][:20]}"


def test_both_expected_layouts_are_read():
    """sisimai names a recipient by its index, bounces-public by its address, in per-source folders."""
    module = _accuracy_module()
    sisimai = module.load_expected(shared_path("corpus", "sisimai"))
    public = module.load_expected(shared_path("corpus", "bounces-public"))
    assert all(isinstance(key, int) for _, key, _ in sisimai)
    assert all(isinstance(key, str) and "@" in key for _, key, _ in public)
    assert module.source_of("cws/bounce_500_004.eml") == "cws"
    assert module.source_of("lhost-postfix-01.eml") == "lhost-postfix"


def test_expected_columns_other_than_file_index_reason_are_never_read():
    """The analyzer sees only the message bytes: the loader keeps file, index and reason, nothing else."""
    corpus = shared_path("corpus", "sisimai")
    rows = _accuracy_module().load_expected(corpus)
    assert rows and all(len(row) == 3 for row in rows)


@pytest.mark.slow
def test_every_corpus_message_reads_the_same_with_lf_and_crlf():
    from bot.bounce import BadMessage, NotABounce, explain_bytes

    def read(data: bytes) -> object:
        try:
            return [(r.address, r.status, r.reason, r.cause) for r in explain_bytes(data)]
        except (BadMessage, NotABounce) as exc:
            return str(exc)

    for path in sorted(shared_path("corpus", "sisimai", "eml").glob("*.eml")):
        lf = path.read_bytes().replace(b"\r\n", b"\n")
        assert read(lf) == read(lf.replace(b"\n", b"\r\n")), path.name
