"""bench/postfix_synth.py's command line: --help, the size, the output file, bad input as one usage line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.postfix_synth import main
from tests.support import ROOT


def test_writes_the_size_asked_for(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "mail.log"
    assert main(["200", str(out), "--seed", "7"]) == 0
    lines = out.read_text().splitlines()
    assert f"wrote {len(lines):,} lines (200 messages) to {out}" in capsys.readouterr().out
    assert len({line.split(": ", 2)[1] for line in lines if ": client=" in line}) >= 150   # ~ one per message
    again = tmp_path / "again.log"
    main(["200", str(again), "--seed", "7"])
    assert [line[16:] for line in again.read_text().splitlines()] == [line[16:] for line in lines]  # deterministic


@pytest.mark.parametrize(("argv", "said"), [(["0", "x.log"], "must be at least 1"),
                                            (["many", "x.log"], "not a whole number"),
                                            (["5", "/no/such/folder/x.log"], "does not exist")])
def test_bad_input_is_a_usage_line(argv: list[str], said: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2 and said in capsys.readouterr().err


def test_help_runs_as_a_script() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "postfix_synth.py"), "--help"], capture_output=True,
                          text=True, check=False, timeout=60)
    assert done.returncode == 0 and "messages" in done.stdout and "output" in done.stdout
