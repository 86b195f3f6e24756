"""README's two commands, as a newcomer runs them on a fresh machine with the distribution's Python.

Debian 12/13 and Ubuntu 24.04 refuse `pip install` outside a virtual environment (PEP 668), so each command makes
(or reuses) its own venv. The commands are read from README.md itself and run through bash, with `python3` being
the system Python (/usr/bin/python3), in a copy of the project; .ci/run must run README's test command exactly.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import ROOT, unavailable

SYSTEM_PYTHON = Path("/usr/bin/python3")


def readme_command(section: str) -> str:
    """The one-line shell command in the first code block after the heading `section`."""
    text = (ROOT / "README.md").read_text()
    match = re.search(rf"^## {re.escape(section)}.*?^```sh\n(.+?)\n```", text, re.S | re.M)
    assert match, f"README.md has no sh block under '## {section}'"
    (line,) = match.group(1).strip().splitlines()
    return line


def first_half(command: str) -> str:
    """Making the venv and installing into it: everything before the last `&&`."""
    return command.rsplit(" && ", 1)[0]


def test_ci_runs_readme_test_command_exactly() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    last = [line for line in ci if line.strip() and not line.lstrip().startswith("#")][-1]
    assert last == readme_command("Run the tests")


def test_each_command_makes_or_reuses_its_own_venv() -> None:
    for section in ("Try it", "Run the tests"):
        command = readme_command(section)
        assert command.startswith("python3 -m venv .venv && .venv/bin/pip install "), command
        assert " pip install" not in command.replace(".venv/bin/pip install", ""), command


def _copy_project(dest: Path) -> Path:
    skip = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info", "build", "dist", "*.db", "*.db-*",
                                  ".pytest_cache", ".ruff_cache", ".env", "shared")
    shutil.copytree(ROOT, dest, ignore=skip, symlinks=True)
    return dest


@pytest.mark.slow
def test_readme_commands_work_with_the_system_python(tmp_path: Path) -> None:
    if not SYSTEM_PYTHON.exists():
        unavailable(f"no system Python at {SYSTEM_PYTHON} (this machine has only pyenv/container Pythons)")
    check = subprocess.run([str(SYSTEM_PYTHON), "-c", "import sys, ensurepip; print(sys.version_info >= (3, 11))"],
                           capture_output=True, text=True, check=False)
    if check.stdout.strip() != "True":
        unavailable(f"{SYSTEM_PYTHON} is older than 3.11 or has no venv/ensurepip (apt-get install python3-venv)")
    project = _copy_project(tmp_path / "bouncebot")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(SYSTEM_PYTHON)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME") and not k.startswith(("BOUNCEBOT_", "SLACK_"))}
    env["PATH"] = os.pathsep.join([str(bin_dir), "/usr/bin", "/bin"])

    def sh(command: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(["bash", "-c", command], cwd=project, env=env, capture_output=True, text=True,
                              timeout=1200, check=False)
        assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        assert "Traceback" not in done.stderr, done.stderr
        return done

    try_it = readme_command("Try it")
    sh(first_half(try_it))
    venv_python = project / ".venv" / "bin" / "python"
    base = subprocess.run([str(venv_python), "-c", "import sys; print(sys.base_prefix)"], capture_output=True,
                          text=True, env=env, check=True).stdout.strip()
    assert base == "/usr", base                                   # the venv is the system Python's
    demo = sh(try_it)                                              # the whole line again: the venv is reused
    assert "$ bouncebot why" in demo.stdout and "Traceback" not in demo.stdout

    sh(first_half(readme_command("Run the tests")))                # into the same venv: reused, not remade
    tools = subprocess.run([str(venv_python), "-c", "import pytest, hypothesis, bot; print(bot.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, env=env, check=False)
    assert tools.returncode == 0, tools.stderr
    assert tools.stdout.strip().startswith(str(project)), tools.stdout   # editable: the checkout's code
