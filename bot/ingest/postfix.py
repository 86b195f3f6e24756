"""Postfix logs -> tracking events: a streaming parser whose memory is bounded by the open queue ids.

Lines of one message share a queue id: smtpd `client=` -> cleanup `message-id=` -> qmgr `from= size= nrcpt=`
-> delivery agents `to= relay= dsn= status=` -> qmgr `removed`. Delivery lines become events at once, with
what the earlier lines told; `removed` forgets the message. Lines without a queue id are events of their
own (`NOQUEUE: reject:`, postscreen). Outcomes that are never logged as rejects are reconstructed:
recipients over smtpd_recipient_limit (the disconnect line's `rcpt=` against the queued `nrcpt=`),
message_size_limit hit without a declared SIZE (`warning: QID: queue file size limit exceeded`) and a client
lost during DATA (`lost connection after DATA`). Those two messages never reach qmgr: their sender and recipient
are known only from cleanup's `info:`/`warning:` lines of the same queue id, which may follow smtpd's line, so
their event waits for them (DOOM_WAIT log seconds, or `settle()` when the file has gone quiet).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any

from bot.events import TrackingEvent, split_domain
from bot.ingest import postfix_lines as pl
from bot.ingest.base import NO_EVENTS, KeyMaker, ParseStats
from bot.ingest.syslog import SyslogClock, split_header
from bot.reasons import classify, dnsbl_zone_in
from bot.reasons.normalize import neutral_form
from bot.vocab import Cause, Direction, Disposition, Side

SOURCE = "postfix"

#: Log seconds after which state nobody closed is dropped: queued messages live up to the queue lifetime
#: (5 days by default, deferred ones are retried and touched), the rest (smtpd sessions, unqueued
#: transactions, pending recipient-limit checks) minutes at most.
QUEUED_TTL = 7 * 86400
SHORT_TTL = 2 * 3600
#: How often (in log seconds) stale state is swept: by log time, so a resumed run sweeps where the first did.
SWEEP_EVERY = 600
#: How long (log seconds) the event of a message that never reached qmgr waits for cleanup's lines naming its
#: envelope; cleanup writes them within milliseconds of smtpd's line, before or after it.
DOOM_WAIT = 5.0

#: Reply texts repeat (greylisting, size limits, the same remote's wording), the more so in their neutral form
#: (bot.reasons.normalize.neutral_form: the recipient's local part and IPv4 addresses stood in for): classify each
#: one once.
@lru_cache(maxsize=4096)
def _classify(code: int | None, status: str | None, text: str | None, stage: str | None, side: str,
              disposition: str, host: str | None) -> tuple[str, str]:
    found = classify(smtp_code=code, enhanced_status=status, text=text, stage=stage, side=side,
                     disposition=disposition, host=host)
    return found.reason, found.cause


_zone_in = lru_cache(maxsize=4096)(dnsbl_zone_in)

#: A delivery's classification does not depend on its reply ("250 2.0.0 Ok: queued as 3F2A1...", unique per
#: message): asked once, so those replies never churn the memo above out of the refusals' repeated wordings.
_DELIVERED = _classify(None, None, None, None, "remote", "delivered", None)

_STATUS_DISPOSITION = {
    "sent": Disposition.DELIVERED, "bounced": Disposition.BOUNCED,
    "deferred": Disposition.DEFERRED, "expired": Disposition.EXPIRED,
}


class PostfixParser:
    """Feed it lines in log order; it returns the tracking events each line completes."""

    source = SOURCE

    def __init__(self, *, reference: datetime | None = None, tz: tzinfo | None = None,
                 local_domains: Iterable[str] = ()) -> None:
        self.clock = SyslogClock(reference, tz)
        self.stats = ParseStats()
        self.local_domains = tuple(d.lower().rstrip(".") for d in local_domains)
        self._keys = KeyMaker(SOURCE)
        self._queues: dict[str, dict[str, Any]] = {}    # "host/QID" -> what the message's lines said
        self._sessions: dict[str, dict[str, Any]] = {}  # "host/smtpd[pid]" -> queue ids of the session
        self._checks: dict[str, dict[str, Any]] = {}    # recipient-limit checks waiting for qmgr lines
        self._doomed: dict[str, float] = {}             # "host/QID" never queued -> log time its event is due
        self._local_cache: dict[str, bool] = {}
        #: Without Settings.local_domains: the domains the log shows are ours (mailbox deliveries, the senders of
        #: logged-in clients).
        self._learned: set[str] = set()
        #: Relays ("127.0.0.1[127.0.0.1]:10024") that handed mail back to this Postfix: after-queue content filters.
        self._filters: set[str] = set()
        self._mids: dict[str, str] = {}  # "<message-id>" -> "host/QID" of the last queued message that had it
        self._holding: set[str] = set()  # "host/QID" of first queue ids holding their copy's events
        self._daemons: dict[str, str] = {}  # "postfix/smtpd[664]" -> "smtpd" ("" for other programs)
        self._now = 0.0
        self._next_sweep = 0.0
        self._last_stamp = ""

    # -- the protocol --------------------------------------------------------------------------------

    def feed(self, line: str) -> Sequence[TrackingEvent]:
        stats = self.stats
        stats.lines += 1
        try:
            if line[:1].isalpha():  # the common case, inline: classic stamp, host, tag
                stamp, when = self.clock.classic(line[:15])
                host, _, rest = line[16:].partition(" ")
                tag, sep, message = rest.partition(": ")
                if not sep or not tag:
                    raise ValueError("no program tag")
            else:
                stamp, when, host, tag, message = split_header(line, self.clock)
        except ValueError:
            stats.skip("malformed", line)
            return NO_EVENTS
        due: list[TrackingEvent] | None = None
        if stamp is not self._last_stamp:
            self._last_stamp = stamp
            self._now = when.timestamp()
            if self._now >= self._next_sweep:
                self._sweep()
            if self._doomed:
                due = self._due(self._now)
        daemon = self._daemons.get(tag)
        if daemon is None:
            daemon = _daemon_of(tag)
            if len(self._daemons) < 50_000:  # pids recycle; the cache only bounds the lookups
                self._daemons[tag] = daemon
        if not daemon:
            stats.skip("other program", line)
            return NO_EVENTS
        ctx = (line, stamp, when, host, tag)
        head = message[:1]
        if head == "N" and message.startswith("NOQUEUE: "):
            events = self._action(ctx, None, message[9:])
        elif head == "w" and message.startswith("warning: "):
            events = self._warning(ctx, message[9:])
        elif daemon == "smtpd" and head in "cd" and message.startswith(("connect from ", "disconnect from ")):
            abandoned = self._received_abandoned(ctx) if head == "d" else NO_EVENTS
            events = self._session(ctx, message)
            if abandoned:
                events = (*abandoned, *events)
        elif daemon == "smtpd" and head in "lt" and message.startswith(("lost connection after ", "timeout after ")):
            events = self._lost(ctx, message)
        else:
            qid, sep, body = message.partition(": ")
            if not sep or not pl.QUEUE_ID.fullmatch(qid):
                events = NO_EVENTS  # daemon chatter: statistics, lost connection, TLS, anvil...
            else:
                events = self._queue_line(ctx, daemon, f"{host}/{qid}", qid, body)
        if due:
            events = [*due, *events]
        if events:
            stats.events += len(events)
        return events

    def settle(self) -> Sequence[TrackingEvent]:
        """The log has gone quiet (no line for a while): the events still waiting for lines are made now."""
        events = self._due(float("inf"))
        self.stats.events += len(events)
        for qkey in sorted(self._holding):
            queue = self._queues.get(qkey)
            if queue is not None:
                held = self._release(queue)
                self.stats.events += len(held)
                events = [*events, *held]
        self._holding.clear()
        return events

    def snapshot(self) -> dict[str, Any]:
        return {"queues": self._queues, "sessions": self._sessions, "checks": self._checks,
                "doomed": self._doomed, "keys": self._keys.snapshot(), "now": self._now,
                "learned": sorted(self._learned), "filters": sorted(self._filters), "mids": self._mids,
                "holding": sorted(self._holding),
                "next_sweep": self._next_sweep}

    def restore(self, state: dict[str, Any]) -> None:
        self._queues = dict(state.get("queues") or {})
        self._sessions = dict(state.get("sessions") or {})
        self._checks = dict(state.get("checks") or {})
        self._doomed = {str(k): float(v) for k, v in (state.get("doomed") or {}).items()}
        self._keys.restore(state.get("keys") or {})
        self._learned = set(state.get("learned") or ())
        self._filters = set(state.get("filters") or ())
        self._mids = dict(state.get("mids") or {})
        self._holding = set(state.get("holding") or ())
        self._now = float(state.get("now") or 0.0)
        self._next_sweep = float(state.get("next_sweep") or 0.0)

    @property
    def open_queues(self) -> int:
        return len(self._queues)

    # -- lines with a queue id -----------------------------------------------------------------------

    def _queue_line(self, ctx: tuple, daemon: str, qkey: str, qid: str, body: str) -> Sequence[TrackingEvent]:
        head = body[:3]
        if head == "to=":
            return self._delivery(ctx, daemon, qkey, qid, body)
        queue = self._queues.get(qkey)
        if head == "cli" and body.startswith("client="):
            match = pl.CLIENT.match(body)
            queue = self._queues[qkey] = {"t": self._now}
            if match:
                queue["ip"], queue["host"] = match.group("ip") or None, match.group("host") or None
            if ", sasl_username=" in body:  # submission: one of our users, logged in
                queue["auth"] = 1
            session_key = f"{ctx[3]}/{ctx[4]}"
            session = self._sessions.get(session_key) if daemon == "smtpd" else None
            if session is not None:
                session["qids"].append(qkey)
                queue["sess"] = session_key
            if daemon == "smtpd":
                self._note_received(ctx, queue)
            return NO_EVENTS
        if head == "mes" and body.startswith("message-id="):
            queue = self._touch(qkey, queue)
            queue["mid"] = body[11:].strip() or None
            if queue["mid"] and queue["mid"] != "<>" and pl.is_loopback(queue.get("ip")):
                self._reinjected(ctx[3], qid, queue)
            return NO_EVENTS
        if head == "fro" and daemon in ("qmgr", "oqmgr"):
            return self._qmgr(ctx, qkey, qid, queue, body)
        if body == "removed":
            gone = self._queues.pop(qkey, None)
            self._doomed.pop(qkey, None)
            if gone and "held" in gone:  # its copy's events waited for a hand-over line that never came
                self._holding.discard(qkey)
                return self._release(gone)
            return NO_EVENTS
        if daemon == "pickup" and body.startswith(pl.PICKUP_STARTS):
            queue = self._touch(qkey, queue)
            self._note_received(ctx, queue)
            match = pl.PICKUP.match(body)
            if match:
                queue["from"] = match.group("sender") or None
            return NO_EVENTS
        action, sep, rest = body.partition(": ")
        if sep and action in pl.ACTIONS:
            return self._action(ctx, qid, body)
        if sep and action in pl.NOTICES:
            notice = self._notice(ctx, daemon, qkey, queue, body, rest)
            if action in pl.WARN_ACTIONS:  # a rule that only warned: a `warned` event too (the traffic report)
                return (*self._action(ctx, qid, body), *notice)
            return notice
        if not body.startswith(pl.IGNORED):
            self.stats.unrecognise(pl.unknown_kind(daemon, body), ctx[0])
        return NO_EVENTS

    def _notice(self, ctx: tuple, daemon: str, qkey: str, queue: dict | None, body: str,
                rest: str) -> Sequence[TrackingEvent]:
        """An action that leaves the mail alone (INFO, WARN, ...): what it says of the envelope is kept, and the
        event of a message that never reached qmgr, waiting for this, is made."""
        found = pl.envelope(rest)
        if found is None:
            self.stats.unrecognise(pl.unknown_kind(daemon, body), ctx[0])
            return NO_EVENTS
        queue = self._touch(qkey, queue)
        if "from" not in queue:
            queue["from"] = found[0] or None
        if found[1] and "rcpt" not in queue:
            queue["rcpt"] = found[1]
        if qkey in self._doomed:
            return self._settle_doom(qkey)
        return NO_EVENTS

    def _touch(self, qkey: str, queue: dict[str, Any] | None) -> dict[str, Any]:
        if queue is None:
            queue = self._queues[qkey] = {}
        queue["t"] = self._now
        return queue

    def _qmgr(self, ctx: tuple, qkey: str, qid: str, queue: dict | None, body: str) -> Sequence[TrackingEvent]:
        match = pl.QMGR_FROM.match(body)
        if match is None:
            return NO_EVENTS
        queue = self._touch(qkey, queue)
        queue["from"] = match.group("sender") or None
        if queue.get("auth"):  # a logged-in client's sender: a domain of ours
            self._learn(queue["from"])
        if match.group("status") == "expired":
            return self._expired(ctx, qid, queue)
        queue["size"], queue["nrcpt"], queue["q"] = int(match.group("size")), int(match.group("nrcpt")), 1
        mid = queue.get("mid")
        if mid:  # a content filter's re-injection will carry the same id (stale entries: swept, and checked)
            self._mids[mid] = qkey
        received = self._received(qid, queue)
        if "sess" in queue:
            return (*received, *self._note_queued(ctx, qkey, queue))
        return received

    def _delivery(self, ctx: tuple, daemon: str, qkey: str, qid: str, body: str) -> Sequence[TrackingEvent]:
        match = pl.DELIVERY.match(body)
        if match is None:
            self.stats.unrecognise(pl.unknown_kind(daemon, body), ctx[0])
            return NO_EVENTS
        final, original, relay, dsn, status_word, text = match.group("rcpt", "orig", "relay", "dsn", "status", "text")
        disposition = _STATUS_DISPOSITION.get(status_word)
        if daemon in pl.LOCAL_AGENTS and final and not self.local_domains:
            self._learn(final)  # a domain our mailboxes are in (an address probe's line says so too)
        if disposition is None:  # deliverable/undeliverable: address-verification probes, not mail
            return NO_EVENTS
        if daemon == "discard" and disposition is Disposition.DELIVERED:
            disposition = Disposition.DELETED
        queue = self._touch(qkey, self._queues.get(qkey))
        # The recipient is the address the sender gave (orig_to, before alias expansion; for a copy a content filter
        # handed back, what the first queue id's line said); where it went decides the direction.
        final, original = final or None, original or None
        if original is None and final and "orig" in queue:
            original = queue["orig"].get(final)
        recipient = original or final
        reply, stage, remote = pl.split_relay_reply(text)
        code, status = pl.reply_codes(reply)
        reason = cause = None
        # (substring tests first: they spare the patterns a mailbox's reply, and a discard's is rare)
        handed = reply.rfind("queued as ") if reply else -1
        if disposition is Disposition.DELIVERED and reply and (
                handed >= 0 or "iscarded" in reply or "ISCARDED" in reply):
            discarded = pl.DISCARDED.match(reply)
            if discarded:  # accepted and dropped (a content filter's discard): why is in its words, not its 2.x.x
                disposition = Disposition.DELETED
                reason, cause = _classify(None, None, neutral_form(discarded.group("what")), stage,
                                          str(Side.GATEWAY if relay in self._filters else Side.REMOTE),
                                          str(Disposition.DELETED), None)
            elif handed >= 0 and self._handed_on(ctx[3], queue, reply, handed, final, recipient):
                disposition = Disposition.REQUEUED
                reason, cause = _DELIVERED
                if len(self._filters) < 100:
                    self._filters.add(relay)
        # a content filter of this Postfix (it re-injected mail here before): its refusals are the site's own
        here = relay in self._filters
        direction = Direction.OUTBOUND if queue.get("auth") else self._delivery_direction(daemon, final)
        failed = disposition in (Disposition.BOUNCED, Disposition.DEFERRED, Disposition.EXPIRED)
        by = Side.GATEWAY if here or not remote else Side.REMOTE
        side = Side.GATEWAY if here else Side.REMOTE if remote or direction == Direction.OUTBOUND else Side.GATEWAY
        if disposition is Disposition.DEFERRED and recipient:
            queue.setdefault("deferred", {})[recipient] = [reply, dsn, stage, relay, str(direction)]
        elif recipient and "deferred" in queue:
            queue["deferred"].pop(recipient, None)
        event = self._event(
            ctx, 0, qid, queue, direction=direction, disposition=disposition, recipient=recipient,
            relay=relay, smtp_code=code, enhanced_status=dsn or status, reply_text=reply, stage=stage,
            rejected_by=by if failed else None, side=side, reason=reason, cause=cause,
            classify_host=pl.relay_host(relay) if disposition is not Disposition.DELIVERED else None,
            extra={"delivered_to": final} if original and original != final else None,
        )
        first = self._queues.get(queue["up"]) if "up" in queue and "orig" not in queue else None
        if first is not None and original is None:
            # a re-injected copy delivered before the first queue id's hand-over line, which tells the address the
            # sender wrote: the event waits for it (or for the first id's removal, or the end of the log)
            first.setdefault("held", []).append(_hold(event, final))
            self._holding.add(queue["up"])
            return NO_EVENTS
        if disposition is Disposition.REQUEUED and "held" in queue:
            return (event, *self._release(queue, final, recipient))
        return (event,)

    def _release(self, queue: dict[str, Any], final: str | None = None,
                 recipient: str | None = None) -> list[TrackingEvent]:
        """The held events of a filtered message's copy: those for `final` now with the sender's `recipient`, or
        all of them as they are (final None: the first queue id is gone, or the log went quiet)."""
        held, kept = queue.get("held") or [], []
        out = []
        for item in held:
            if final is None or item["final"] == final:
                out.append(_unhold(item, recipient if final is not None else None))
            else:
                kept.append(item)
        if kept:
            queue["held"] = kept
        else:
            queue.pop("held", None)
        return out

    def _handed_on(self, host: str, queue: dict[str, Any], reply: str, at: int, final: str | None,
                   recipient: str | None) -> bool:
        """Whether this delivery handed the message back to this Postfix under a new queue id ("... queued as
        NEWID", NEWID's smtpd `client=` line already in this log: an after-queue content filter re-injected it
        before answering). The new queue id learns what the first one knew: the client the mail came from, whether
        it logged in, and each recipient's address as the sender wrote it."""
        match = pl.QUEUED_AS.match(reply, at)
        if match is None:
            return False
        onward = self._queues.get(f"{host}/{match.group('qid')}")
        if onward is None or "ip" not in onward:
            # delivered and removed already, before this line: linked by its Message-ID when it was queued
            return match.group("qid") in queue.get("next", ())
        if final and recipient:
            onward.setdefault("orig", {})[final] = recipient
        for name in ("ip", "host", "auth"):
            if queue.get(name):
                onward[name] = queue[name]
        return True

    def _reinjected(self, host: str, qid: str, queue: dict[str, Any]) -> None:
        """A message from a client on loopback whose Message-ID is that of a message queued here and not yet
        removed: a content filter handing it back (it does so before it answers the first queue id's delivery,
        whose "queued as" line may come after the new id's own delivery). The new id learns the client now."""
        earlier = self._mids.get(queue["mid"])
        first = self._queues.get(earlier) if earlier and earlier.startswith(f"{host}/") else None
        if first is None or first is queue or not first.get("q") or first.get("mid") != queue["mid"]:
            return
        for name in ("ip", "host", "auth"):
            if first.get(name):
                queue[name] = first[name]
        first.setdefault("next", []).append(qid)
        queue["up"] = earlier

    def _expired(self, ctx: tuple, qid: str, queue: dict[str, Any]) -> Sequence[TrackingEvent]:
        """qmgr gave up: one event per recipient still deferred, with the last reason it was given."""
        waiting = queue.pop("deferred", None) or {None: [None, None, None, None, Direction.UNKNOWN.value]}
        events = []
        for index, (recipient, (reply, dsn, stage, relay, direction)) in enumerate(
                sorted(waiting.items(), key=_by_rcpt)):
            code, status = pl.reply_codes(reply)
            events.append(self._event(
                ctx, index, qid, queue, direction=direction, disposition=Disposition.EXPIRED, recipient=recipient,
                relay=relay, smtp_code=code, enhanced_status=dsn or status, reply_text=reply, stage=stage,
                rejected_by=Side.REMOTE if relay not in (None, "none") else Side.GATEWAY, side=Side.REMOTE,
                classify_host=pl.relay_host(relay),
            ))
        return events

    # -- rejects (with or without a queue id) -------------------------------------------------------

    def _action(self, ctx: tuple, qid: str | None, text: str) -> Sequence[TrackingEvent]:
        action, sep, rest = text.partition(": ")
        disposition = pl.ACTIONS.get(action)
        if sep and disposition is None and action in pl.WARN_ACTIONS:
            return self._warned(ctx, qid, action, rest)
        if not sep or disposition is None:
            return NO_EVENTS  # filter:, warn:, redirect: leave the mail alone
        reject = pl.smtpd_reject(rest)
        if reject is not None:
            stage, host, ip, reply, sender, recipient, helo = reject
            if stage in ("VRFY", "ETRN"):
                return NO_EVENTS  # no mail was offered
        else:
            content = pl.CONTENT_REJECT.match(rest)
            if content is None:
                if qid:
                    self.stats.unrecognise(f"{_daemon_of(ctx[4])}: QID: {action}: (unparsed)", ctx[0])
                else:
                    self.stats.skip("unparsed reject", ctx[0])
                return NO_EVENTS
            stage, reply = "DATA", content.group("reply") or "5.7.1 message content rejected"
            host, ip, sender, recipient, helo = content.group("host", "ip", "sender", "rcpt", "helo")
        qkey = f"{ctx[3]}/{qid}" if qid else None
        queue = self._queues.get(qkey) if qkey else None
        sender = sender or None  # from=<> is the null sender
        recipient = recipient or None
        code, status = pl.reply_codes(reply)
        direction = self._gateway_direction(sender, recipient)
        event = self._event(
            ctx, 0, qid, queue, direction=direction, disposition=Disposition(disposition), recipient=recipient,
            sender=sender, client_ip=ip or None, client_host=host or None, helo=helo,
            smtp_code=code, enhanced_status=status, reply_text=reply, stage=stage, rejected_by=Side.GATEWAY,
            side=Side.GATEWAY,
            # postscreen judges only the client (DNSBL score, pregreet and protocol tests), never the message: its
            # "RCPT" refusals ("550 5.5.1 Protocol error", "450 4.3.2 Service currently unavailable") are read as
            # refusals at connect, where it made them
            classify_stage="CONNECT" if _daemon_of(ctx[4]) == "postscreen" else None,
        )
        if qkey and stage in ("DATA", "END-OF-MESSAGE"):
            self._queues.pop(qkey, None)  # the whole message was refused: nothing more will be logged
            self._doomed.pop(qkey, None)  # ... and this line is its event
            session = self._sessions.get(queue.get("sess", "")) if queue else None
            if session is not None:  # the line names one recipient; the disconnect line counts them all
                session.setdefault("whole", {})[qkey] = _whole_fields(event)
            if queue:
                return (event, *self._received(qid, queue))
        elif queue and disposition == Disposition.QUARANTINED:
            return (event, *self._received(qid, queue))  # on hold: qmgr will not see it (until released)
        return (event,)

    def _warning(self, ctx: tuple, text: str) -> Sequence[TrackingEvent]:
        qid, sep, rest = text.partition(": ")
        if not sep or not pl.QUEUE_ID.fullmatch(qid):
            return NO_EVENTS  # the daemon's own trouble (a milter it cannot reach, a map it cannot open...)
        if rest != "queue file size limit exceeded":
            self.stats.unrecognise(f"{_daemon_of(ctx[4])}: warning: QID: {rest[:30]}", ctx[0])
            return NO_EVENTS
        return self._doom(ctx, f"{ctx[3]}/{qid}", {
            "reply": f"{pl.SIZE_LIMIT_REPLY} (inferred from 'queue file size limit exceeded': the client sent no "
                     "SIZE)", "stage": "END-OF-MESSAGE", "code": 552, "status": "5.3.4"})

    # -- messages that never reach qmgr --------------------------------------------------------------

    def _lost(self, ctx: tuple, message: str) -> Sequence[TrackingEvent]:
        """smtpd lost its client in the middle of a message: the message of its open transaction is never queued."""
        match = pl.LOST_IN_DATA.match(message)
        session = self._sessions.get(f"{ctx[3]}/{ctx[4]}") if match else None
        if match is None or not session or not session["qids"]:
            return NO_EVENTS  # lost before a message began (or the session started before the log)
        qkey = session["qids"][-1]
        queue = self._queues.get(qkey)
        if queue is None or queue.get("q") or qkey in self._doomed:
            return NO_EVENTS  # refused already, or queued: its own lines tell its fate
        size = f" ({match.group('bytes')} bytes)" if match.group("bytes") else ""
        return self._doom(ctx, qkey, {
            "reply": f"{match.group('what')} after {match.group('command')}{size}: the client went away before "
                     "the end of the message, which was not accepted (the sending server should try again)"
                     f"{pl.INFERRED_MARK}: Postfix logs no reject for it)",
            "stage": "DATA", "code": None, "status": None, "reason": "networkerror", "cause": str(Cause.TRANSIENT)})

    def _doom(self, ctx: tuple, qkey: str, fate: dict[str, Any]) -> Sequence[TrackingEvent]:
        """A message that will not be queued: its event waits for cleanup's lines naming its envelope."""
        queue = self._touch(qkey, self._queues.get(qkey))
        line, stamp, when = ctx[0], ctx[1], ctx[2]
        fate.update(line=line, stamp=stamp, when=when.isoformat(), key=self._keys.key(stamp, line))
        queue["doom"] = fate
        self._doomed[qkey] = self._now + DOOM_WAIT
        if queue.get("from") is not None and queue.get("rcpt"):
            return self._settle_doom(qkey)  # cleanup named the envelope already
        return NO_EVENTS

    def _due(self, now: float) -> list[TrackingEvent]:
        due = sorted(k for k, at in self._doomed.items() if at <= now)
        return [e for qkey in due for e in self._settle_doom(qkey)]

    def _settle_doom(self, qkey: str) -> Sequence[TrackingEvent]:
        self._doomed.pop(qkey, None)
        queue = self._queues.pop(qkey, None)
        fate = queue.pop("doom", None) if queue else None
        if fate is None:
            return NO_EVENTS
        host, _, qid = qkey.rpartition("/")
        ctx = (fate["line"], fate["stamp"], datetime.fromisoformat(fate["when"]), host, "")
        sender, recipient = queue.get("from"), queue.get("rcpt")
        reason, cause = fate.get("reason"), fate.get("cause")
        received = self._received(qid, queue)
        event = self._event(
            ctx, 0, qid, queue, key=fate["key"], direction=self._gateway_direction(sender, recipient),
            disposition=Disposition.REJECTED, recipient=recipient, smtp_code=fate["code"],
            enhanced_status=fate["status"], reply_text=fate["reply"], stage=fate["stage"],
            rejected_by=None if reason else Side.GATEWAY, side=Side.GATEWAY, reason=reason, cause=cause,
        )
        more = fate.get("more")
        if more:  # the session ended first: its disconnect line counted the recipients
            unnamed = _unnamed(_whole_fields(event), more["rcpt"], datetime.fromisoformat(more["when"]), more["keys"])
            return (*received, event, *unnamed)
        session = self._sessions.get(queue.get("sess", ""))
        if session is not None:  # the disconnect line, still to come, counts them
            session.setdefault("whole", {})[qkey] = _whole_fields(event)
        return (*received, event)

    # -- smtpd sessions and the recipient limit ------------------------------------------------------

    def _session(self, ctx: tuple, message: str) -> Sequence[TrackingEvent]:
        key = f"{ctx[3]}/{ctx[4]}"
        if message[0] == "c":
            self._sessions[key] = {"t": self._now, "qids": [], "seen": {}}
            return NO_EVENTS
        session = self._sessions.pop(key, None)
        if not session or not session["qids"]:
            return NO_EVENTS
        counts = {name: int(ok) for name, ok, _tried in pl.DISCONNECT_COUNT.findall(message)}
        rcpt_ok, qids = counts.get("rcpt", 0), session["qids"]
        if "whole" in session:
            return self._unnamed_recipients(ctx, session, rcpt_ok)
        if len(qids) == 1 and qids[0] in self._doomed and rcpt_ok > 1:  # its event waits for cleanup's lines
            self._queues[qids[0]]["doom"]["more"] = {
                "rcpt": rcpt_ok, "when": ctx[2].isoformat(),
                "keys": [self._keys.key(ctx[1], ctx[0], index) for index in range(rcpt_ok - 1)]}
            return NO_EVENTS
        # Only sessions whose every transaction was queued can be compared (an abandoned one has no nrcpt).
        if "bdat" in counts or counts.get("data", 0) != len(qids) or rcpt_ok <= len(qids):
            return NO_EVENTS
        check_id = qids[0]
        self._checks[check_id] = {"t": self._now, "qids": qids, "rcpt": rcpt_ok, "seen": session["seen"]}
        for qkey in qids:
            queue = self._queues.get(qkey)
            if queue is not None:
                queue["check"] = check_id
        return self._run_check(ctx, check_id)

    def _unnamed_recipients(self, ctx: tuple, session: dict[str, Any], rcpt_ok: int) -> Sequence[TrackingEvent]:
        """A message refused (held, discarded) as a whole after DATA is logged with one of its recipients: in a
        one-message session, the disconnect line's accepted RCPT count tells how many more shared its fate."""
        qids, whole = session["qids"], session["whole"]
        if len(qids) != 1 or qids[0] not in whole or rcpt_ok <= 1:
            return NO_EVENTS
        keys = [self._keys.key(ctx[1], ctx[0], index) for index in range(rcpt_ok - 1)]
        return _unnamed(whole[qids[0]], rcpt_ok, ctx[2], keys)

    def _note_queued(self, ctx: tuple, qkey: str, queue: dict[str, Any]) -> Sequence[TrackingEvent]:
        """qmgr counted the message's recipients: hand them to its smtpd session or pending check."""
        seen = {k: queue[k] for k in ("from", "ip", "host", "mid", "size", "nrcpt") if k in queue}
        session = self._sessions.get(queue.get("sess", ""))
        if session is not None and qkey in session["qids"]:
            session["seen"][qkey] = seen
            return NO_EVENTS
        check = self._checks.get(queue.get("check", ""))
        if check is None:
            return NO_EVENTS
        check["seen"][qkey] = seen
        return self._run_check(ctx, queue["check"])

    def _run_check(self, ctx: tuple, check_id: str) -> Sequence[TrackingEvent]:
        check = self._checks[check_id]
        seen = check["seen"]
        if len(seen) < len(check["qids"]):
            return NO_EVENTS  # wait for the remaining qmgr lines
        del self._checks[check_id]
        queued = sum(q["nrcpt"] for q in seen.values())
        over = check["rcpt"] - queued
        if over <= 0:
            return NO_EVENTS
        target = max(check["qids"], key=lambda k: seen[k]["nrcpt"])
        queue = seen[target]
        qid = target.split("/", 1)[1]
        text = (f"{pl.TOO_MANY_RECIPIENTS_REPLY} (inferred, not logged by Postfix: the client's {check['rcpt']} "
                f"accepted RCPT commands against {queued} queued recipient(s); {over} over smtpd_recipient_limit)")
        return [self._event(
            ctx, index, qid, queue, direction=self._gateway_direction(queue.get("from"), None),
            disposition=Disposition.REJECTED, smtp_code=452, enhanced_status="4.5.3", reply_text=text,
            stage="RCPT", rejected_by=Side.GATEWAY, side=Side.GATEWAY, nrcpt=check["rcpt"],
            reason="toomanyconn", cause=Cause.GATEWAY_POLICY,
        ) for index in range(over)]

    # -- traffic facts: what pflogsumm counts besides outcomes (the traffic report, docs/report.md) ----

    def _note_received(self, ctx: tuple, queue: dict[str, Any]) -> None:
        """smtpd `client=` or pickup: the message entered the queue at this line. Its `received` event waits for
        qmgr's sender and size (or for the message's end when it never gets that far), with this line's time."""
        queue["rcv"] = [self._keys.key(ctx[1], ctx[0]), ctx[2].isoformat()]

    def _received(self, qid: str, queue: dict[str, Any]) -> Sequence[TrackingEvent]:
        """The message's one `received` event, if it is still owed (size and sender are None if qmgr never saw it)."""
        pending = queue.pop("rcv", None)
        if pending is None:
            return NO_EVENTS
        key, when = pending
        return (TrackingEvent(
            time=datetime.fromisoformat(when), source=SOURCE, source_key=key, direction=Direction.UNKNOWN.value,
            disposition=Disposition.RECEIVED.value, sender=queue.get("from"), client_ip=queue.get("ip"),
            client_host=queue.get("host"), message_id=queue.get("mid"), queue_id=qid, size=queue.get("size"),
            nrcpt=queue.get("nrcpt"),
        ),)

    def _received_abandoned(self, ctx: tuple) -> Sequence[TrackingEvent]:
        """At an smtpd disconnect: the session's transactions that never reached DATA (no Message-ID, no qmgr)
        were received all the same (pflogsumm counts every `client=`)."""
        session = self._sessions.get(f"{ctx[3]}/{ctx[4]}")
        if not session:
            return NO_EVENTS
        events: list[TrackingEvent] = []
        for qkey in session["qids"]:
            queue = self._queues.get(qkey)
            if queue is not None and "rcv" in queue and "q" not in queue and "mid" not in queue:
                events.extend(self._received(qkey.split("/", 1)[1], queue))
        return events

    def _warned(self, ctx: tuple, qid: str | None, action: str, rest: str) -> Sequence[TrackingEvent]:
        """smtpd `reject_warning:` or cleanup `warning: header|body`: a rule that would have rejected, and
        only warned (warn_if_reject, WARN in header/body checks); the mail went on."""
        reject = pl.smtpd_reject(rest) if action != "warning" else None
        if reject is not None:
            stage, host, ip, reply, sender, recipient, helo = reject
        else:
            content = pl.CONTENT_REJECT.match(rest) if rest.startswith(("header ", "body ")) else None
            if content is None:
                self.stats.skip("unparsed reject", ctx[0])
                return NO_EVENTS
            stage, reply = "DATA", content.group("reply") or content.group("content")
            host, ip, sender, recipient, helo = content.group("host", "ip", "sender", "rcpt", "helo")
        queue = self._queues.get(f"{ctx[3]}/{qid}") if qid else None
        code, status = pl.reply_codes(reply)
        return (self._event(
            ctx, 0, qid, queue, direction=self._gateway_direction(sender or None, recipient or None),
            disposition=Disposition.WARNED, recipient=recipient or None, sender=sender or None,
            client_ip=ip or None, client_host=host or None, helo=helo, smtp_code=code, enhanced_status=status,
            reply_text=reply, stage=stage, side=Side.GATEWAY,
        ),)

    # -- building events ---------------------------------------------------------------------------

    def _event(self, ctx: tuple, index: int, qid: str | None, queue: dict[str, Any] | None, *,
               direction: str, disposition: str, side: str, classify_host: str | None = None,
               classify_stage: str | None = None,
               reason: str | None = None, cause: str | None = None, extra: dict | None = None,
               key: str | None = None, **fields: Any) -> TrackingEvent:
        line, stamp, when = ctx[0], ctx[1], ctx[2]
        if queue:
            fields.setdefault("sender", queue.get("from"))
            fields.setdefault("client_ip", queue.get("ip"))
            fields.setdefault("client_host", queue.get("host"))
            fields.setdefault("message_id", queue.get("mid"))
            fields.setdefault("size", queue.get("size"))
            fields.setdefault("nrcpt", queue.get("nrcpt"))
        if fields.get("rejected_by") is not None:
            fields["rejected_by"] = str(fields["rejected_by"])
        zone = None
        if disposition != Disposition.DELIVERED:
            reply = fields.get("reply_text")
            neutral = neutral_form(reply) if reply else reply  # refusals differing in recipient or IP: one entry
            zone = _zone_in(neutral)
            if reason is None:
                reason, cause = _classify(fields.get("smtp_code"), fields.get("enhanced_status"), neutral,
                                          classify_stage or fields.get("stage"), str(side), str(disposition),
                                          classify_host)
        elif reason is None:
            reason, cause = _DELIVERED
        return TrackingEvent(
            time=when, source=SOURCE, source_key=key or self._keys.key(stamp, line, index),
            direction=str(direction), disposition=str(disposition), queue_id=qid, dnsbl_zone=zone,
            reason=reason, cause=str(cause) if cause else None, extra=extra or {}, **fields,
        )

    def _learn(self, address: str | None) -> None:
        """The address's domain is one of ours (only without Settings.local_domains)."""
        domain = _domain_of(address)
        if domain and domain not in self._learned and not self.local_domains and len(self._learned) < 10_000:
            self._learned.add(domain)

    def _is_ours(self, address: str | None) -> bool:
        """Whether the address's domain is ours: Settings.local_domains when configured, else what the log showed."""
        if self.local_domains:
            domain = _domain_of(address)
            return bool(domain) and self._is_local(domain)
        return bool(self._learned) and _domain_of(address) in self._learned

    def _is_local(self, domain: str) -> bool:
        known = self._local_cache.get(domain)
        if known is None:
            known = any(domain == d or domain.endswith("." + d) for d in self.local_domains)
            if len(self._local_cache) < 100_000:
                self._local_cache[domain] = known
        return known

    def _delivery_direction(self, daemon: str, recipient: str | None) -> str:
        """Mailbox delivery here is inbound, relaying away outbound; Settings.local_domains decides first."""
        domain = split_domain(recipient) if self.local_domains else None
        if domain:
            return Direction.INBOUND if self._is_local(domain) else Direction.OUTBOUND
        if daemon in pl.LOCAL_AGENTS or self._is_ours(recipient):
            return Direction.INBOUND
        if daemon in pl.REMOTE_AGENTS:
            return Direction.OUTBOUND
        return Direction.UNKNOWN

    def _gateway_direction(self, sender: str | None, recipient: str | None) -> str:
        """What our gateway refused came from outside, unless one of our users sent it to another domain."""
        if recipient and "@" in recipient and self._is_ours(sender) and not self._is_ours(recipient):
            return Direction.OUTBOUND
        return Direction.INBOUND

    def _sweep(self) -> None:
        """Forget state that no line closed (log starting mid-way, killed daemons, abandoned sessions)."""
        now = self._now
        self._next_sweep = now + SWEEP_EVERY
        self._queues = {k: q for k, q in self._queues.items()
                        if now - q.get("t", now) < (QUEUED_TTL if q.get("q") else SHORT_TTL)}
        self._sessions = {k: s for k, s in self._sessions.items() if now - s["t"] < SHORT_TTL}
        self._checks = {k: c for k, c in self._checks.items() if now - c["t"] < SHORT_TTL}
        self._doomed = {k: at for k, at in self._doomed.items() if k in self._queues}
        self._mids = {k: q for k, q in self._mids.items() if q in self._queues}
        self._holding = {k for k in self._holding if k in self._queues}


