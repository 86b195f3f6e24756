"""The poller's fast paths give exactly what the plain paths give.

- Mapper.rows(kind, record) == [event.as_row() for event in Mapper.map(kind, record)], for every record the
  API can send and for damaged ones (same rows, or the same BadRecord);
- parse_time's fast path (the API's own ISO form in one call) decides every value as the general parser does;
- rows hold no object the garbage collector tracks (what keeps a long poll's GC cost flat).
"""

from __future__ import annotations

import gc
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.config import Settings
from bot.ingest.tmems_map import ACCEPTED, BLOCKED, POLICY, _parse_time_general, parse_time
from bot.ingest.tmems_map import Mapper as _Mapper
from tests.tmems.records import samples, synthetic

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
KINDS = (ACCEPTED, BLOCKED, POLICY)

#: Values a field may hold in a damaged or unusual record (every type JSON has, and the awkward strings).
ODD_VALUES: tuple[Any, ...] = (
    None, "", " ", 0, 1, -5, 2**70, True, False, 1.5, 1.5e12, [], {}, ["a"], {"a": [1]}, "x" * 400,
    " in ", "OUT", "Inbound", "sideways",
    "2026-11-30T07:00:00Z", "2026-11-30T07:00:00.5+02:00", "2026-11-30 07:00:00", " 2026-11-30T07:00:00.123Z ",
    "1999-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-11-30T07:00:00.123456Z", 1796022000, 1796022000000,
    "a@b", "A@B.EXAMPLE.", "Mixed.Case@Partner.Example", "x@" + "d" * 300, "@", "no-at-sign", "é@ü.example",
    "Delivered", " delivered ", "DELIVERED", "Teleported", "bounced", "Expired", "Quarantined",
    "host mx.a.example[192.0.2.1] said: 550 5.1.1 no such user", "554 5.7.1 blocked using zen.spamhaus.org",
    "Sender IP found in KSSL", "Message too big", "\x00nul", "lone \ud800 surrogate", "10.0.0.25", "mx.b.example",
)
FIELDS = ("genTime", "timestamp", "deliveryTime", "sender", "recipient", "recipients", "direction", "messageID",
          "size", "mailID", "action", "senderIP", "deliveredTo", "details", "reason", "eventType", "policyName",
          "policyAction")


def _records() -> list[tuple[str, Any]]:
    """The hand-written samples, synthetic volume, and the same records with fields damaged at random."""
    good = [(s.kind, s.record) for s in samples(NOW)]
    good += [(kind, r) for kind, rs in synthetic(3000, NOW - timedelta(hours=2), NOW).items() for r in rs]
    rng = random.Random(20261130)
    damaged: list[tuple[str, Any]] = []
    for _ in range(6000):
        _kind, record = rng.choice(good)
        record = dict(record)
        for _ in range(rng.randint(1, 4)):
            name = rng.choice(FIELDS)
            if rng.random() < 0.2:
                record.pop(name, None)
            else:
                record[name] = rng.choice(ODD_VALUES)
        damaged.append((rng.choice(KINDS), record))
    damaged += [(kind, value) for kind in KINDS for value in (None, [], "text", 5)]  # not objects at all
    return good + damaged


def _outcome(call, kind: str, record: Any) -> tuple[Any, ...]:
    try:
        return ("ok", call(kind, record))
    except Exception as exc:  # compared: the same exception type and message
        return ("error", type(exc).__name__, str(exc))


def test_rows_are_exactly_the_events_rows() -> None:
    settings = Settings(local_domains=("ourcorp.example", "b.example"))
    by_events, by_rows = _Mapper(settings), _Mapper(settings)

    def via_events(kind: str, record: Any) -> list[dict[str, Any]]:
        return [event.as_row() for event in by_events.map(kind, record)]

    records = _records()
    outcomes = {"ok": 0, "error": 0}
    for kind, record in records:
        expected = _outcome(via_events, kind, record)
        got = _outcome(by_rows.rows, kind, record)
        assert got == expected, (kind, record)
        if expected[0] == "ok":  # and the same types: == alone takes True for 1 and 1.0 for 1
            for row, want in zip(got[1], expected[1], strict=True):
                assert {k: type(v) for k, v in row.items()} == {k: type(v) for k, v in want.items()}
        outcomes[expected[0]] += 1
    assert by_rows.unmapped == by_events.unmapped
    assert outcomes["ok"] > 4000 and outcomes["error"] > 100  # both paths were really exercised


