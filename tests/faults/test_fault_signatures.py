"""Signed-request fuzzing: 1,100 forged, expired, replayed and malformed requests against the app over real HTTP.

Malformed ones are what bolt's WSGI adapter used to turn into HTTP 500: handlers.request_guard refuses them now.

Every one must be refused (401, or 400 for a body that cannot be read) — never a 5xx, never any work: the fake
Web API must see no call from them. Valid requests, interleaved at random, must all be served.
"""

from __future__ import annotations

import http.client
import json
import random
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.store import Store
from storage.db import make_engine, upgrade
from tests.faults.procs import report
from tests.slack.fakes import (
    SIGNING_SECRET,
    AppServer,
    FakeSlackAPI,
    SignedRequest,
    block_action,
    event_callback,
    fake_slack,
    serve_app,
    signature,
    slash_command,
    test_settings,
)

COUNTS = {"forged": 400, "expired": 300, "replayed": 150, "malformed": 250}
VALID = 150
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'sig.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def server(db: str) -> Iterator[tuple[AppServer, FakeSlackAPI]]:
    """The app exactly as `bouncebot serve` serves it (handlers.serving on waitress)."""
    with fake_slack() as fake:
        store = Store.open(db)
        with serve_app(test_settings(db, fake), store=store) as served:
            fake.wait_for("auth.test")
            fake.clear()
            yield served, fake
        store.dispose()


