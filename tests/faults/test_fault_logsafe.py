"""bot.logsafe: the redacting filter masks secrets in messages, arguments and tracebacks, in every form."""

from __future__ import annotations

import base64
import io
import logging
import urllib.parse
from collections.abc import Iterator

import pytest

from bot import logsafe

KEY = "TM-4f7a9c2e-81b3-4d6f-a0c5-9e8d7b6a5f4e"
TOKEN = "xoxb-7301842265-8124460023457-Qm4rT9zXcV2bN7kLp0sWdE3f"
USER = "svc@ourcorp.example"


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    logger = logging.getLogger("tests.faults.logsafe")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logsafe.install([KEY, TOKEN, "short"], basic_user=USER, logger=logger)
    yield logger, stream
    logger.removeHandler(handler)


def test_plain_quoted_base64_and_basic_forms_are_masked(captured) -> None:
    logger, stream = captured
    basic = base64.b64encode(f"{USER}:{KEY}".encode()).decode()
    logger.debug("headers: Authorization: Bearer %s", TOKEN)
    logger.info("url ?key=%s", urllib.parse.quote(KEY, safe=""))
    logger.warning("Authorization: Basic %s", basic)
    logger.error("b64 %s", base64.b64encode(TOKEN.encode()).decode())
    text = stream.getvalue()
    assert TOKEN not in text and KEY not in text and basic not in text
    assert text.count(logsafe.MASK) == 4
    assert "short" not in logsafe.variants(["short"])  # too short to mask without masking ordinary words


def test_tracebacks_are_masked(captured) -> None:
    logger, stream = captured
    try:
        raise RuntimeError(f"request failed: token={TOKEN}")
    except RuntimeError:
        logger.exception("Slack call failed")
    text = stream.getvalue()
    assert "RuntimeError" in text and TOKEN not in text and logsafe.MASK in text


def test_records_without_secrets_are_untouched(captured) -> None:
    logger, stream = captured
    logger.info("ingested %d lines from %s", 12, "/var/log/mail.log")
    assert stream.getvalue() == "INFO ingested 12 lines from /var/log/mail.log\n"
