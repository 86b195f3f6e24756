"""The report as terminal text, laid out like pflogsumm's (columns line up; numbers are exact)."""

from __future__ import annotations

from bot.report.model import TRAFFIC_FIELDS, Problem, Ranked, Report, Traffic

_RULE = "-" * 68


def _title(text: str) -> list[str]:
    return ["", text, "-" * len(text)]


def _delay(seconds: float | None) -> str:
    if seconds is None:
        return "      -"
    if seconds > 3600:
        return f"{seconds / 3600:5.1f} h"
    if seconds > 60:
        return f"{seconds / 60:5.1f} m"
    return f"{seconds:5.1f} s"


def _row(label: str, row: Traffic) -> str:
    return f"    {label:<12}" + "".join(f"  {getattr(row, c):>9}" for c in TRAFFIC_FIELDS)


def _ranked(title: str, rows: list[Ranked], by_size: bool) -> list[str]:
    if not rows:
        return ["", f"{title}: none"]
    lines = ["", title, "-" * len(title)]
    lines += [f" {(r.bytes if by_size else r.messages):>10}  {r.address}" for r in rows]
    return lines


def _problems(title: str, rows: list[Problem], top: int, with_host: bool) -> list[str]:
    if not rows:
        return ["", f"{title}: none"]
    lines = ["", title, "-" * len(title)]
    for p in rows[:top]:
        where = f" {p.host}" if with_host and p.host else ""
        stage = f" {p.stage}" if p.stage and not with_host else ""
        kind = "" if p.kind in ("rejected", "deferred", "bounced") else f" [{p.kind}]"
        lines.append(f" {p.count:>8}  {p.reason}{stage}{where}{kind}  {p.status or ''}".rstrip())
        if p.example:
            lines.append(f"           e.g. {p.example[:150]}")
    if len(rows) > top:
        lines.append(f"           … {len(rows) - top} more groups ({sum(p.count for p in rows[top:])} events)")
    return lines


def render_text(report: Report) -> str:
    t = report.totals
    lines = [f"Traffic report for {report.label()} ({report.zone})"]
    for notice in report.notices:
        lines.append(f"! {notice}")
    lines += _title("Grand Totals")
    lines += ["messages", ""]
    lines += [
        f" {t.received:>10}  received",
        f" {t.delivered:>10}  delivered",
        f" {t.forwarded:>10}  forwarded",
        f" {t.deferred:>10}  deferred  ({t.deferrals} deferrals)" if t.deferrals else f" {t.deferred:>10}  deferred",
        f" {t.bounced:>10}  bounced",
        f" {t.rejected:>10}  rejected ({t.rejected_percent}%)",
        f" {t.reject_warnings:>10}  reject warnings",
        f" {t.held:>10}  held",
        f" {t.discarded:>10}  discarded ({t.discarded_percent}%)",
        "",
        f" {t.bytes_received:>10}  bytes received",
        f" {t.bytes_delivered:>10}  bytes delivered",
        f" {t.senders:>10}  senders",
        f" {t.sending_domains:>10}  sending hosts/domains",
        f" {t.recipients:>10}  recipients",
        f" {t.recipient_domains:>10}  recipient hosts/domains",
    ]
    columns = "".join(f"  {c:>9}" for c in TRAFFIC_FIELDS)
    if not report.single_day:
        lines += _title("Per-Day Traffic Summary")
        lines += [f"    {'date':<12}{columns}", "    " + _RULE]
        lines += [_row(day.isoformat(), row) for day, row in sorted(report.days.items())]
    lines += _title("Per-Hour Traffic Summary" + ("" if report.single_day else " (sums over the period)"))
    lines += [f"    {'time':<12}{columns}", "    " + _RULE]
    lines += [_row(f"{h:02d}00-{h + 1:02d}00", row) for h, row in enumerate(report.hours)]
    lines += _title("Host/Domain Summary: Message Delivery")
    lines += [" sent cnt       bytes   defers   avg dly  max dly  host/domain",
              " --------  ----------  -------  -------  -------  -----------"]
    lines += [f" {d.sent:>8}  {d.bytes:>10}  {d.deferred:>7}  {_delay(d.avg_delay)}  {_delay(d.max_delay)}  {d.domain}"
              for d in report.recipient_domains]
    lines += _title("Host/Domain Summary: Messages Received")
    lines += [" msg cnt        bytes  host/domain", " --------  ----------  -----------"]
    lines += [f" {d.messages:>8}  {d.bytes:>10}  {d.domain}" for d in report.sending_domains]
    lines += _ranked("Senders by message count", report.senders_by_count, False)
    lines += _ranked("Recipients by message count", report.recipients_by_count, False)
    lines += _ranked("Senders by message size", report.senders_by_size, True)
    lines += _ranked("Recipients by message size", report.recipients_by_size, True)
    lines += _problems("message reject detail (rejects, reject warnings, holds, discards)", report.rejects,
                       report.top, False)
    lines += _problems("message deferral detail (by reason and remote host)", report.deferrals, report.top, True)
    lines += _problems("message bounce detail (by reason and remote host)", report.bounces, report.top, True)
    as_of = report.now.strftime("%Y-%m-%d %H:%M UTC") if report.now else "now"
    lines += _title(f"Deferred now (not yet delivered, bounced or expired, as of {as_of}): {report.waiting_total}")
    for w in report.waiting:
        lines.append(f" {w.since:%Y-%m-%d %H:%M:%S}  {w.queue_id:<12}  {w.deferrals:>3}x  {w.sender or '<>'} -> "
                     f"{w.recipient or '?'}  {w.host or ''}".rstrip())
        if w.reply:
            lines.append(f"           {w.reply[:150]}")
    if report.waiting_total > len(report.waiting):
        lines.append(f"           … {report.waiting_total - len(report.waiting)} more")
    return "\n".join(lines) + "\n"
