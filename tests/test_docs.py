"""Every command has help text with an example and is documented in the README; examples run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from rnn_mnist_cli.cli import app

from .conftest import EXAMPLES, ROOT

COMMANDS = [command.name or command.callback.__name__ for command in app.registered_commands]


def test_the_card_commands_exist() -> None:
    assert {"train", "eval", "predict", "runs"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_command_has_help_with_an_example(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Example: rnn-mnist" in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_command_is_in_the_readme(command: str) -> None:
    assert f"rnn-mnist {command}" in (ROOT / "README.md").read_text()


def test_every_train_option_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    command = typer.main.get_command(app).commands["train"]
    for parameter in command.params:
        for option in parameter.opts:
            if option.startswith("--"):
                assert f"`{option}" in readme, option


def test_readme_set_up_commands_are_make_targets() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "\ndemo:" in makefile and "\ntest:" in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_library_example_runs() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "library_api.py"), "--epochs", "1", "--limit", "3000"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("trained 1 epoch(s): validation accuracy")
    assert lines[1].startswith("test accuracy") and "on 10000 images" in lines[1]
    assert [line.split(":")[0] for line in lines[2:]] == ["digit-7.png", "hand-4.jpg"]


def test_console_script_smoke() -> None:
    """The installed entry point, in a new process, as a user runs it."""
    script = Path(sys.executable).with_name("rnn-mnist")
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("rnn-mnist ")
    result = subprocess.run([sys.executable, "-m", "rnn_mnist_cli", "eval", "--model", "nowhere.npz"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["error: nowhere.npz: no trained model here; run `rnn-mnist train` first"]
