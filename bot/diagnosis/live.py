"""The live checks a diagnosis runs: the blacklist checker built from settings."""

from __future__ import annotations

from bot.config import Settings
from bot.diagnosis.service import Checker


def checker_from_settings(settings: Settings) -> Checker:
    from bot.blacklists import BlacklistChecker

    return BlacklistChecker.from_settings(settings)
