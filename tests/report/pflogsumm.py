"""Run the real pflogsumm on a log and read its Grand Totals and Per-Hour table; print ours the same way."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from bot.report.model import TRAFFIC_FIELDS, Report

#: pflogsumm's Grand Totals labels -> our JSON total.
LABELS = {
    "received": "received", "delivered": "delivered", "forwarded": "forwarded", "deferred": "deferred",
    "bounced": "bounced", "rejected": "rejected", "reject warnings": "reject_warnings", "held": "held",
    "discarded": "discarded", "bytes received": "bytes_received", "bytes delivered": "bytes_delivered",
    "senders": "senders", "sending hosts/domains": "sending_domains", "recipients": "recipients",
    "recipient hosts/domains": "recipient_domains",
}
_TOTAL = re.compile(r"^ +(\d+[ km]) +([a-z /]+?)(?: \((\d+)%\))?(?:  \((\d+[ km]) deferrals\))?$")
_HOUR = re.compile(r"^    (\d\d)00-\d\d00  ((?: +\d+[ km]){5}) ?$")


def adj_int_units(value: float) -> str:
    """pflogsumm's `%6d%s` of adj_int_units, without the padding: '3520k', '33569 '."""
    if value > 536870912:
        return f"{int(value / 1048576)}m"
    if value > 524288:
        return f"{int(value / 1024)}k"
    return f"{int(value)} "


def run_pflogsumm(binary: str, log: Path) -> tuple[dict[str, str], list[list[str]]]:
    out = subprocess.run([binary, str(log)], capture_output=True, text=True, check=True, timeout=600).stdout
    totals: dict[str, str] = {}
    hours: list[list[str]] = []
    for line in out.splitlines():
        match = _TOTAL.match(line)
        if match and match.group(2) in LABELS:
            value, label, pct, deferrals = match.groups()
            totals[LABELS[label]] = value
            if pct is not None:
                totals[f"{LABELS[label]}_percent"] = pct
            if label == "deferred":
                totals["deferrals"] = deferrals or "0 "
            continue
        hour = _HOUR.match(line)
        if hour:
            hours.append([hour.group(1), *(v.strip() for v in re.findall(r"\d+[ km]", hour.group(2)))])
    return totals, hours


def ours(report: Report) -> tuple[dict[str, str], list[list[str]]]:
    """Our report in pflogsumm's units (the comparison is of what each prints)."""
    t = report.totals
    totals = {name: adj_int_units(getattr(t, name)) for name in LABELS.values()}
    totals["deferrals"] = adj_int_units(t.deferrals)
    totals["rejected_percent"] = str(t.rejected_percent)
    totals["discarded_percent"] = str(t.discarded_percent)
    hours = [[f"{h:02d}", *(adj_int_units(getattr(row, c)).strip() for c in TRAFFIC_FIELDS)]
             for h, row in enumerate(report.hours)]
    return totals, hours
