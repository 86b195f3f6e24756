"""Block-list zones as data: the default table in bot/data/dnsbl_zones.json, or a user's file.

A zone file is JSON: `{"zones": [ZONE, ...]}` replaces the table; `{"extends": "default", "remove": [NAME, ...],
"add": [ZONE, ...]}` starts from the default table, drops zones by name and adds (or replaces, same name) others.
Keeping zones as data means a list that changes its codes or shuts down (SORBS did) is a file edit, not a release.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from bot.config import ConfigError

#: Answers that mean "no answer" in every zone (RFC 5782 leaves 127.255.255.x to errors; Spamhaus documents these).
COMMON_ERROR_CODES: dict[str, str] = {
    "127.255.255.252": "typing error in the DNSBL name",
    "127.255.255.254": "query refused: the list does not answer queries from public/open resolvers",
    "127.255.255.255": "query refused: excessive number of queries",
}

KINDS = ("ip", "domain")
DEFAULT_SOURCE = "default"


class ZoneConfigError(ConfigError):
    """The zones file is unreadable or malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Zone:
    """One block list. `name` is how people and bounce texts call it; `query_zone` is what is asked."""

    name: str
    kind: str = "ip"
    label: str = ""
    ipv6: bool = False
    codes: Mapping[str, str] = field(default_factory=dict)
    bitmask: Mapping[int, str] = field(default_factory=dict)
    error_codes: Mapping[str, str] = field(default_factory=dict)
    url: str = ""
    needs_key: bool = False
    keyed_name: str = ""
    aliases: tuple[str, ...] = ()
    test_listed: str = ""
    test_unlisted: str = ""
    query_zone: str = field(default="", repr=False)  # `name`, or `keyed_name` with the key: never shown

    @property
    def keyed(self) -> bool:
        """True when the query name carries a secret key (so it must never be printed)."""
        return self.query_zone != self.name

    def all_error_codes(self) -> dict[str, str]:
        return {**COMMON_ERROR_CODES, **self.error_codes}

    def lookup_url(self, target: str) -> str:
        return self.url.replace("{target}", target) if self.url else ""

    def listed_test_point(self) -> str:
        """RFC 5782 section 5: the entry every list must contain."""
        if self.test_listed:
            return self.test_listed
        return "test" if self.kind == "domain" else "127.0.0.2"

    def unlisted_test_point(self) -> str:
        """RFC 5782 section 5: the entry no list may contain (a list answering it lists everything)."""
        if self.test_unlisted:
            return self.test_unlisted
        return "invalid" if self.kind == "domain" else "127.0.0.1"

    def health_points(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(must be listed, must not be listed) test points; IPv6 lists add ::ffff:7f00:2 and ::ffff:7f00:1."""
        listed, unlisted = [self.listed_test_point()], [self.unlisted_test_point()]
        if self.kind == "ip" and self.ipv6:
            listed.append("::ffff:7f00:2")
            unlisted.append("::ffff:7f00:1")
        return tuple(listed), tuple(unlisted)

    def matches(self, text: str) -> bool:
        """True when a name from a bounce text ("zen.spamhaus.org", "Spamhaus") means this zone."""
        wanted = text.strip().lower().rstrip(".")
        return wanted == self.name or wanted in self.aliases


def _zone_from(entry: Any, where: str, key: str | None) -> Zone:
    if not isinstance(entry, dict):
        raise ZoneConfigError(f"{where}: a zone must be an object, got {type(entry).__name__}")
    name = str(entry.get("name") or "").strip().lower().rstrip(".")
    if not name or "." not in name or " " in name:
        raise ZoneConfigError(f"{where}: zone needs a dotted 'name', got {entry.get('name')!r}")
    where = f"{where} ({name})"
    kind = entry.get("kind", "ip")
    if kind not in KINDS:
        raise ZoneConfigError(f"{where}: 'kind' must be one of {', '.join(KINDS)}, got {kind!r}")
    codes = _code_table(entry.get("codes", {}), where, "codes")
    errors = _code_table(entry.get("error_codes", {}), where, "error_codes")
    bitmask: dict[int, str] = {}
    for bit, meaning in dict(entry.get("bitmask") or {}).items():
        try:
            value = int(bit)
        except ValueError as exc:
            raise ZoneConfigError(f"{where}: bitmask keys are numbers, got {bit!r}") from exc
        if value <= 0 or value > 255 or value & (value - 1):
            raise ZoneConfigError(f"{where}: bitmask key {bit!r} is not a single bit of the last octet")
        bitmask[value] = str(meaning)
    keyed_name = str(entry.get("keyed_name") or "")
    if keyed_name and "{key}" not in keyed_name:
        raise ZoneConfigError(f"{where}: 'keyed_name' must contain {{key}}")
    needs_key = bool(entry.get("needs_key", False))
    if needs_key and not keyed_name:
        raise ZoneConfigError(f"{where}: 'needs_key' needs a 'keyed_name' with {{key}}")
    query_zone = keyed_name.replace("{key}", key).lower() if key and keyed_name else name
    return Zone(
        name=name, kind=kind, label=str(entry.get("label") or name), ipv6=bool(entry.get("ipv6", False)),
        codes=codes, bitmask=bitmask, error_codes=errors, url=str(entry.get("url") or ""),
        needs_key=needs_key, keyed_name=keyed_name,
        aliases=tuple(str(a).lower() for a in entry.get("aliases", ())),
        test_listed=str(entry.get("test_listed") or ""), test_unlisted=str(entry.get("test_unlisted") or ""),
        query_zone=query_zone,
    )


def _code_table(raw: Any, where: str, what: str) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise ZoneConfigError(f"{where}: {what!r} must be an object of address: meaning")
    table: dict[str, str] = {}
    for code, meaning in raw.items():
        try:
            table[str(ipaddress.IPv4Address(code))] = str(meaning)
        except ValueError as exc:
            raise ZoneConfigError(f"{where}: {what} key {code!r} is not an IPv4 address") from exc
    return table


def _read_json(path: Path | None) -> tuple[dict[str, Any], str]:
    if path is None:
        text = resources.files("bot").joinpath("data/dnsbl_zones.json").read_text(encoding="utf-8")
        where = "default zones"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ZoneConfigError(f"cannot read zones file {path}: {exc.strerror or exc}") from exc
        where = str(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ZoneConfigError(f"{where}: not valid JSON: {exc.msg} at line {exc.lineno}") from exc
    if not isinstance(data, dict):
        raise ZoneConfigError(f"{where}: expected an object with 'zones' (or 'extends')")
    return data, where


def _entries(data: dict[str, Any], where: str) -> list[dict[str, Any]]:
    extends = data.get("extends")
    if extends is None:
        zones = data.get("zones")
        if not isinstance(zones, list):
            raise ZoneConfigError(f"{where}: needs a 'zones' list (or \"extends\": \"default\")")
        return zones
    if extends != DEFAULT_SOURCE:
        raise ZoneConfigError(f"{where}: 'extends' can only be \"default\", got {extends!r}")
    base, _ = _read_json(None)
    entries = list(base["zones"])
    remove = {str(n).lower().rstrip(".") for n in data.get("remove", ())}
    known = {str(e.get("name", "")).lower() for e in entries}
    unknown = sorted(remove - known)
    if unknown:
        raise ZoneConfigError(f"{where}: 'remove' names zones not in the default table: {', '.join(unknown)}")
    added = data.get("add", [])
    if not isinstance(added, list):
        raise ZoneConfigError(f"{where}: 'add' must be a list of zones")
    replaced = {str(e.get("name", "")).lower().rstrip(".") for e in added if isinstance(e, dict)}
    return [e for e in entries if e["name"] not in remove | replaced] + added


def load_zones(path: str | Path | None = None, *, key: str | None = None) -> list[Zone]:
    """The zone table: the packaged default, or the file at `path`. `key` fills `keyed_name` (Spamhaus DQS)."""
    data, where = _read_json(Path(path) if path else None)
    zones = [_zone_from(entry, f"{where}: zone {n + 1}", key) for n, entry in enumerate(_entries(data, where))]
    seen: set[str] = set()
    for zone in zones:
        if zone.name in seen:
            raise ZoneConfigError(f"{where}: zone {zone.name} is listed twice")
        seen.add(zone.name)
    if not zones:
        raise ZoneConfigError(f"{where}: no zones configured")
    return zones


def find_zone(zones: list[Zone], text: str) -> Zone | None:
    """The configured zone a bounce text names, for cross-checking "blocked using X" against a live answer."""
    return next((z for z in zones if z.matches(text)), None)
