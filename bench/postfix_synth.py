"""A realistic synthetic Postfix log: concurrent sessions interleaved in time, the mix of a small MX.

Used by bench/ingest.py and by the resume-after-SIGKILL test. Deterministic for a given seed. The mix per
message: inbound accepted and delivered (1-3 recipients), NOQUEUE rejects (unknown user, DNSBL, sender
access map, HELO, size at MAIL FROM), recipient-limit overruns, outbound delivered, bounced (several remote
replies, with the bounce notice delivered back), deferred (greylisting then sent, or connection trouble).
"""

from __future__ import annotations

import heapq
import os
import random
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

OUR = "example-corp.test"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
REMOTE_DOMAINS = [f"partner{i}.example" for i in range(400)] + ["gmail.com", "outlook.com", "yahoo.com"]
USERS = [f"user{i}" for i in range(300)]
BOUNCES = (
    ("5.1.1", "RCPT TO", "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table"),
    ("5.2.2", "end of DATA", "552 5.2.2 <{rcpt}>: Mailbox full, quota exceeded"),
    ("5.7.26", "end of DATA", "550-5.7.26 Unauthenticated email from example-corp.test is not accepted due to "
     "550-5.7.26 domain's DMARC policy. 550 5.7.26  https://support.google.com/mail/?p=DmarcRejection x1 - gsmtp"),
    ("5.7.606", "RCPT TO", "550 5.7.606 Access denied, banned sending IP [198.51.100.5]. To request removal from "
     "this list please visit https://sender.office.com/ and follow the directions."),
    ("5.7.1", "end of DATA", "550 5.7.1 Message rejected as spam by Content Filtering."),
    ("5.7.1", "RCPT TO", "554 5.7.1 Service unavailable; Client host [198.51.100.5] blocked using "
     "b.barracudacentral.org; http://www.barracudanetworks.com/reputation/?pr=1&ip=198.51.100.5"),
)
KINDS = (  # (kind, weight)
    ("in_ok", 52), ("in_unknown", 9), ("in_dnsbl", 6), ("in_sender", 3), ("in_helo", 2), ("in_size", 1),
    ("in_limit", 1), ("out_ok", 16), ("out_bounce", 5), ("out_defer", 3), ("out_expire", 2),
)


class _Log:
    """Collects (time, seq, text) and yields them in time order."""

    def __init__(self) -> None:
        self.heap: list[tuple[float, int, str]] = []
        self.seq = 0

    def add(self, when: float, text: str) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (when, self.seq, text))

    def until(self, when: float) -> Iterator[tuple[float, str]]:
        while self.heap and self.heap[0][0] <= when:
            item = heapq.heappop(self.heap)
            yield item[0], item[2]


def _stamp(base: datetime, seconds: float) -> str:
    moment = base + timedelta(seconds=seconds)
    return f"{MONTHS[moment.month - 1]} {moment.day:2d} {moment:%H:%M:%S}"


def _queue_ids(rng: random.Random, first: int) -> Callable[[], str]:
    """Postfix-looking queue ids, rising like a real queue's (drawn from `rng`, so a seed gives the same log)."""
    number = first

    def qid() -> str:
        nonlocal number
        number += rng.randint(1, 40)
        return f"{rng.randint(0x1000, 0xFFFFF):05X}{number:06X}"

    return qid


def _arrival(rng: random.Random, number: int, rate: float, kinds: Sequence[str], weights: Sequence[int],
             first_pid: int, senders: Sequence[str]) -> tuple[float, str, str, str, str, str, str, str]:
    """What every message draws first, in one order: (time, smtpd, kind, client IP, remote domain, client host,
    remote address, our address)."""
    t = number / rate + rng.random() * 0.04
    smtpd = f"postfix/smtpd[{first_pid + number % 25}]"
    kind = rng.choices(kinds, weights)[0]
    ip = f"198.51.{100 + rng.randint(0, 3)}.{rng.randint(1, 254)}"
    domain = rng.choice(REMOTE_DOMAINS)
    outside = f"{rng.choice(senders)}@{domain}"
    local = f"{rng.choice(USERS)}@{OUR}"
    return t, smtpd, kind, ip, domain, f"mail.{domain}", outside, local


