"""manifest.yml against Slack's manifest JSON schema (our copy, MIT, in tests/slack/schema), and against the app."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.render import ids
from handlers.commands import COMMAND

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).parent / "schema" / "manifest.schema.1.0.0.json"

#: Every Web API method the app calls -> the bot scope it needs (None: no scope needed).
METHOD_SCOPES = {
    "chat_postMessage": "chat:write", "chat_update": "chat:write", "chat_postEphemeral": "chat:write",
    "views_open": None, "views_publish": None, "usergroups_users_list": "usergroups:read",
    "files_info": "files:read", "files_upload_v2": "files:write",
}
EVENT_SCOPES = {"app_mention": "app_mentions:read", "message.im": "im:history", "app_home_opened": None}


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))


def test_manifest_validates_against_slacks_schema(manifest: dict) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(manifest, schema)


def test_schema_rejects_a_broken_manifest(manifest: dict) -> None:
    """The validation can fail: an unknown setting is refused by the same schema."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    broken = {**manifest, "settings": {**manifest["settings"], "no_such_setting": True}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_schema_copy_ships_with_its_licence() -> None:
    assert "MIT License" in (SCHEMA.parent / "LICENSE").read_text(encoding="utf-8")


def test_manifest_matches_what_the_app_serves(manifest: dict) -> None:
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == [COMMAND]
    settings = manifest["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == set(EVENT_SCOPES)
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is False
    urls = {manifest["features"]["slash_commands"][0]["url"], settings["interactivity"]["request_url"],
            settings["event_subscriptions"]["request_url"]}
    assert all(u.endswith("/slack/events") for u in urls)
    assert manifest["features"]["bot_user"]["display_name"]
    assert ids.PREFIX == "bouncebot"


def _methods_called() -> set[str]:
    """client.<method>(...) calls in handlers/ (the only code that talks to the Web API)."""
    found: set[str] = set()
    for path in (ROOT / "handlers").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in METHOD_SCOPES:
                found.add(node.attr)
    return found


def test_scopes_are_exactly_the_ones_used(manifest: dict) -> None:
    called = _methods_called()
    assert called == set(METHOD_SCOPES), f"update METHOD_SCOPES and the manifest: {called ^ set(METHOD_SCOPES)}"
    needed = {METHOD_SCOPES[m] for m in called} | set(EVENT_SCOPES.values()) | {"commands"}
    needed.discard(None)
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == needed