#: What an event of a message refused as a whole shares with the events of its unnamed recipients.
_WHOLE_FIELDS = frozenset({
    "direction", "disposition", "sender", "client_ip", "client_host", "helo", "message_id", "queue_id", "size",
    "smtp_code", "enhanced_status", "reply_text", "stage", "rejected_by", "reason", "cause", "dnsbl_zone",
})


def _whole_fields(event: TrackingEvent) -> dict[str, Any]:
    return {k: v for k, v in event.as_row().items() if k in _WHOLE_FIELDS and v is not None}


def _unnamed(fields: dict[str, Any], rcpt_ok: int, when: datetime, keys: list[str]) -> list[TrackingEvent]:
    """The events of the recipients a message's line did not name (rcpt_ok counted, one of them named)."""
    fields = dict(fields)
    more = rcpt_ok - 1
    named = fields.get("recipient") or "one of them"
    fields["reply_text"] = (f"{fields.get('reply_text') or ''}{pl.INFERRED_MARK}: the same for {more} more accepted "
                            "recipient(s) "
                            f"of this message, unnamed: Postfix logs {named} only; the disconnect line counts "
                            f"rcpt={rcpt_ok})").strip()
    fields["recipient"] = None
    return [TrackingEvent(time=when, source=SOURCE, source_key=key, nrcpt=rcpt_ok, **fields) for key in keys]