def test_rows_are_not_tracked_by_the_garbage_collector() -> None:
    # A poll keeps tens of thousands of rows waiting for the writer: if they held an enum member (or any other
    # container), every full collection would walk all of them.
    mapper = _Mapper(Settings(local_domains=("ourcorp.example",)))
    rows = [row for s in samples(NOW) for row in mapper.rows(s.kind, s.record)]
    rows += [row for kind, rs in synthetic(500, NOW - timedelta(hours=1), NOW).items() for r in rs
             for row in mapper.rows(kind, r)]
    assert rows and not [row for row in rows if gc.is_tracked(row)]
    assert all(type(row[name]) is str for row in rows for name in ("direction", "disposition"))


TIMES: tuple[Any, ...] = (
    # the API's own forms
    "2026-11-30T08:00:00Z", "2026-11-30T08:00:00.123Z", "2026-11-30T08:00:00.000Z", "2026-11-30T23:59:59.999Z",
    # other fractions and offsets ISO 8601 allows
    "2026-11-30T08:00:00.1Z", "2026-11-30T08:00:00.123456Z", "2026-11-30T08:00:00.1234Z",
    "2026-11-30T08:00:00+00:00", "2026-11-30T08:00:00.123+00:00", "2026-11-30T10:00:00+02:00",
    "2026-11-30T03:00:00.5-05:00", "2026-11-30T08:00:00+05:30", "2026-11-30T08:00:00-00:00",
    "2026-11-30T08:00:00", "2026-11-30 08:00:00", "2026-11-30 08:00:00.123Z", "2026-11-30T08:00Z", "2026-11-30",
    "20261130T080000Z", "2026-11-30T08:00:00,123Z",
    # whitespace, out of range, not a time
    " 2026-11-30T08:00:00Z", "2026-11-30T08:00:00Z ", "\t2026-11-30T08:00:00.123Z\n",
    "1989-12-31T23:59:59.999Z", "1990-01-01T00:00:00Z", "2199-12-31T23:59:59.999Z", "2200-01-01T00:00:00Z",
    "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z", "2026-02-30T08:00:00Z", "2026-11-30T24:00:00Z",
    "2026-11-30T08:00:00.123ZZ", "2026-11-30T08:00:00.123X", "2026-11-30T08:00:00.Z", "soon", "", " ", "Z",
    # epochs and other JSON values
    1796025600, 1796025600000, 1796025600.5, 0, -1, 10**30, True, False, None, [], {}, float("nan"),
)


@pytest.mark.parametrize("value", TIMES, ids=[repr(v)[:40] for v in TIMES])
def test_the_fast_time_parser_decides_as_the_general_one(value: Any) -> None:
    fast, general = parse_time(value), _parse_time_general(value)
    assert fast == general
    if fast is not None:
        assert fast.tzinfo is UTC and fast.utcoffset() == timedelta(0)


def test_the_fast_time_parser_on_every_millisecond_form() -> None:
    rng = random.Random(7)
    start = datetime(1989, 12, 31, tzinfo=UTC)
    for _ in range(3000):
        moment = start + timedelta(seconds=rng.randrange(0, 211 * 365 * 86400), milliseconds=rng.randrange(1000))
        for text in (moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
                     moment.strftime("%Y-%m-%dT%H:%M:%SZ"), moment.isoformat(),
                     moment.astimezone(UTC).replace(tzinfo=None).isoformat()):
            assert parse_time(text) == _parse_time_general(text), text
