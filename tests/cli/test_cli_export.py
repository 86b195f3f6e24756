"""`bouncebot approved export --format postfix --postmap` as the README shows it: the map is the configured
BOUNCEBOT_APPROVED_EXPORT_PATH, postmap (real) builds its .db; a failed export after a change is said once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.support import require_binary


@pytest.fixture
def env(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    for name in ("BOUNCEBOT_APPROVED_EXPORT_PATH", "BOUNCEBOT_POSTMAP", "BOUNCEBOT_APPROVED_EXPORT_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    return sqlite_url


def test_postmap_writes_the_configured_map(env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    require_binary("postmap")
    assert main(["--database", env, "approved", "add", "alice@partner.example", "--reason", "partner"]) == 0
    target = tmp_path / "approved"
    monkeypatch.setenv("BOUNCEBOT_APPROVED_EXPORT_PATH", str(target))
    assert main(["--database", env, "approved", "export", "--format", "postfix", "--postmap"]) == 0
    out = capsys.readouterr().out
    assert f"wrote 1 approved sender to {target} (postfix); ran " in out
    assert "alice@partner.example OK" in target.read_text()
    assert (tmp_path / "approved.db").exists()


def test_postmap_without_any_file_says_where_one_comes_from(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--database", env, "approved", "export", "--postmap"]) == 2
    err = capsys.readouterr().err
    assert "--output FILE or BOUNCEBOT_APPROVED_EXPORT_PATH" in err and len(err.strip().splitlines()) == 1


def test_a_failed_export_after_a_change_is_said_once(env: str, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BOUNCEBOT_APPROVED_EXPORT_PATH", "/no/such/folder/approved")
    assert main(["--database", env, "approved", "add", "bob@partner.example", "--reason", "r"]) == 1
    captured = capsys.readouterr()
    assert "approved address bob@partner.example" in captured.out
    assert captured.err.count("the folder for the export does not exist") == 1
