"""One bot instance in its own process, for the claim tests: `python -m tests.digest.race_worker ...`.

It waits until --start-at (so every process hits the claim together), runs the digest the way the scheduler
does (or refreshes the rollup), and prints one JSON line: {"owner": ..., "posted": ts or null, "late": ...}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, date, datetime, timedelta

from bot.config import Settings
from bot.digest.content import needed_days
from bot.digest.period import DigestSpec, Period
from bot.digest.post import DigestRunner
from bot.digest.rollup import refresh
from bot.store import Store
from tests.slack.fakes import slack_chat


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--slack", required=True)
    p.add_argument("--channel", default="C0RACE")
    p.add_argument("--time", default="09:00")
    p.add_argument("--zone", default="UTC")
    p.add_argument("--now", default=None, help="ISO time the worker believes it is (default: the real clock)")
    p.add_argument("--start-at", type=float, default=0.0, help="time.time() to start at")
    p.add_argument("--lease", type=float, default=900.0, help="seconds")
    p.add_argument("--mode", choices=("scheduled", "catch-up", "refresh"), default="scheduled")
    args = p.parse_args(argv)
    settings = Settings(database_url=args.url, digest_channels=(args.channel,), digest_time=args.time,
                        digest_timezone=args.zone)
    store = Store.open(args.url)
    fixed = datetime.fromisoformat(args.now) if args.now and "T" in args.now else None
    runner = DigestRunner(store, settings, slack_chat(args.slack), lease=timedelta(seconds=args.lease),
                          clock=(lambda: fixed) if fixed else (lambda: datetime.now(UTC)))
    late = time.time() > args.start_at
    while time.time() < args.start_at:
        time.sleep(0.001)
    if args.mode == "refresh":
        stats = refresh(store.engine, runner.zone, needed_days(Period(date.fromisoformat(args.now[:10]))))
        print(json.dumps({"built": stats.built, "added": stats.added, "late": late}), flush=True)
        return 0
    if args.mode == "scheduled":
        posted = runner.scheduled(DigestSpec(args.channel))
        results = [posted] if posted else []
    else:
        results = runner.catch_up()
    print(json.dumps({"owner": runner.owner, "posted": results[0].ts if results else None, "late": late}),
          flush=True)
    store.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
