"""Saved runs: folders, metrics, curves, eval pictures, the runs listing, TensorBoard logs."""

from __future__ import annotations

import csv
import json
import struct
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from rnn_mnist_cli.cli import app

runner = CliRunner()


def run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def assert_png(path: Path, min_side: int = 200, max_side: int = 4000) -> None:
    """A valid PNG of sensible size, with something drawn on it."""
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        width, height = image.size
        assert min_side <= width <= max_side and min_side <= height <= max_side, image.size
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
        assert colours is None or len(colours) > 20  # not a blank canvas


@pytest.fixture(scope="module")
def trained_runs(tmp_path_factory: pytest.TempPathFactory, tiny_data: Path) -> Path:
    root = tmp_path_factory.mktemp("runs-home") / "runs"
    mp = pytest.MonkeyPatch()
    mp.setenv("RNN_MNIST_RUNS", str(root))
    try:
        run("train", "--epochs", "2", "--units", "12", "--data-dir", tiny_data, "--tensorboard")
        run("train", "--epochs", "1", "--units", "8", "--data-dir", tiny_data)
    finally:
        mp.undo()
    return root


def test_each_train_gets_its_own_folder_with_metrics_and_curves(trained_runs: Path) -> None:
    assert sorted(p.name for p in trained_runs.iterdir()) == ["001", "002"]
    first = trained_runs / "001"
    names = {p.name for p in first.iterdir()}
    assert {"model.npz", "config.json", "metrics.csv", "curves.png", "tensorboard"} <= names
    rows = list(csv.DictReader((first / "metrics.csv").open()))
    assert [row["epoch"] for row in rows] == ["1", "2"]
    assert set(rows[0]) == {"epoch", "seconds", "loss", "accuracy", "val_loss", "val_accuracy"}
    assert 0 <= float(rows[1]["val_accuracy"]) <= 1 and float(rows[1]["loss"]) > 0
    assert_png(first / "curves.png")
    assert "tensorboard" not in {p.name for p in (trained_runs / "002").iterdir()}


def test_tensorboard_logs_hold_the_epoch_scalars(trained_runs: Path) -> None:
    events = list((trained_runs / "001" / "tensorboard").glob("events.out.tfevents.*"))
    assert len(events) == 1
    data = events[0].read_bytes()
    for tag in (b"val_accuracy", b"loss"):
        assert tag in data
    (length,) = struct.unpack("<Q", data[:8])  # TFRecord framing: a sane first record
    assert 0 < length < 10_000


def test_runs_lists_validation_and_test_accuracy(trained_runs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RNN_MNIST_RUNS", str(trained_runs))
    before = json.loads(run("runs", "--json").stdout)
    assert [row["run"] for row in before] == ["001", "002"]
    assert before[0]["epochs"] == "2/2" and before[0]["test_accuracy"] is None
    assert before[0]["model"] == "rnn 1x12"
    evaluated = json.loads(run("eval", "--json").stdout)  # the newest run: 002
    after = json.loads(run("runs", "--json").stdout)
    assert after[1]["test_accuracy"] == evaluated["accuracy"] and after[0]["test_accuracy"] is None
    table = run("runs").stdout
    assert "001" in table and "002" in table and f"{evaluated['accuracy']:.2%}" in table


def test_eval_plot_and_errors_write_pictures(trained_runs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RNN_MNIST_RUNS", str(trained_runs))
    result = run("eval", "--model", trained_runs / "001" / "model.npz", "--plot", "--errors", "12")
    folder = trained_runs / "001"
    assert f"wrote {folder / 'confusion_matrix.png'}" in result.stderr.replace("\n", "")
    assert_png(folder / "confusion_matrix.png")
    assert_png(folder / "errors.png")


def test_eval_pictures_beside_a_named_checkpoint(tiny_model: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine.npz"
    mine.write_bytes(tiny_model.read_bytes())
    run("eval", "--model", mine, "--plot", "--errors", "3")
    assert_png(tmp_path / "mine-confusion_matrix.png")
    assert_png(tmp_path / "mine-errors.png", min_side=100)
    assert not (tmp_path / "eval.json").exists()


def test_confident_errors_are_wrong_and_sorted(tiny_model: Path) -> None:
    from rnn_mnist_cli import checkpoint
    from rnn_mnist_cli.evaluate import evaluate

    report = evaluate(checkpoint.load(tiny_model))
    chosen = report.confident_errors(10)
    assert len(chosen) == 10
    confidence = report.probabilities[chosen].max(axis=1)
    assert all(report.probabilities[chosen].argmax(axis=1) != report.labels[chosen])
    assert list(confidence) == sorted(confidence, reverse=True)
    wrong = report.probabilities.argmax(axis=1) != report.labels
    assert confidence[0] == report.probabilities[wrong].max()


def test_runs_without_any_run_says_how_to_start() -> None:
    result = runner.invoke(app, ["runs"])
    assert result.exit_code == 0
    assert "rnn-mnist train" in result.stderr
