"""`bouncebot serve`: the Slack app over HTTP (waitress, /slack/events and /healthz) or in Socket Mode."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from bot.cli.context import CliContext, UsageError
from bot.ports import Chat

log = logging.getLogger(__name__)

DEFAULT_PORT = 3000


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("serve", help="run the Slack app (HTTP mode, or Socket Mode with --socket-mode)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"HTTP port (default {DEFAULT_PORT})")
    p.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")  # noqa: S104
    p.add_argument("--threads", type=int, default=None, help="HTTP worker threads (default 16)")
    p.add_argument("--diagnosis-processes", type=int, default=None, metavar="N",
                   help="worker processes for diagnoses (default 2; 0 runs them in the serving process)")
    p.add_argument("--diagnosis-nice", type=int, default=None, metavar="N",
                   help="niceness added to the diagnosis processes, so acknowledgements get the CPU first "
                        "(default 10; 0 to run them at the server's priority)")
    p.add_argument("--socket-mode", action="store_true",
                   help="connect to Slack over a WebSocket with SLACK_APP_TOKEN instead of serving HTTP")
    p.set_defaults(func=cmd_serve)


def background_jobs(ctx: CliContext, chat: Chat) -> list:
    """What runs beside the server for as long as it does: the scheduler with the digests and housekeeping."""
    from bot.app import Background
    from bot.jobs import housekeeping_jobs
    from bot.scheduler import start_scheduler

    running: list[Any] = []

    def start() -> None:
        jobs = housekeeping_jobs(ctx.store, ctx.settings)
        running.append(start_scheduler(ctx.settings, ctx.store, chat, extra_jobs=jobs))

    def stop() -> None:
        for scheduler in running:
            scheduler.shutdown(wait=False)

    return [Background("scheduler", start=start, stop=stop)]


def cmd_serve(args: argparse.Namespace, ctx: CliContext) -> int:
    if not 0 < args.port < 65536:
        raise UsageError(f"--port must be between 1 and 65535, got {args.port}")
    if args.diagnosis_processes is not None and not 0 <= args.diagnosis_processes <= 64:
        raise UsageError(f"--diagnosis-processes must be between 0 and 64, got {args.diagnosis_processes}")
    if args.diagnosis_nice is not None and not 0 <= args.diagnosis_nice <= 19:
        raise UsageError(f"--diagnosis-nice must be between 0 and 19, got {args.diagnosis_nice}")
    settings = ctx.settings
    settings.require("slack_bot_token")
    settings.require("slack_app_token" if args.socket_mode else "slack_signing_secret")
    from bot import app as slack_app  # imported here: the other commands never load slack_bolt

    processes = slack_app.DIAGNOSIS_PROCESSES if args.diagnosis_processes is None else args.diagnosis_processes
    nice = slack_app.DIAGNOSIS_NICE if args.diagnosis_nice is None else args.diagnosis_nice
    app = slack_app.build_app(settings, store=ctx.store, socket_mode=args.socket_mode,
                              diagnosis_processes=processes, diagnosis_nice=nice)
    if not ctx.verbose:
        logging.getLogger().setLevel(logging.INFO)  # a server logs what it does; start-up stays quiet
    background = background_jobs(ctx, app.services.chat)
    if args.socket_mode:
        print("bouncebot: connecting to Slack in Socket Mode", file=sys.stderr)
        slack_app.serve_socket_mode(app, settings, background=background)
        return 0

    def ready(server: object) -> None:
        print(f"bouncebot: serving /slack/events and /healthz on http://{args.host}:{args.port}", file=sys.stderr)

    slack_app.serve_http(app, host=args.host, port=args.port, background=background,
                         threads=args.threads or slack_app.HTTP_THREADS, ready=ready)
    return 0