def generate(n_messages: int, *, seed: int = 1, start: datetime | None = None,
             rate: float = 20.0) -> Iterator[str]:
    """Yield the log lines (without newline) of n_messages messages arriving at `rate` per second."""
    rng = random.Random(seed)
    start = start or datetime(2026, 11, 1, tzinfo=UTC)
    log = _Log()
    kinds, weights = zip(*KINDS, strict=True)
    host, qid = "mx1", _queue_ids(rng, 0x160000)
    for number in range(n_messages):
        t, smtpd, kind, ip, domain, client, outside, local = _arrival(
            rng, number, rate, kinds, weights, 2000, ("info", "sales", "news", "j.doe", "billing"))
        if kind.startswith("in_"):
            log.add(t, f"{host} {smtpd}: connect from {client}[{ip}]")
            end = t + 0.2
            if kind in ("in_ok", "in_limit"):
                q = qid()
                rcpts = sorted({f"{rng.choice(USERS)}@{OUR}" for _ in range(rng.randint(1, 3))})
                asked = len(rcpts) + (rng.randint(1, 4) if kind == "in_limit" else 0)
                log.add(t + 0.05, f"{host} {smtpd}: {q}: client={client}[{ip}]")
                log.add(t + 0.08, f"{host} postfix/cleanup[1500]: {q}: message-id=<{number}.{seed}@{domain}>")
                log.add(t + 0.1, f"{host} postfix/qmgr[1400]: {q}: from=<{outside}>, size={rng.randint(900, 90000)}, "
                                 f"nrcpt={len(rcpts)} (queue active)")
                for i, rcpt in enumerate(rcpts):
                    log.add(t + 0.15 + i * 0.01, f"{host} postfix/local[1600]: {q}: to=<{rcpt}>, relay=local, "
                            "delay=0.05, delays=0.03/0/0/0.02, dsn=2.0.0, status=sent (delivered to mailbox)")
                log.add(t + 0.2, f"{host} postfix/qmgr[1400]: {q}: removed")
                stats = f"ehlo=1 mail=1 rcpt={asked} data=1 quit=1 commands={asked + 4}"
            else:
                reply, stage, to = {
                    "in_unknown": (f"550 5.1.1 <{local}>: Recipient address rejected: User unknown in local "
                                   "recipient table", "RCPT", local),
                    "in_dnsbl": (f"554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org; "
                                 f"https://www.spamhaus.org/query/ip/{ip}", "RCPT", local),
                    "in_sender": (f"554 5.7.1 <{outside}>: Sender address rejected: Access denied", "RCPT", local),
                    "in_helo": ("504 5.5.2 <PC-1234>: Helo command rejected: need fully-qualified hostname",
                                "RCPT", local),
                    "in_size": ("552 5.3.4 Message size exceeds fixed limit", "MAIL", None),
                }[kind]
                to_part = f" to=<{to}>" if to else ""
                log.add(t + 0.1, f"{host} {smtpd}: NOQUEUE: reject: {stage} from {client}[{ip}]: {reply}; "
                                 f"from=<{outside}>{to_part} proto=ESMTP helo=<{client}>")
                stats = "ehlo=1 mail=1 rcpt=0/1 rset=1 quit=1 commands=4/5"
            log.add(end, f"{host} {smtpd}: disconnect from {client}[{ip}] {stats}")
        else:
            q = qid()
            rcpt = f"{rng.choice(('ops', 'info', 'a.b', 'team'))}{rng.randint(1, 99)}@{domain}"
            relay = f"mx.{domain}[203.0.113.{rng.randint(1, 254)}]:25"
            gw = "groupware.example-corp.test[10.20.0.15]"
            log.add(t, f"{host} {smtpd}: connect from {gw}")
            log.add(t + 0.02, f"{host} {smtpd}: {q}: client={gw}")
            log.add(t + 0.05, f"{host} postfix/cleanup[1500]: {q}: message-id=<{number}.{seed}@{OUR}>")
            log.add(t + 0.07, f"{host} postfix/qmgr[1400]: {q}: from=<{local}>, size={rng.randint(900, 90000)}, "
                              "nrcpt=1 (queue active)")
            log.add(t + 0.08, f"{host} {smtpd}: disconnect from {gw} ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5")
            head = f"{host} postfix/smtp[{1700 + number % 10}]: {q}: to=<{rcpt}>, relay={relay}, delay=0.4, " \
                   "delays=0.01/0/0.2/0.19, "
            if kind == "out_ok":
                log.add(t + 0.4, head + "dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4Hk2mP0zQ7)")
            elif kind == "out_bounce":
                dsn, command, reply = rng.choice(BOUNCES)
                log.add(t + 0.4, head + f"dsn={dsn}, status=bounced (host {relay[:-3]} said: "
                                        f"{reply.format(rcpt=rcpt)} (in reply to {command} command))")
                notice = qid()
                log.add(t + 0.41, f"{host} postfix/cleanup[1500]: {notice}: message-id=<bounce.{number}@mx1.{OUR}>")
                log.add(t + 0.42, f"{host} postfix/qmgr[1400]: {notice}: from=<>, size=4000, nrcpt=1 (queue active)")
                log.add(t + 0.42, f"{host} postfix/bounce[1800]: {q}: sender non-delivery notification: {notice}")
                log.add(t + 0.45, f"{host} postfix/local[1600]: {notice}: to=<{local}>, relay=local, delay=0, "
                                  "delays=0/0/0/0, dsn=2.0.0, status=sent (delivered to mailbox)")
                log.add(t + 0.46, f"{host} postfix/qmgr[1400]: {notice}: removed")
            elif kind == "out_defer":
                log.add(t + 0.4, head + f"dsn=4.7.1, status=deferred (host {relay[:-3]} said: 451 4.7.1 Greylisted, "
                                        "please try again in 300 seconds (in reply to RCPT TO command))")
                log.add(t + 300.4, head + "dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 7Qw9Er2Ty4)")
            else:  # out_expire
                log.add(t + 0.4, f"{host} postfix/smtp[1700]: connect to {relay[:-3]}:25: Connection timed out")
                log.add(t + 0.41, head.replace(f"relay={relay}", "relay=none")
                        + f"dsn=4.4.1, status=deferred (connect to {relay[:-3]}:25: Connection timed out)")
                log.add(t + 600.5, f"{host} postfix/qmgr[1400]: {q}: from=<{local}>, "
                                   "status=expired, returned to sender")
            log.add(t + 600.6, f"{host} postfix/qmgr[1400]: {q}: removed")
        for when, text in log.until(t - 1):
            yield f"{_stamp(start, when)} {text}"
    for when, text in log.until(float("inf")):
        yield f"{_stamp(start, when)} {text}"


