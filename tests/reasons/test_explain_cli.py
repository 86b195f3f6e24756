"""`bouncebot explain FILE... [--json]`: JSON Lines per file, readable text, one-line errors, no traceback."""

from __future__ import annotations

import json

from bot.cli import main
from tests.support import SAMPLES

BOUNCES = SAMPLES / "bounces"


def test_json_lines_one_object_per_file_in_order(capsys):
    files = [str(BOUNCES / "dsn_01.eml"), str(BOUNCES / "gmail_01.eml")]
    assert main(["explain", "--json", "--no-live", *files]) == 0  # gmail_01 is a DMARC refusal: no live DNS here
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["file"] == files[0] and second["file"] == files[1]
    assert [r["address"] for r in first["recipients"]] == ["k.bauer@hanse-logistik.example",
                                                           "h.larsen@nordic-fjord.example"]
    assert set(first["recipients"][0]) == {"address", "status", "smtp_code", "text", "reason", "cause"}
    assert first["recipients"][1]["reason"] == "mailboxfull"
    assert second["recipients"][0]["cause"] == "remote_policy"
    assert first["authentication"] is None and second["authentication"] is None


def test_text_mode_summary(capsys):
    assert main(["explain", str(BOUNCES / "exim_01.eml")]) == 0
    out = capsys.readouterr().out
    assert "orders@meridian-health.example: blocked / remote_blacklist [554 5.7.1]" in out
    assert "blocked using zen.spamhaus.org" in out


def test_bad_files_get_one_line_each_and_the_rest_is_still_explained(tmp_path, capsys):
    binary = tmp_path / "photo.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    missing = tmp_path / "missing.eml"
    code = main(["explain", "--json", str(binary), str(empty), str(missing), str(BOUNCES / "plain_mail_01.eml"),
                 str(BOUNCES / "qmail_01.eml"), str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 1
    records = [json.loads(line) for line in captured.out.splitlines()]
    assert [r["file"] for r in records] == [str(binary), str(empty), str(missing),
                                            str(BOUNCES / "plain_mail_01.eml"), str(BOUNCES / "qmail_01.eml"),
                                            str(tmp_path)]
    errors = {r["file"]: r.get("error") for r in records}
    assert errors[str(binary)] == "binary data, not a mail message"
    assert errors[str(empty)] == "empty file"
    assert errors[str(missing)].startswith("cannot read")
    assert errors[str(tmp_path)].startswith("cannot read")
    assert "no bounced recipient" in errors[str(BOUNCES / "plain_mail_01.eml")]
    assert records[4]["recipients"][0]["reason"] == "norelaying"
    err_lines = captured.err.splitlines()
    assert len(err_lines) == 5 and all(line.startswith("bouncebot explain: ") for line in err_lines)
    assert "Traceback" not in captured.err


def test_explain_needs_no_database(monkeypatch, capsys):
    monkeypatch.setenv("BOUNCEBOT_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert main(["explain", str(BOUNCES / "vacation_01.eml")]) == 0
    assert "vacation / delivered" in capsys.readouterr().out
