"""The `bouncebot` command line: one module per command group, each with `register(subparsers)`.

Every failure a user can cause (bad argument, missing file, unreachable database) ends as one line on
stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from sqlalchemy.exc import DBAPIError

from bot import __version__, logsafe
from bot.cli.context import CliContext, UsageError
from bot.config import ConfigError
from storage.db import StoreError

#: The command modules, in the order `bouncebot --help` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "bot.cli.demo",
    "bot.cli.why",
    "bot.cli.events",
    "bot.cli.explain",
    "bot.cli.blacklist",
    "bot.cli.ingest",
    "bot.cli.digest",
    "bot.cli.report",
    "bot.cli.slack",
    "bot.cli.admin",
    "bot.cli.db",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bouncebot",
        description="Answers 'why did mail from X bounce?' from mail-gateway logs and live block-list checks.",
    )
    parser.add_argument("--version", action="version", version=f"bouncebot {__version__}")
    parser.add_argument("--database", metavar="URL", help="database URL (default: $BOUNCEBOT_DATABASE_URL)")
    parser.add_argument("-v", "--verbose", action="store_true", help="more detail, and debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx = None
    try:
        ctx = CliContext.from_args(args)
        # Second line of defence: no log line may carry a token, signing secret or API key.
        logsafe.install(ctx.settings.secrets(), basic_user=ctx.settings.tmems_user)
        return int(args.func(args, ctx) or 0)
    except UsageError as exc:
        print(f"bouncebot {args.command}: {exc}", file=sys.stderr)
        return 2
    except (ConfigError, StoreError) as exc:
        print(f"bouncebot {args.command}: {exc}", file=sys.stderr)
        return 1
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        print(f"bouncebot {args.command}: the tracking store is unreachable: {reason}", file=sys.stderr)
        return 1
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"bouncebot {args.command}: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"bouncebot {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        if ctx is not None:
            ctx.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
