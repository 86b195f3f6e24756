"""Settings from environment variables (and an optional .env file). Secrets are never printed."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def _list(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _at_least_one(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value < 1:
        raise ConfigError(f"{name} must be at least 1 (days), got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc


@dataclass(frozen=True)
class PolicyLimits:
    """Our gateway's global limits (the runbook's defaults)."""

    max_message_mb: float = 50.0
    max_recipients: int = 1000
    max_archive_layers: int = 20
    max_decompressed_mb: float = 60.0
    max_archive_files: int = 353


@dataclass(frozen=True)
class Settings:
    """Everything bouncebot can be told. Built by `Settings.from_env()`."""

    database_url: str = "sqlite:///bouncebot.db"
    retention_days: int = 30
    local_domains: tuple[str, ...] = ()
    outbound_ips: tuple[str, ...] = ()
    policy: PolicyLimits = field(default_factory=PolicyLimits)

    # DNS block lists
    dns_nameservers: tuple[str, ...] = ()
    dns_port: int = 53
    dns_timeout: float = 2.0
    dnsbl_zones_file: str | None = None
    spamhaus_dqs_key: str | None = field(default=None, repr=False)
    dkim_selectors: tuple[str, ...] = ()  # "selector" (our own domains) or "domain:selector"

    # Slack
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_api_url: str = "https://slack.com/api/"
    approvers: tuple[str, ...] = ()
    approver_group: str | None = None
    cases_channel: str | None = None

    # Approved senders export
    approved_export_path: str | None = None
    approved_export_format: str = "postfix"
    postmap_command: str | None = None

    # Support-case forwarding
    case_webhook_url: str | None = None
    case_email_to: str | None = None
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_from: str = "bouncebot@localhost"

    # Digest
    digest_channels: tuple[str, ...] = ()
    digest_time: str = "09:00"
    digest_timezone: str | None = None
    digest_late_cutoff_hours: int = 6

    # Trend Micro Email Security
    tmems_url: str | None = None
    tmems_user: str | None = field(default=None, repr=False)
    tmems_api_key: str | None = field(default=None, repr=False)
    tmems_poll_minutes: int = 5
    tmems_overlap_minutes: int = 15  # re-read before the cursor: records the API publishes late

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, dotenv: Path | None = None) -> Settings:
        """Read BOUNCEBOT_* and SLACK_* variables; a .env in the current folder fills what is unset."""
        merged: dict[str, str] = dict(_read_dotenv(dotenv or Path(".env")))
        merged.update(os.environ if env is None else env)
        e = merged
        limits = PolicyLimits(
            max_message_mb=_float(e, "BOUNCEBOT_MAX_MESSAGE_MB", PolicyLimits.max_message_mb),
            max_recipients=_int(e, "BOUNCEBOT_MAX_RECIPIENTS", PolicyLimits.max_recipients),
            max_archive_layers=_int(e, "BOUNCEBOT_MAX_ARCHIVE_LAYERS", PolicyLimits.max_archive_layers),
            max_decompressed_mb=_float(e, "BOUNCEBOT_MAX_DECOMPRESSED_MB", PolicyLimits.max_decompressed_mb),
            max_archive_files=_int(e, "BOUNCEBOT_MAX_ARCHIVE_FILES", PolicyLimits.max_archive_files),
        )
        return cls(
            database_url=e.get("BOUNCEBOT_DATABASE_URL") or cls.database_url,
            retention_days=_at_least_one(e, "BOUNCEBOT_RETENTION_DAYS", cls.retention_days),
            local_domains=tuple(d.lower() for d in _list(e.get("BOUNCEBOT_LOCAL_DOMAINS"))),
            outbound_ips=_list(e.get("BOUNCEBOT_OUTBOUND_IPS")),
            policy=limits,
            dns_nameservers=_list(e.get("BOUNCEBOT_DNS_NAMESERVERS")),
            dns_port=_int(e, "BOUNCEBOT_DNS_PORT", cls.dns_port),
            dns_timeout=_float(e, "BOUNCEBOT_DNS_TIMEOUT", cls.dns_timeout),
            dnsbl_zones_file=e.get("BOUNCEBOT_DNSBL_ZONES") or None,
            spamhaus_dqs_key=e.get("BOUNCEBOT_SPAMHAUS_DQS_KEY") or None,
            dkim_selectors=_list(e.get("BOUNCEBOT_DKIM_SELECTORS")),
            slack_bot_token=e.get("SLACK_BOT_TOKEN") or None,
            slack_signing_secret=e.get("SLACK_SIGNING_SECRET") or None,
            slack_app_token=e.get("SLACK_APP_TOKEN") or None,
            slack_api_url=e.get("BOUNCEBOT_SLACK_API_URL") or cls.slack_api_url,
            approvers=_list(e.get("BOUNCEBOT_APPROVERS")),
            approver_group=e.get("BOUNCEBOT_APPROVER_GROUP") or None,
            cases_channel=e.get("BOUNCEBOT_CASES_CHANNEL") or None,
            approved_export_path=e.get("BOUNCEBOT_APPROVED_EXPORT_PATH") or None,
            approved_export_format=e.get("BOUNCEBOT_APPROVED_EXPORT_FORMAT") or cls.approved_export_format,
            postmap_command=e.get("BOUNCEBOT_POSTMAP") or None,
            case_webhook_url=e.get("BOUNCEBOT_CASE_WEBHOOK_URL") or None,
            case_email_to=e.get("BOUNCEBOT_CASE_EMAIL_TO") or None,
            smtp_host=e.get("BOUNCEBOT_SMTP_HOST") or cls.smtp_host,
            smtp_port=_int(e, "BOUNCEBOT_SMTP_PORT", cls.smtp_port),
            smtp_from=e.get("BOUNCEBOT_SMTP_FROM") or cls.smtp_from,
            digest_channels=_list(e.get("BOUNCEBOT_DIGEST_CHANNELS")),
            digest_time=e.get("BOUNCEBOT_DIGEST_TIME") or cls.digest_time,
            digest_timezone=e.get("BOUNCEBOT_DIGEST_TIMEZONE") or None,
            digest_late_cutoff_hours=_int(e, "BOUNCEBOT_DIGEST_LATE_CUTOFF_HOURS", cls.digest_late_cutoff_hours),
            tmems_url=e.get("BOUNCEBOT_TMEMS_URL") or None,
            tmems_user=e.get("BOUNCEBOT_TMEMS_USER") or None,
            tmems_api_key=e.get("BOUNCEBOT_TMEMS_API_KEY") or None,
            tmems_poll_minutes=_int(e, "BOUNCEBOT_TMEMS_POLL_MINUTES", cls.tmems_poll_minutes),
            tmems_overlap_minutes=_int(e, "BOUNCEBOT_TMEMS_OVERLAP_MINUTES", cls.tmems_overlap_minutes),
        )

    def secrets(self) -> tuple[str, ...]:
        """Every secret value that is set: the log filter redacts these."""
        names = ("spamhaus_dqs_key", "slack_bot_token", "slack_signing_secret", "slack_app_token",
                 "tmems_api_key", "tmems_user")
        return tuple(v for v in (getattr(self, n) for n in names) if v)

    def require(self, *names: str) -> None:
        """Raise ConfigError naming the environment variable of the first unset setting."""
        env_names = {f.name: f.name.upper() for f in fields(self)}
        env_names.update(slack_bot_token="SLACK_BOT_TOKEN", slack_signing_secret="SLACK_SIGNING_SECRET",  # noqa: S106
                         slack_app_token="SLACK_APP_TOKEN")  # noqa: S106
        for name in names:
            if not getattr(self, name):
                var = env_names.get(name, name.upper())
                if not var.startswith("SLACK_"):
                    var = "BOUNCEBOT_" + var
                raise ConfigError(f"{var} is not set")