def _domain_of(address: str | None) -> str | None:
    """'a@B.example' -> 'b.example' (split_domain's result for a log's addresses, faster)."""
    if not address:
        return None
    at = address.rfind("@")
    return address[at + 1:].lower().rstrip(".") or None if at >= 0 else None


def _hold(event: TrackingEvent, final: str | None) -> dict[str, Any]:
    """A held event as parser state (JSON: the cursor keeps it)."""
    fields = {name: getattr(event, name) for name in event.__slots__}
    fields["time"] = event.time.isoformat()
    return {"final": final, "event": fields}


def _unhold(item: dict[str, Any], recipient: str | None) -> TrackingEvent:
    fields = dict(item["event"])
    fields["time"] = datetime.fromisoformat(fields["time"])
    event = TrackingEvent(**fields)
    if recipient and recipient != item["final"]:
        event.recipient = recipient
        event.extra = {**event.extra, "delivered_to": item["final"]}
    return event


def _daemon_of(tag: str) -> str:
    """'postfix/smtpd[664]' or 'postfix-out/smtp[9]' -> the daemon; '' for a program that is not Postfix."""
    bracket = tag.find("[")
    program = tag[:bracket] if bracket > 0 else tag
    daemon = program[program.rfind("/") + 1:]
    if daemon not in pl.DAEMONS or ("/" not in program and not program.startswith("postfix")):
        return ""
    return daemon


def _by_rcpt(item: tuple[str | None, Any]) -> str:
    return item[0] or ""


__all__ = ["SOURCE", "PostfixParser"]