def write_log(path: str | Path, n_messages: int, *, seed: int = 1) -> int:
    """Write the log to `path` (stamps ending before now, mtime = its last line); returns the line count."""
    span = n_messages / 20.0 + 700
    start = (datetime.now(UTC) - timedelta(seconds=span + 3600)).replace(microsecond=0)
    lines = 0
    with open(path, "w", encoding="utf-8") as out:
        chunk: list[str] = []
        for line in generate(n_messages, seed=seed, start=start):
            chunk.append(line)
            if len(chunk) >= 10_000:
                out.write("\n".join(chunk) + "\n")
                lines += len(chunk)
                chunk.clear()
        if chunk:
            out.write("\n".join(chunk) + "\n")
            lines += len(chunk)
    end = (start + timedelta(seconds=span)).timestamp()
    os.utime(path, (end, end))
    return lines


#: The outcomes `generate` has no line for, each with its weight in `generate_more` (the traffic report's
#: comparison with pflogsumm needs every one).
MORE_KINDS = (
    ("forward", 3), ("warn", 2), ("smtpd_hold", 1), ("smtpd_discard", 1), ("header_reject", 2),
    ("header_warn", 1), ("header_hold", 1), ("header_discard", 1), ("pickup", 3), ("abandoned", 1),
    ("discard_agent", 1),
)


