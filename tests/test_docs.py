"""The README's commands and library example work as written."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchkit.cli import cli

from .conftest import REPO

README = (REPO / "README.md").read_text("utf-8")


def test_first_screen_has_the_two_commands() -> None:
    first_screen = "\n".join(README.splitlines()[:15])
    assert "searchkit index seeds/" in first_screen and 'searchkit query "好莱坞 罢工"' in first_screen
    assert "pytest" in first_screen


def test_main_job_on_the_seeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(REPO / "seeds", tmp_path / "seeds")
    monkeypatch.delenv("SEARCHKIT_INDEX")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["index", "seeds/"]).exit_code == 0
    result = runner.invoke(cli, ["query", "好莱坞 罢工"])
    shown = README.split("$ searchkit query \"好莱坞 罢工\"\n", 1)[1].split("```", 1)[0]
    assert result.stdout.strip() == shown.strip()


def test_library_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(REPO / "seeds", tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    code = re.search(r"```python\n(.*?)```", README, re.S)
    assert code is not None
    exec(compile(code.group(1), "README", "exec"), {"print": lambda *args, **kwargs: None})


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for command in ("index", "query", "explain", "related", "dict", "serve", "watch"):
        result = runner.invoke(cli, [command, "--help"])
        assert result.exit_code == 0 and len(result.stdout) > 100, command
