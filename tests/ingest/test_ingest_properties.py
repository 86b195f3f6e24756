"""Property tests: no line, however random or mangled, crashes the parsers or breaks their state."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.ingest.jsonl import JsonlParser
from bot.ingest.postfix import PostfixParser
from bot.vocab import Direction, Disposition

ROOT = Path(__file__).resolve().parents[2]
REAL_LINES = (ROOT / "bot" / "data" / "sample-maillog.log").read_text().splitlines()
REF = datetime(2026, 11, 30, tzinfo=UTC)
DISPOSITIONS = {d.value for d in Disposition}
DIRECTIONS = {d.value for d in Direction}
#: Fragments Postfix lines are made of, so mutations hit the interesting branches.
PIECES = ["NOQUEUE: ", "reject: ", "milter-reject: ", "hold: ", "RCPT from ", "x[1.2.3.4]: ", "550 5.1.1 ",
          "; from=<", "> to=<", ">", " proto=ESMTP", " helo=<", "to=<", ", relay=", ", delay=", ", delays=",
          ", dsn=", ", status=", "bounced (", "said: ", " (in reply to RCPT TO command))", "warning: ",
          "queue file size limit exceeded", "client=", "message-id=", "from=<", ", size=", ", nrcpt=",
          "status=expired, returned to sender", "removed", "connect from ", "disconnect from ", " rcpt=",
          " data=", "4A1B2C3D4E: ", "postfix/smtpd[1]: ", "postfix/qmgr[2]: ", "postfix/smtp[3]: "]


def check(events) -> None:
    for event in events:
        assert event.disposition in DISPOSITIONS
        assert event.direction in DIRECTIONS
        assert event.time.tzinfo is not None and event.time.year >= 1
        assert event.source_key.startswith("postfix:")
        row = event.as_row()
        assert row["smtp_code"] is None or isinstance(row["smtp_code"], int)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=300), max_size=20))
def test_random_text_never_crashes_the_postfix_parser(lines: list[str]) -> None:
    parser = PostfixParser(reference=REF)
    for line in lines:
        check(parser.feed(line))
    assert parser.stats.lines == len(lines)


@st.composite
def mutated_line(draw) -> str:
    line = draw(st.sampled_from(REAL_LINES))
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["cut", "insert", "delete", "swap"]))
        position = draw(st.integers(0, len(line)))
        if action == "cut":
            line = line[:position]
        elif action == "insert":
            line = line[:position] + draw(st.sampled_from(PIECES) | st.text(max_size=8)) + line[position:]
        elif action == "delete":
            line = line[:position] + line[position + draw(st.integers(1, 20)):]
        else:
            other = draw(st.sampled_from(REAL_LINES))
            line = line[:position] + other[draw(st.integers(0, len(other))):]
    return line


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutated_line(), min_size=1, max_size=40), st.integers(0, 40))
def test_mutated_real_lines_never_crash_and_the_state_survives_a_restore(lines: list[str], cut: int) -> None:
    whole = PostfixParser(reference=REF)
    events = [e for line in lines for e in whole.feed(line)]
    check(events)
    expected = [e.as_row() for e in events]
    first = PostfixParser(reference=REF)
    got = [e.as_row() for line in lines[:cut] for e in first.feed(line)]
    second = PostfixParser(reference=REF)
    second.restore(json.loads(json.dumps(first.snapshot())))
    got += [e.as_row() for line in lines[cut:] for e in second.feed(line)]
    assert got == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=200),
                          st.dictionaries(st.sampled_from(["time", "disposition", "sender", "recipient", "smtp_code",
                                                           "direction", "source_key", "reason", "size", "x"]),
                                          st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                                                    st.text(max_size=40)), max_size=8).map(json.dumps)),
                max_size=20))
def test_random_json_lines_never_crash_the_importer(lines: list[str]) -> None:
    parser = JsonlParser()
    events = [e for line in lines for e in parser.feed(line)]
    assert parser.stats.events == len(events)
    assert parser.stats.events + parser.stats.skipped <= len(lines)
    for event in events:
        assert event.time.tzinfo is not None and event.disposition in DISPOSITIONS