def generate_more(n_messages: int, *, seed: int = 2, start: datetime | None = None,
                  rate: float = 20.0) -> Iterator[str]:
    """Yield log lines of n_messages messages with the outcomes `generate` lacks: alias forwards, reject
    warnings, smtpd and header-check holds/discards/rejects/warnings, local submission (pickup), sessions that
    stop before DATA, and the discard(8) transport."""
    rng = random.Random(seed)
    start = start or datetime(2026, 11, 1, tzinfo=UTC)
    log = _Log()
    kinds, weights = zip(*MORE_KINDS, strict=True)
    host, qid = "mx1", _queue_ids(rng, 0x960000)
    for number in range(n_messages):
        t, smtpd, kind, ip, domain, client, outside, local = _arrival(
            rng, number, rate, kinds, weights, 3000, ("info", "sales", "news"))
        tail = f"from=<{outside}> to=<{local}> proto=ESMTP helo=<{client}>"
        q = qid()
        size = rng.randint(900, 90000)
        if kind == "pickup":
            log.add(t, f"{host} postfix/pickup[1300]: {q}: uid=1000 from=<{local.split('@')[0]}>")
            log.add(t + 0.02, f"{host} postfix/cleanup[1500]: {q}: message-id=<p{number}.{seed}@{OUR}>")
            log.add(t + 0.05, f"{host} postfix/qmgr[1400]: {q}: from=<{local}>, size={size}, nrcpt=1 (queue active)")
            log.add(t + 0.3, f"{host} postfix/smtp[1700]: {q}: to=<ops@{domain}>, relay=mx.{domain}[203.0.113.9]:25,"
                             " delay=0.3, delays=0.05/0/0.1/0.15, dsn=2.0.0, status=sent (250 2.0.0 Ok)")
            log.add(t + 0.31, f"{host} postfix/qmgr[1400]: {q}: removed")
            continue
        log.add(t, f"{host} {smtpd}: connect from {client}[{ip}]")
        if kind in ("warn", "smtpd_hold", "smtpd_discard"):
            action, reply = {
                "warn": ("reject_warning", "450 4.7.1 Client host rejected: cannot find your reverse hostname"),
                "smtpd_hold": ("hold", f"<{outside}>: Sender address triggers HOLD action"),
                "smtpd_discard": ("discard", f"<{outside}>: Sender address triggers DISCARD action"),
            }[kind]
            prefix = "NOQUEUE" if kind == "warn" else q
            if kind != "warn":
                log.add(t + 0.03, f"{host} {smtpd}: {q}: client={client}[{ip}]")
            log.add(t + 0.05, f"{host} {smtpd}: {prefix}: {action}: RCPT from {client}[{ip}]: {reply}; {tail}")
            if kind == "warn":
                log.add(t + 0.06, f"{host} {smtpd}: {q}: client={client}[{ip}]")
            log.add(t + 0.08, f"{host} postfix/cleanup[1500]: {q}: message-id=<m{number}.{seed}@{domain}>")
            if kind != "smtpd_hold":
                log.add(t + 0.1, f"{host} postfix/qmgr[1400]: {q}: from=<{outside}>, size={size}, nrcpt=1 "
                                 "(queue active)")
                agent = "postfix/discard[1650]" if kind == "smtpd_discard" else "postfix/local[1600]"
                relay, text = ("none", "discarded") if kind == "smtpd_discard" else ("local", "delivered to mailbox")
                log.add(t + 0.15, f"{host} {agent}: {q}: to=<{local}>, relay={relay}, delay=0.1, delays=0.1/0/0/0, "
                                  f"dsn=2.0.0, status=sent ({text})")
                log.add(t + 0.16, f"{host} postfix/qmgr[1400]: {q}: removed")
            log.add(t + 0.2, f"{host} {smtpd}: disconnect from {client}[{ip}] ehlo=1 mail=1 rcpt=1 data=1 quit=1 "
                             "commands=5")
            continue
        log.add(t + 0.03, f"{host} {smtpd}: {q}: client={client}[{ip}]")
        if kind == "abandoned":
            log.add(t + 0.2, f"{host} {smtpd}: disconnect from {client}[{ip}] ehlo=1 mail=1 rcpt=1 quit=1 commands=4")
            continue
        log.add(t + 0.08, f"{host} postfix/cleanup[1500]: {q}: message-id=<m{number}.{seed}@{domain}>")
        if kind.startswith("header_"):
            action = {"header_reject": "reject", "header_warn": "warning", "header_hold": "hold",
                      "header_discard": "discard"}[kind]
            text = "5.7.1 message content rejected" if action == "reject" else f"{action} by header check"
            log.add(t + 0.09, f"{host} postfix/cleanup[1500]: {q}: {action}: header Subject: offer {number} from "
                              f"{client}[{ip}]; {tail}: {text}")
            if action == "reject":
                log.add(t + 0.2, f"{host} {smtpd}: disconnect from {client}[{ip}] ehlo=1 mail=1 rcpt=1 data=0/1 "
                                 "quit=1 commands=4/5")
                continue
        if kind in ("header_hold", "header_discard"):  # held, or dropped by cleanup: qmgr never sees it
            log.add(t + 0.2, f"{host} {smtpd}: disconnect from {client}[{ip}] ehlo=1 mail=1 rcpt=1 data=1 quit=1 "
                             "commands=5")
            continue
        log.add(t + 0.1, f"{host} postfix/qmgr[1400]: {q}: from=<{outside}>, size={size}, nrcpt=1 (queue active)")
        if kind == "forward":
            log.add(t + 0.15, f"{host} postfix/local[1600]: {q}: to=<{local}>, relay=local, delay=0.1, "
                              f"delays=0.1/0/0/0, dsn=2.0.0, status=sent (forwarded as 1{q[1:]})")
        else:  # header_warn, discard_agent: delivered, or dropped by discard(8)
            agent, relay, text = (("postfix/discard[1650]", "none", "discarded") if kind == "discard_agent"
                                  else ("postfix/local[1600]", "local", "delivered to mailbox"))
            log.add(t + 0.15, f"{host} {agent}: {q}: to=<{local}>, relay={relay}, delay=0.1, delays=0.1/0/0/0, "
                              f"dsn=2.0.0, status=sent ({text})")
        log.add(t + 0.16, f"{host} postfix/qmgr[1400]: {q}: removed")
        log.add(t + 0.2, f"{host} {smtpd}: disconnect from {client}[{ip}] ehlo=1 mail=1 rcpt=1 data=1 quit=1 "
                         "commands=5")
        for when, text in log.until(t - 1):
            yield f"{_stamp(start, when)} {text}"
    for when, text in log.until(float("inf")):
        yield f"{_stamp(start, when)} {text}"


