"""What every command gets: the settings, and the store opened on first use."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from dataclasses import dataclass, field

from bot.config import Settings
from bot.store import Store


class UsageError(ValueError):
    """A bad argument: printed as one line, exit code 2."""


def positive_int(text: str) -> int:
    """An argparse type for counts such as --limit: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


@dataclass
class CliContext:
    settings: Settings
    verbose: bool = False
    _store: Store | None = field(default=None, repr=False)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> CliContext:
        settings = Settings.from_env()
        if getattr(args, "database", None):
            settings = dataclasses.replace(settings, database_url=args.database)
        return cls(settings=settings, verbose=bool(getattr(args, "verbose", False)))

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.settings)
        return self._store

    @property
    def interactive(self) -> bool:
        return sys.stdout.isatty()

    def close(self) -> None:
        if self._store is not None:
            self._store.dispose()
