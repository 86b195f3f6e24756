"""pflogsumm's small rules, and the report's Block Kit within Slack's limits however big the report."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.render.report_blocks import render_report_blocks
from bot.report.model import Problem, Ranked, RecipientDomain, Report, SendingDomain, Traffic, Waiting
from bot.report.pflog import gimme_domain, percent, sending_domain
from bot.report.text import render_text
from tests.slack.limits import violations


@pytest.mark.parametrize(("host", "ip", "expected"), [
    ("mail.galway-marine.com", "192.0.2.1", "galway-marine.com"),    # three-letter TLD: the last two labels
    ("smtp.a.example.co.uk", "192.0.2.1", "example.co.uk"),          # a country code's second level
    ("mta.eventhall-berlin.example", "192.0.2.1", "mta.eventhall-berlin.example"),  # other names stay whole
    ("unknown", "192.0.2.7", "192.0.2.7"),
    ("", "192.0.2.8", "192.0.2.8"),
    ("MX.Big.COM", "192.0.2.1", "big.com"),
])
def test_gimme_domain_as_pflogsumm(host: str, ip: str, expected: str) -> None:
    assert gimme_domain(host, ip) == expected


def test_sending_domain_and_percent() -> None:
    assert sending_domain("a@x.example", "mail.y.com", "192.0.2.1") == "x.example"
    assert sending_domain(None, "mail.y.com", "192.0.2.1") == "y.com"
    assert sending_domain(None, None, None) == "from=<>"
    assert sending_domain("root", None, None) == "root"
    assert (percent(9, 27), percent(1, 3), percent(0, 0)) == (33, 33, 0)


def _big_report(days: int) -> Report:
    first, last = date(2026, 11, 1), date(2026, 11, days)
    report = Report(first=first, last=last, zone="UTC", start=datetime(2026, 11, 1, tzinfo=UTC),
                    end=datetime(2026, 12, 1, tzinfo=UTC), top=1000)
    report.notices = [f"notice {i} " + "x" * 400 for i in range(12)]
    report.hours = [Traffic(10**6, 10**6, 10**5, 10**4, 10**5) for _ in range(24)]
    report.days = {date(2026, 11, d): Traffic(d, d, d, d, d) for d in range(1, days + 1)}
    long = "<" + "y" * 300 + "@z.example>"
    report.recipient_domains = [RecipientDomain(f"d{i}.example" + "q" * 200, i, i, i, 1.5, 9.0) for i in range(50)]
    report.sending_domains = [SendingDomain(f"s{i}.example", i, i) for i in range(50)]
    report.senders_by_count = report.senders_by_size = [Ranked(long, 1, 1) for _ in range(50)]
    report.recipients_by_count = report.recipients_by_size = [Ranked(long, 1, 1) for _ in range(50)]
    report.rejects = [Problem("rejected", "RCPT", "blocked", "5.7.1", None, 5, "x" * 2000) for _ in range(80)]
    report.deferrals = [Problem("deferred", "RCPT", "systemerror", "4.0.0", "mx" * 100, 5, "y" * 2000)] * 80
    report.bounces = [Problem("bounced", "RCPT", "userunknown", "5.1.1", "mx.example", 5, "<&>" * 700)] * 80
    report.waiting = [Waiting("ABC", long, long, report.start, report.start, 3, "mx", "z" * 3000)] * 50
    report.waiting_total = 5000
    return report


@pytest.mark.parametrize("days", [1, 30])
def test_a_huge_report_stays_within_slacks_limits(days: int) -> None:
    blocks = render_report_blocks(_big_report(days))
    assert violations(blocks) == []
    assert "&lt;&amp;&gt;" in str(blocks)  # replies are escaped for mrkdwn


def test_the_day_table_lines_up() -> None:
    text = render_text(_big_report(30))
    rows = [line for line in text.splitlines() if line.startswith("    2026-11-")]
    assert len(rows) == 30 and len({len(r) for r in rows}) == 1
