"""Every case of the real Postfix corpus: ingest dev-maillog.log, diagnose the case's sender, get its answer."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.config import Settings
from bot.diagnosis import diagnose
from bot.ingest.runner import Ingestor
from bot.render.blocks import render_blocks
from bot.store import Store
from bot.targets import parse_target
from tests.support import shared_path

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def _cases() -> list[dict[str, Any]]:
    try:
        path = shared_path("corpus", "postfix", "dev-expected.json")
    except pytest.skip.Exception:
        return [pytest.param({}, marks=pytest.mark.skip(reason="../shared/corpus/postfix is absent"))]
    return [pytest.param(case, id=f"{case['case']}-{case['expected_cause']}") for case in json.loads(path.read_text())]


@pytest.fixture
def corpus_store(store: Store) -> Store:
    Ingestor(store, "postfix").ingest(shared_path("corpus", "postfix", "dev-maillog.log"))
    return store


@pytest.mark.parametrize("case", _cases())
def test_corpus_case(corpus_store: Store, case: dict[str, Any]) -> None:
    with corpus_store.session() as session:
        d = diagnose(session, parse_target(case["sender"]), settings=Settings(), since=LONG_AGO)
    assert (d.verdict.cause, d.verdict.reason) == (case["expected_cause"], case["expected_reason"]), d.verdict.text
    if case["expected_cause"] == "delivered":
        assert d.findings == [] and d.summary["delivered"] >= len(case["recipients"])
        return
    top = d.findings[0]
    assert top.direction == case["direction"]
    assert top.dnsbl_zone == case["dnsbl_zone"]
    if case["client_ip"]:
        assert case["client_ip"] in top.client_ips
    if top.recipients:  # recipients over a limit are never logged (case b)
        assert set(top.recipients) <= {r.lower() for r in case["recipients"]}
    assert top.evidence and top.evidence[0].reply_text
    assert len(render_blocks(d)) <= 50