def generate_every_outcome(n_messages: int, *, seed: int = 1, start: datetime | None = None) -> Iterator[str]:
    """`generate`'s mix for 90% of n_messages, then `generate_more`'s outcomes for the rest, in time order."""
    start = start or datetime(2026, 11, 1, tzinfo=UTC)
    main = n_messages * 9 // 10
    yield from generate(main, seed=seed, start=start)
    later = start + timedelta(seconds=main / 20.0 + 700)
    yield from generate_more(n_messages - main, seed=seed + 1, start=later)


def main(argv: list[str] | None = None) -> int:
    """`python3 bench/postfix_synth.py MESSAGES OUTPUT [--seed N]`: write a synthetic log for a benchmark or a demo."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="bench/postfix_synth.py",
        description="Write a synthetic Postfix mail log (a small MX's mix of concurrent sessions, rejects, bounces, "
                    "deferrals), deterministic for a seed, ending about an hour before now.",
        epilog="Example: python3 bench/postfix_synth.py 100000 /tmp/mail.log && "
               "bouncebot ingest postfix /tmp/mail.log")
    parser.add_argument("messages", type=_positive, help="how many messages (about 7 log lines each)")
    parser.add_argument("output", type=Path, help="the log file to write ('-' for standard output)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1): the same seed, the same log")
    args = parser.parse_args(argv)
    if str(args.output) == "-":
        import sys

        for line in generate(args.messages, seed=args.seed):
            sys.stdout.write(line + "\n")
        return 0
    if not args.output.parent.is_dir():
        parser.error(f"the folder for {args.output} does not exist")
    lines = write_log(args.output, args.messages, seed=args.seed)
    print(f"wrote {lines:,} lines ({args.messages:,} messages) to {args.output}")
    return 0


def _positive(text: str) -> int:
    import argparse

    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


if __name__ == "__main__":
    raise SystemExit(main())
