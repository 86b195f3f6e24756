"""A deterministic Postfix log of any length, shaped like ../shared/corpus/postfix (classic syslog stamps).

Messages overlap (a pool of open queue ids), so parser state is pending at every batch boundary and at
every kill point; the log also carries NOQUEUE rejects (some repeated within one second, which the source
keys must tell apart), deferrals followed by later deliveries, bounces with remote replies, chatter from
other programs and malformed lines. Same seed and size -> byte-identical file.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

HOST = "mx1"
LOCAL = ("northwind-traders.example", "contoso-mail.example")
REMOTE = ("galway-marine.example", "hanse-logistik.example", "lisbon-textiles.example",
          "riverbend-consulting.example", "kyoto-ceramics.example", "patagonia-outfitters.example")
USERS = ("amelia.ross", "liam.baker", "k.bauer", "ops", "p.oconnell", "m.ferreira", "oliver.grant", "sales")
BOUNCES = (
    ("5.1.1", "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table"),
    ("5.7.1", "554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using zen.spamhaus.org"),
    ("5.2.2", "552 5.2.2 <{rcpt}>: Mailbox full"),
    ("5.7.26", "550 5.7.26 Unauthenticated email from {sdom} is not accepted due to domain's DMARC policy"),
)
REJECTS = (
    "RCPT from {host}[{ip}]: 554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org; "
    "https://www.spamhaus.org/query/ip/{ip}; from=<{sender}> to=<{rcpt}> proto=ESMTP helo=<{host}>",
    "RCPT from {host}[{ip}]: 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox "
    "table; from=<{sender}> to=<{rcpt}> proto=ESMTP helo=<{host}>",
    "MAIL from {host}[{ip}]: 552 5.3.4 Message size exceeds fixed limit; from=<{sender}> proto=ESMTP "
    "helo=<{host}>",
)
JUNK = (
    "garbage without any stamp",
    "Nov 99 25:61:61 mx1 postfix/smtpd[1]: broken stamp",
    "{stamp} {host} kernel: [12345.678] eth0: link up",
    "{stamp} {host} postfix/smtpd[664]",
    "\t\x00\x01 binary noise \xff",
)


class _Clock:
    def __init__(self, start: datetime, rng: random.Random) -> None:
        self.now = start
        self.rng = rng

    def tick(self) -> str:
        if self.rng.random() < 0.35:
            self.now += timedelta(seconds=1)
        # Classic syslog stamp in this machine's local time, day space-padded ("Nov  3").
        local = self.now.astimezone()
        return f"{local:%b} {local.day:2d} {local:%H:%M:%S}"


def _message(rng: random.Random, serial: int) -> list[str]:
    """The lines of one message (without stamp and host); the caller interleaves and stamps them."""
    qid = f"{0x100000000 + serial * 7919:X}"[:12]
    pid = 600 + serial % 97
    sdom, rdom = rng.choice(REMOTE + LOCAL), rng.choice(REMOTE + LOCAL)
    sender, ip = f"{rng.choice(USERS)}@{sdom}", f"127.0.{serial % 5}.{serial % 250 + 1}"
    host = f"mail.{sdom}"
    if rng.random() < 0.15:
        rcpt = f"{rng.choice(USERS)}@{rng.choice(LOCAL)}"
        reject = rng.choice(REJECTS).format(host=host, ip=ip, sender=sender, rcpt=rcpt)
        lines = [f"postfix/smtpd[{pid}]: connect from {host}[{ip}]",
                 f"postfix/smtpd[{pid}]: NOQUEUE: reject: {reject}"]
        if rng.random() < 0.3:  # the client retries the same RCPT in the same second: two events, two keys
            lines.append(lines[-1])
        lines.append(f"postfix/smtpd[{pid}]: disconnect from {host}[{ip}] ehlo=1 mail=1 rcpt=0/1 quit=1")
        return lines
    nrcpt = rng.choice((1, 1, 1, 2, 3))
    rcpts = [f"{rng.choice(USERS)}.{n}@{rdom}" for n in range(nrcpt)]
    lines = [f"postfix/smtpd[{pid}]: connect from {host}[{ip}]",
             f"postfix/smtpd[{pid}]: {qid}: client={host}[{ip}]",
             f"postfix/cleanup[{pid + 1}]: {qid}: message-id=<{serial}.{qid}@{sdom}>",
             f"postfix/qmgr[660]: {qid}: from=<{sender}>, size={rng.randint(500, 90000)}, nrcpt={nrcpt} "
             "(queue active)",
             f"postfix/smtpd[{pid}]: disconnect from {host}[{ip}] ehlo=1 mail=1 rcpt={nrcpt} data=1 quit=1"]
    relay = f"mail.{rdom}[127.0.2.{serial % 200 + 1}]:25"
    for rcpt in rcpts:
        roll = rng.random()
        if roll < 0.1:
            lines.append(f"postfix/smtp[{pid + 2}]: {qid}: to=<{rcpt}>, relay={relay}, delay=3, "
                         "delays=0/0/3/0, dsn=4.4.1, status=deferred (connect to mail: Connection timed out)")
        if roll < 0.25:
            dsn, reply = rng.choice(BOUNCES)
            said = reply.format(rcpt=rcpt, sdom=sdom)
            lines.append(f"postfix/smtp[{pid + 2}]: {qid}: to=<{rcpt}>, relay={relay}, delay=0.4, "
                         f"delays=0/0/0.2/0.2, dsn={dsn}, status=bounced (host {relay[:-3]} said: {said} "
                         "(in reply to RCPT TO command))")
        else:
            lines.append(f"postfix/smtp[{pid + 2}]: {qid}: to=<{rcpt}>, relay={relay}, delay=0.2, "
                         "delays=0/0/0.1/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as X1)")
    lines.append(f"postfix/qmgr[660]: {qid}: removed")
    return lines


def lines(count: int, *, seed: int = 8, start: datetime | None = None, open_messages: int = 40) -> Iterator[str]:
    """`count` log lines; about 40 messages are in flight at any time."""
    rng = random.Random(seed)
    clock = _Clock(start or datetime.now(UTC).replace(microsecond=0) - timedelta(days=2), rng)
    pool: list[list[str]] = []
    serial = 0
    emitted = 0
    while emitted < count:
        while len(pool) < open_messages:
            serial += 1
            pool.append(_message(rng, serial))
        if rng.random() < 0.005:
            junk = rng.choice(JUNK).format(stamp=clock.tick(), host=HOST)
            yield junk
            emitted += 1
            continue
        pick = rng.randrange(len(pool))
        body = pool[pick].pop(0)
        if not pool[pick]:
            pool.pop(pick)
        yield f"{clock.tick()} {HOST} {body}"
        emitted += 1


def write_log(path: Path, count: int, *, seed: int = 8) -> Path:
    """Write `count` lines to `path` (UTF-8, one per line) and return it."""
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as out:
        for line in lines(count, seed=seed):
            out.write(line)
            out.write("\n")
    return path


def kill_log(path: Path, count: int, *, seed: int = 8) -> Path:
    """The kill test's log: bench/postfix_synth.py's MX mix (the benchmark's generator: recipient-limit
    overruns, expiries, bounce notices, greylisting), cut to exactly `count` lines, with this module's hazards
    mixed in: malformed lines and other programs' chatter (0.5 %), and NOQUEUE rejects repeated within their
    second (30 % of them), whose source keys must stay apart across a resume."""
    from itertools import islice

    from bench.postfix_synth import generate

    rng = random.Random(seed)
    # ~7 lines a message: enough messages for `count` lines, stamps ending an hour before now.
    messages = count // 6 + 100
    start = (datetime.now(UTC) - timedelta(seconds=messages / 20.0 + 700 + 3600)).replace(microsecond=0)
    written = 0
    with open(path, "w", encoding="utf-8") as out:
        for line in islice(generate(messages, seed=seed, start=start), count):
            if written >= count:
                break
            out.write(line + "\n")
            written += 1
            stamp = line[:15]
            if written < count and "NOQUEUE: reject:" in line and rng.random() < 0.3:
                out.write(line + "\n")
                written += 1
            if written < count and rng.random() < 0.005:
                out.write(rng.choice(JUNK).format(stamp=stamp, host=HOST) + "\n")
                written += 1
    if written < count:
        raise ValueError(f"the generator gave only {written} lines; raise the message count")
    return path
