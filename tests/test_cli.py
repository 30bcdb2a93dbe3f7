"""The three commands in-process: success paths and every documented failure."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from rnn_mnist_cli import checkpoint as ckpt
from rnn_mnist_cli.cli import app

from .conftest import EXAMPLES

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def one_line_error(result, *fragments: str) -> None:
    """A failure prints exactly one line on stderr naming the problem, and no traceback."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.output


def test_train_then_eval_then_predict_chain_through_the_runs_folder(tiny_data: Path, isolated_runs: Path) -> None:
    trained = run("train", "--epochs", "1", "--units", "8", "--data-dir", tiny_data)
    assert trained.exit_code == 0, trained.output
    assert "Training summary" in trained.stdout and "epoch  1" in trained.stderr
    run_dir = isolated_runs / "001"
    assert sorted(p.name for p in run_dir.iterdir()) == ["config.json", "curves.png", "metrics.csv", "model.npz"]
    assert json.loads((run_dir / "config.json").read_text())["units"] == 8
    assert (run_dir / "metrics.csv").read_text().splitlines()[0] == "epoch,seconds,loss,accuracy,val_loss,val_accuracy"

    evaluated = run("eval", "--json")
    assert evaluated.exit_code == 0, evaluated.output
    report = json.loads(evaluated.stdout)
    assert report["examples"] == 300 and 0.0 <= report["accuracy"] <= 1.0
    assert report["model"] == str(Path("runs") / "001" / "model.npz") or report["model"].endswith("001/model.npz")
    assert sum(map(sum, report["confusion_matrix"])) == 300

    predicted = run("predict", EXAMPLES / "digit-7.png")
    assert predicted.exit_code == 0, predicted.output
    assert "digit-7.png" in predicted.stdout

    again = run("train", "--epochs", "1", "--units", "8", "--data-dir", tiny_data)
    assert again.exit_code == 0 and (isolated_runs / "002" / "model.npz").is_file()
    assert (run_dir / "model.npz").is_file()  # the earlier run is never overwritten


def test_eval_table_and_json_agree(good_model: Path) -> None:
    table = run("eval", "--model", good_model)
    assert table.exit_code == 0, table.output
    for heading in ("precision", "recall", "F1", "support", "Confusion matrix"):
        assert heading in table.stdout
    report = json.loads(run("eval", "--model", good_model, "--json").stdout)
    assert report["examples"] == 10000 and report["accuracy"] > 0.9
    assert f"{report['accuracy']:.2%}" in table.stdout
    assert [c["support"] for c in report["classes"]] == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_predict_reads_the_example_digits(good_model: Path) -> None:
    paths = sorted(EXAMPLES.glob("digit-*.png")) + sorted(EXAMPLES.glob("hand-*")) + [EXAMPLES / "drawn-3.png"]
    result = run("predict", "--model", good_model, "--json", *paths)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["digit"] for row in rows] == [p.stem[-1] for p in paths]
    assert len(rows) == 13
    for row in rows:
        assert len(row["probabilities"]) == 10 and abs(sum(row["probabilities"]) - 1) < 1e-4
        assert row["confidence"] == max(row["probabilities"])


def test_predict_table_shows_digit_and_probability(good_model: Path) -> None:
    result = run("predict", "--model", good_model, EXAMPLES / "digit-4.png")
    assert result.exit_code == 0
    row = next(line for line in result.stdout.splitlines() if "digit-4.png" in line)
    assert " 4 " in row and "%" in row


def test_no_trained_model_says_to_train() -> None:
    for command in (["eval"], ["predict", str(EXAMPLES / "digit-1.png")]):
        result = run(*command)
        assert result.exit_code == 1
        one_line_error(result, "no trained model", "rnn-mnist train")
    result = run("eval", "--model", "missing.npz")
    assert result.exit_code == 1
    one_line_error(result, "missing.npz", "rnn-mnist train")


def test_corrupt_checkpoint_is_a_runtime_failure(tiny_model: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.npz"
    broken.write_bytes(tiny_model.read_bytes()[:5000])
    result = run("eval", "--model", broken)
    assert result.exit_code == 1
    one_line_error(result, "broken.npz", "damaged")
    other = tmp_path / "other.npz"
    np.savez(other, weights=np.zeros(3))
    result = run("predict", "--model", other, EXAMPLES / "digit-1.png")
    assert result.exit_code == 1
    one_line_error(result, "other.npz", "not an rnn-mnist checkpoint")


def test_unreadable_image_is_bad_input_but_good_ones_still_print(tiny_model: Path, tmp_path: Path) -> None:
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    result = run("predict", "--model", tiny_model, EXAMPLES / "digit-2.png", bad)
    assert result.exit_code == 2
    one_line_error(result, "notes.png", "not an image")
    assert "digit-2.png" in result.stdout
    as_json = run("predict", "--model", tiny_model, "--json", bad, tmp_path / "absent.png")
    assert as_json.exit_code == 2
    rows = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert {row["path"] for row in rows} == {str(bad), str(tmp_path / "absent.png")}
    assert all("error" in row for row in rows)


def test_bad_data_dir_is_bad_input(tmp_path: Path, tiny_model: Path) -> None:
    result = run("train", "--data-dir", tmp_path / "nope", "--epochs", "1")
    assert result.exit_code == 2
    one_line_error(result, "nope", "does not exist")
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("eval", "--model", tiny_model, "--data-dir", empty)
    assert result.exit_code == 2
    one_line_error(result, "missing t10k-images-idx3-ubyte")


@pytest.mark.parametrize(
    "args",
    [
        ["train", "--epochs", "0"],
        ["train", "--learning-rate", "-1"],
        ["train", "--units", "many"],
        ["train", "--no-such-option"],
        ["predict"],
        ["frobnicate"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_model_option_names_the_same_checkpoint_for_all_commands(tiny_data: Path, tmp_path: Path) -> None:
    path = tmp_path / "mine" / "digits.npz"
    assert run("train", "--model", path, "--epochs", "1", "--units", "8", "--data-dir", tiny_data).exit_code == 0
    assert path.is_file() and not (tmp_path / "runs").exists()
    assert not (path.parent / "metrics.csv").exists()  # a user-named file gets no siblings
    assert run("eval", "--model", path).exit_code == 0
    assert run("predict", "--model", path, EXAMPLES / "digit-0.png").exit_code == 0
    assert ckpt.load(path).config.units == 8


def test_help_and_version() -> None:
    result = run("--help")
    assert result.exit_code == 0
    for command in ("train", "eval", "predict"):
        assert command in result.stdout
    version = run("--version")
    assert version.exit_code == 0 and version.stdout.startswith("rnn-mnist ")


def test_train_json_summary(tiny_data: Path, tmp_path: Path) -> None:
    result = run("train", "--model", tmp_path / "m.npz", "--epochs", "2", "--units", "8", "--data-dir", tiny_data, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["epochs"] == 2 and len(summary["history"]) == 2
    assert summary["val_accuracy"] == max(r["val_accuracy"] for r in summary["history"])
    assert summary["config"]["data_dir"] == str(tiny_data.resolve())


def test_copied_checkpoint_still_works(tiny_model: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.npz"
    shutil.copy(tiny_model, copy)
    assert run("eval", "--model", copy, "--json").exit_code == 0