def _raw(port: int, body: bytes, headers: dict[str, str | bytes]) -> int:
    """POST exactly these bytes and headers (urllib would tidy malformed ones); returns the status."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.putrequest("POST", "/slack/events", skip_accept_encoding=True)
        conn.putheader("Content-Length", str(len(body)))
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders(body)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _valid(rng: random.Random, fake: FakeSlackAPI, n: int) -> SignedRequest:
    return slash_command("cases", user=f"U{rng.randrange(10**6):06d}", response_url=fake.response_url(f"valid{n}"))


def _forged(rng: random.Random, fake: FakeSlackAPI) -> tuple[bytes, dict[str, str | bytes]]:
    good = slash_command(rng.choice(["cases", "help", "alice@partner.example"]),
                         response_url=fake.response_url("forged"))
    body, headers = good.body, dict(good.headers)
    ts = headers["X-Slack-Request-Timestamp"]
    how = rng.randrange(9)
    if how == 0:
        headers["X-Slack-Signature"] = signature("wrong-" + SIGNING_SECRET, ts, body)
    elif how == 1:
        headers["X-Slack-Signature"] = "v0=" + "".join(rng.choice("0123456789abcdef") for _ in range(64))
    elif how == 2:
        body = body.replace("cases", "approved").replace("help", "cases") + "&x=1"  # tampered after signing
    elif how == 3:
        headers["X-Slack-Signature"] = headers["X-Slack-Signature"].replace("v0=", "v1=")
    elif how == 4:
        headers["X-Slack-Signature"] = headers["X-Slack-Signature"][: rng.randrange(3, 60)]
    elif how == 5:
        del headers["X-Slack-Signature"]
    elif how == 6:
        headers["X-Slack-Signature"] = signature(SIGNING_SECRET, str(int(ts) + 1), body)  # other timestamp
    elif how == 7:
        headers["X-Slack-Signature"] = headers["X-Slack-Signature"].upper()
    else:
        headers["X-Slack-Signature"] = ""
    return body.encode(), headers


def _expired(rng: random.Random, fake: FakeSlackAPI) -> tuple[bytes, dict[str, str | bytes]]:
    now = int(time.time())
    when = rng.choice([now - 301 - rng.randrange(10**7), now + 301 + rng.randrange(10**7), 0, -1, 2**63])
    request = slash_command("cases", response_url=fake.response_url("expired"), timestamp=when)
    return request.body.encode(), dict(request.headers)


def _malformed(rng: random.Random, fake: FakeSlackAPI) -> tuple[bytes, dict[str, str | bytes]]:
    """Bodies and headers no Slack sends: garbage bytes, broken JSON/forms, odd timestamps, odd encodings."""
    how = rng.randrange(10)
    ts = str(int(time.time()))
    garbage = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 400)))
    if how == 0:
        return garbage, {"Content-Type": FORM, "X-Slack-Request-Timestamp": ts,
                         "X-Slack-Signature": "v0=" + "0" * 64}
    if how == 1:  # the right secret over a body that is not JSON, sent as JSON: signed, yet unreadable
        body = b'{"type": "event_callback", "event": {' + garbage[:50]
        return body, {"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts,
                      "X-Slack-Signature": signature(SIGNING_SECRET, ts, body)}
    if how == 2:  # signed form whose payload= is not JSON
        body = urllib.parse.urlencode({"payload": "{not json" + garbage.hex()[:40]}).encode()
        return body, {"Content-Type": FORM, "X-Slack-Request-Timestamp": ts,
                      "X-Slack-Signature": signature(SIGNING_SECRET, ts, body)}
    if how == 3:
        return b"text=help", {"Content-Type": FORM, "X-Slack-Request-Timestamp": "yesterday",
                              "X-Slack-Signature": signature(SIGNING_SECRET, "yesterday", "text=help")}
    if how == 4:
        return b"text=help", {"Content-Type": FORM, "X-Slack-Request-Timestamp": "\xe9\xff".encode("latin-1"),
                              "X-Slack-Signature": "v0=\xe9".encode("latin-1")}
    if how == 5:
        body = json.dumps({"type": "url_verification", "challenge": "x" * rng.randrange(5000)}).encode()
        return body, {"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts}
    if how == 6:  # signed payload of an unknown interaction type with missing fields
        body = urllib.parse.urlencode({"payload": json.dumps({"type": rng.choice(["", "x", None, 7])})}).encode()
        return body, {"Content-Type": FORM, "X-Slack-Request-Timestamp": ts,
                      "X-Slack-Signature": signature(SIGNING_SECRET, ts, body)}
    if how == 7:
        good = event_callback({"type": "app_mention", "user": "U1", "text": "hi", "channel": "C1", "ts": "1.0"})
        return good.body.encode()[: rng.randrange(1, len(good.body))], dict(good.headers)  # cut short
    if how == 8:
        good = block_action("bouncebot.approve_sender", "x")
        headers: dict[str, str | bytes] = dict(good.headers)
        headers["X-Slack-Request-Timestamp"] = ts + ".5"
        return good.body.encode(), headers
    body = ("text=" + "\u2603" * rng.randrange(1, 50)).encode("utf-16")
    return body, {"Content-Type": FORM + "; charset=utf-16", "X-Slack-Request-Timestamp": ts,
                  "X-Slack-Signature": signature("nope", ts, body)}


def _fuzz(app: AppServer, fake: FakeSlackAPI, counts: dict[str, int], valid: int,
          seed: int) -> tuple[dict[str, Counter[int]], int, float]:
    """Send the bad requests of `counts` and `valid` good ones, shuffled; returns statuses by kind."""
    rng = random.Random(seed)
    served_once: list[SignedRequest] = []
    makers: dict[str, Callable[[], tuple[bytes, dict[str, str | bytes]]]] = {
        "forged": lambda: _forged(rng, fake),
        "expired": lambda: _expired(rng, fake),
        "malformed": lambda: _malformed(rng, fake),
    }
    plan = [kind for kind, n in counts.items() for _ in range(n)] + ["valid"] * valid
    rng.shuffle(plan)
    statuses: dict[str, Counter[int]] = {kind: Counter() for kind in [*counts, "valid"]}
    started = time.monotonic()
    valid_sent = 0
    for kind in plan:
        if kind == "valid" or (kind == "replayed" and not served_once):
            request = _valid(rng, fake, valid_sent)
            valid_sent += 1
            statuses["valid"][_raw(app.port, request.body.encode(), dict(request.headers))] += 1
            served_once.append(request)
            if kind == "valid":
                continue
        if kind == "replayed":
            again = rng.choice(served_once)
            status = _raw(app.port, again.body.encode(), dict(again.headers))
        else:
            body, headers = makers[kind]()
            status = _raw(app.port, body, headers)
        statuses[kind][status] += 1
    seconds = time.monotonic() - started
    fake.wait_for("response_url", count=valid_sent, timeout=60)
    fake.settle(quiet=1.0)
    return statuses, valid_sent, seconds


def _check(fake: FakeSlackAPI, statuses: dict[str, Counter[int]], counts: dict[str, int], valid_sent: int,
           allowed: set[int]) -> None:
    assert statuses["valid"] == {200: valid_sent}, statuses["valid"]
    for kind in counts:
        assert sum(statuses[kind].values()) == counts[kind]
        assert set(statuses[kind]) <= allowed, (kind, statuses[kind])
    answered = {c.path for c in fake.calls_to("response_url")}
    assert answered == {f"/response/valid{n}" for n in range(valid_sent)}  # each valid one, no bad one
    assert len(fake.calls_to("response_url")) == valid_sent
    assert set(fake.methods()) <= {"response_url"}, Counter(fake.methods())  # nothing else was done


SIGNED = {k: COUNTS[k] for k in ("forged", "expired", "replayed")}
MALFORMED = {"malformed": COUNTS["malformed"]}
#: A signed request of a type no listener takes is answered 404 by bolt: refused, and no work done either.
MALFORMED_OK = {400, 401, 404, 413}


@pytest.mark.slow
def test_forged_expired_and_replayed_requests_all_refused_valid_ones_served(
        server: tuple[AppServer, FakeSlackAPI]) -> None:
    app, fake = server
    statuses, valid_sent, seconds = _fuzz(app, fake, SIGNED, VALID, seed=1000)
    _check(fake, statuses, SIGNED, valid_sent, {401})
    report("signed_request_fuzzing", refused={k: dict(statuses[k]) for k in SIGNED},
           bad_total=sum(SIGNED.values()), valid_served=valid_sent, seconds=round(seconds, 1))


def test_malformed_requests_refused_by_the_served_app(server: tuple[AppServer, FakeSlackAPI]) -> None:
    """Before handlers.request_guard was wired in, 201 of 250 such requests ended as HTTP 500."""
    app, fake = server
    statuses, valid_sent, seconds = _fuzz(app, fake, MALFORMED, VALID // 3, seed=2000)
    _check(fake, statuses, MALFORMED, valid_sent, MALFORMED_OK)
    report("malformed_request_fuzzing", refused=dict(statuses["malformed"]), valid_served=valid_sent,
           seconds=round(seconds, 1))
