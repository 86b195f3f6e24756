"""The `bouncebot` command line: one module per command group, each with `register(subparsers)`.

Every failure a user can cause (bad argument, missing file, unreachable database) ends as one line on
stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence

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
    "bot.cli.dns",
    "bot.cli.ingest",
    "bot.cli.digest",
    "bot.cli.report",
    "bot.cli.slack",
    "bot.cli.admin",
    "bot.cli.db",
)


#: Where the top-level --json lands until the chosen command says whether it has one.
_GLOBAL_JSON = "_global_json"
_TAKES_JSON = "_takes_json"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bouncebot",
        description="Answers 'why did mail from X bounce?' from mail-gateway logs and live block-list checks.",
        epilog="--database, --verbose and --json may also follow the command, e.g. `bouncebot why x --json -v`.",
    )
    parser.add_argument("--version", action="version", version=f"bouncebot {__version__}")
    parser.add_argument("--database", metavar="URL", help="database URL (default: $BOUNCEBOT_DATABASE_URL)")
    parser.add_argument("-v", "--verbose", action="store_true", help="more detail, and debug logging")
    parser.add_argument("--json", dest=_GLOBAL_JSON, action="store_true",
                        help="JSON output, for the commands that have it")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    for sub in _subcommand_parsers(parser):
        _add_global_options(sub)
    return parser


def _subcommand_parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """Every parser below `parser`, parents before children, each once (aliases share a parser)."""
    seen: set[int] = set()
    todo = [parser]
    while todo:
        current = todo.pop(0)
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child in action.choices.values():
                    if id(child) not in seen:
                        seen.add(id(child))
                        todo.append(child)
                        yield child


def _add_global_options(sub: argparse.ArgumentParser) -> None:
    """The global options, accepted after the command too, for any registered module without it doing anything.

    Their default is SUPPRESS, so a command that does not repeat them keeps what was given before it. A command
    that defines an option of the same name keeps its own. Whether the command has --json is recorded, so that
    `bouncebot --json COMMAND` either turns it on or says it does not apply.
    """
    taken = sub._option_string_actions
    group = sub.add_argument_group("global options (also accepted before the command)")
    if "--database" not in taken:
        group.add_argument("--database", metavar="URL", default=argparse.SUPPRESS,
                           help="database URL (default: $BOUNCEBOT_DATABASE_URL)")
    verbose = [flag for flag in ("-v", "--verbose") if flag not in taken]
    if verbose:
        group.add_argument(*verbose, dest="verbose", action="store_true", default=argparse.SUPPRESS,
                           help="more detail, and debug logging")
    sub.set_defaults(**{_TAKES_JSON: "--json" in taken})


def _apply_global_json(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if not getattr(args, _GLOBAL_JSON, False):
        return
    if not getattr(args, _TAKES_JSON, False):
        words = " ".join(str(w) for w in (args.command, *_subcommand_words(args)) if w)
        raise UsageError(f"--json does not apply to `bouncebot {words}`")
    args.json = True


def _subcommand_words(args: argparse.Namespace) -> list[str]:
    return [value for key, value in vars(args).items()
            if key.endswith("_command") or key in ("source", "action")
            if isinstance(value, str)]


def _quiet_broken_pipe() -> int:
    """The reader went away (`bouncebot events x | head`): stop quietly, as `cat` does. Python would otherwise
    complain once more while flushing stdout at exit, so stdout is pointed at /dev/null first."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout is not a real file (a test's capture): nothing left to flush into a closed pipe
    return 141  # 128 + SIGPIPE, as a shell reports a pipeline member killed by it


def _error(command: str | None, message: str) -> None:
    print(f"bouncebot {command or ''}: {message}".replace("bouncebot : ", "bouncebot: "), file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """The `bouncebot` entry point: the exit code; every failure a user can cause is one line on stderr."""
    try:
        return _main(argv)
    except BrokenPipeError:  # also from argparse printing --help or usage into a closed pipe
        return _quiet_broken_pipe()


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx = None
    try:
        _apply_global_json(parser, args)
        ctx = CliContext.from_args(args)
        # Second line of defence: no log line may carry a token, signing secret or API key.
        logsafe.install(ctx.settings.secrets(), basic_user=ctx.settings.tmems_user)
        code = int(args.func(args, ctx) or 0)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at interpreter exit
        return code
    except BrokenPipeError:
        raise  # main() ends quietly; not a "system error" below
    except UsageError as exc:
        _error(args.command, str(exc))
        return 2
    except (ConfigError, StoreError) as exc:
        _error(args.command, str(exc))
        return 1
    except DBAPIError as exc:
        _error(args.command, store_failure(exc, ctx))
        return 1
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        _error(args.command, f"cannot read {exc.filename}: {exc.strerror}")
        return 1
    except OSError as exc:  # disk full, a vanished device, ...: what the system said, once
        where = f" {exc.filename}" if exc.filename else ""
        _error(args.command, f"system error{where}: {exc.strerror or exc}")
        return 1
    except KeyboardInterrupt:
        _error(args.command, "interrupted")
        return 130
    except Exception as exc:  # a bug, not a user's doing: one line; --verbose shows where
        logging.getLogger(__name__).debug("unexpected error", exc_info=True)
        hint = "" if args.verbose else " (run with --verbose for the details)"
        _error(args.command, f"unexpected error: {type(exc).__name__}: {exc}{hint}")
        return 70  # EX_SOFTWARE
    finally:
        if ctx is not None:
            try:
                ctx.close()
            except Exception:  # closing after a failure must not print a second error as a traceback
                logging.getLogger(__name__).debug("closing the store failed", exc_info=True)


def store_failure(exc: DBAPIError, ctx: CliContext | None) -> str:
    """One line for a database error: read-only stores are told apart from unreachable ones."""
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
    lowered = reason.lower()
    where = ctx.settings.database_url if ctx is not None else "the tracking store"
    if "readonly" in lowered or "read-only" in lowered or "read only" in lowered:
        return f"cannot write to {where}: {reason} (check the permissions of the file and its folder)"
    if "unable to open database file" in lowered:
        return f"cannot open {where}: {reason} (check that the file and its folder are readable and writable)"
    if "disk" in lowered and ("full" in lowered or "i/o" in lowered):
        return f"cannot write to {where}: {reason}"
    return f"the tracking store is unreachable: {reason}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
