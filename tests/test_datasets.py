"""Other datasets in MNIST's layout: class names from labels.txt or by recognising the data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from rnn_mnist_cli import checkpoint as ckpt
from rnn_mnist_cli import data
from rnn_mnist_cli.cli import app
from rnn_mnist_cli.errors import BadInput

from .conftest import EXAMPLES, idx_bytes, write_dataset

FASHION = Path("/usr/share/datasets/fashion-mnist")
runner = CliRunner()


def test_labels_file_names_the_classes_everywhere(tmp_path: Path) -> None:
    directory = write_dataset(tmp_path / "letters", 600, 100)
    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    (directory / "labels.txt").write_text("\n".join(names) + "\n")
    model = tmp_path / "named.npz"
    trained = runner.invoke(app, ["train", "--model", str(model), "--epochs", "1", "--units", "8", "--data-dir", str(directory)])
    assert trained.exit_code == 0, trained.output
    assert ckpt.load(model).config.class_names == names
    predicted = runner.invoke(app, ["predict", "--model", str(model), "--json", str(EXAMPLES / "digit-1.png")])
    row = json.loads(predicted.stdout)
    assert row["digit"] in names and row["digit"] == names[row["class"]]
    table = runner.invoke(app, ["predict", "--model", str(model), str(EXAMPLES / "digit-1.png")])
    assert " class " in table.stdout and row["digit"] in table.stdout
    evaluated = runner.invoke(app, ["eval", "--model", str(model), "--json"])
    assert [c["label"] for c in json.loads(evaluated.stdout)["classes"]] == names


def test_a_recognised_dataset_gets_its_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = write_dataset(tmp_path / "d", 50, 20)
    assert data.class_names(directory) == [str(d) for d in range(10)]  # unknown: digits
    fingerprint = data.dataset_fingerprint(directory)
    monkeypatch.setitem(data.KNOWN_DATASETS, fingerprint, ("Tiny", list("abcdefghij")))
    assert data.class_names(directory) == list("abcdefghij")


def test_bad_labels_files(tmp_path: Path) -> None:
    directory = write_dataset(tmp_path / "d", 50, 20)
    (directory / "labels.txt").write_text("only-one\n")
    with pytest.raises(BadInput, match="labels.txt: needs at least two distinct class names"):
        data.class_names(directory)
    (directory / "labels.txt").write_text("a\nb\nc\n")  # three names, but labels go up to 9
    result = runner.invoke(app, ["train", "--model", str(tmp_path / "m.npz"), "--epochs", "1", "--data-dir", str(directory)])
    assert result.exit_code == 2
    assert "labels go up to 9, expected 0-2 (3 classes)" in result.stderr


def test_more_than_ten_classes(tmp_path: Path) -> None:
    directory = tmp_path / "twelve"
    directory.mkdir()
    rng = np.random.default_rng(0)
    for stem, n in (("train", 400), ("t10k", 60)):
        (directory / f"{stem}-images-idx3-ubyte").write_bytes(idx_bytes(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)))
        (directory / f"{stem}-labels-idx1-ubyte").write_bytes(idx_bytes(np.arange(n, dtype=np.uint8) % 12))
    (directory / "labels.txt").write_text("\n".join(f"class {i}" for i in range(12)))
    model = tmp_path / "m.npz"
    assert runner.invoke(app, ["train", "--model", str(model), "--epochs", "1", "--units", "8", "--data-dir", str(directory)]).exit_code == 0
    report = json.loads(runner.invoke(app, ["eval", "--model", str(model), "--json"]).stdout)
    assert len(report["classes"]) == 12 and len(report["confusion_matrix"]) == 12


@pytest.mark.skipif(not FASHION.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_is_recognised() -> None:
    names = data.class_names(FASHION)
    assert names[0] == "T-shirt/top" and names[9] == "Ankle boot" and len(names) == 10
    assert data.load_split(FASHION, "test").images.shape == (10000, 28, 28)
