"""Never lose a training run: atomic checkpoints, resume, Ctrl-C, kill -9, reproducibility, hostile files."""

from __future__ import annotations

import errno
import io
import json
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from rnn_mnist_cli import checkpoint as ckpt
from rnn_mnist_cli.cli import app
from rnn_mnist_cli.errors import BadInput, RuntimeFailure
from rnn_mnist_cli.train import train

from .test_cli import one_line_error

runner = CliRunner()
SMALL = {"units": 16, "limit": 600}


def all_weights(checkpoint: ckpt.Checkpoint) -> dict[str, np.ndarray]:
    return {
        **{f"best/{k}": v for k, v in checkpoint.best.items()},
        **{f"last/{k}": v for k, v in checkpoint.last.items()},
        **{f"optimizer/{i}": v for i, v in enumerate(checkpoint.optimizer)},
    }


def assert_identical(a: Path, b: Path) -> None:
    first, second = ckpt.load(a, training_state=True), ckpt.load(b, training_state=True)
    left, right = all_weights(first), all_weights(second)
    assert left.keys() == right.keys() and len(left) > 5
    for name in left:
        assert np.array_equal(left[name], right[name]), name
    assert [r["val_accuracy"] for r in first.history] == [r["val_accuracy"] for r in second.history]


def test_same_seed_same_weights_bit_for_bit(tmp_path: Path, tiny_data: Path) -> None:
    options = {**SMALL, "epochs": 2, "data_dir": str(tiny_data)}
    train(tmp_path / "a.npz", options)
    train(tmp_path / "b.npz", options)
    assert_identical(tmp_path / "a.npz", tmp_path / "b.npz")
    train(tmp_path / "c.npz", {**options, "seed": 7})
    other = ckpt.load(tmp_path / "c.npz")
    assert not np.array_equal(other.best["rnn0/kernel"], ckpt.load(tmp_path / "a.npz").best["rnn0/kernel"])


def test_resumed_run_ends_where_an_uninterrupted_one_does(tmp_path: Path, tiny_data: Path) -> None:
    options = {**SMALL, "data_dir": str(tiny_data)}
    train(tmp_path / "whole.npz", {**options, "epochs": 3})
    train(tmp_path / "parts.npz", {**options, "epochs": 1})
    assert ckpt.load(tmp_path / "parts.npz").epochs_done == 1
    train(tmp_path / "parts.npz", {"epochs": 3}, resume=True)
    resumed = ckpt.load(tmp_path / "parts.npz")
    assert resumed.epochs_done == 3 and [r["epoch"] for r in resumed.history] == [1, 2, 3]
    assert_identical(tmp_path / "whole.npz", tmp_path / "parts.npz")


def test_resume_refuses_finished_runs_and_changed_settings(tmp_path: Path, tiny_model: Path) -> None:
    path = tmp_path / "m.npz"
    path.write_bytes(tiny_model.read_bytes())
    with pytest.raises(BadInput, match="already finished 1 of 1 epochs; pass a larger --epochs"):
        train(path, {}, resume=True)
    with pytest.raises(BadInput, match=r"cannot resume with other settings: units 16 \(saved\) vs 32 \(requested\)"):
        train(path, {"units": 32, "epochs": 3}, resume=True)
    result = runner.invoke(app, ["train", "--resume", "--model", str(path), "--batch-size", "10", "--epochs", "2"])
    assert result.exit_code == 2
    one_line_error(result, "batch_size 150 (saved) vs 10 (requested)")
    result = runner.invoke(app, ["train", "--resume"])
    assert result.exit_code == 1
    one_line_error(result, "no trained model", "rnn-mnist train")


def test_resume_continues_the_newest_run_folder(tiny_data: Path, isolated_runs: Path) -> None:
    first = runner.invoke(app, ["train", "--epochs", "1", "--units", "8", "--data-dir", str(tiny_data)])
    assert first.exit_code == 0, first.output
    resumed = runner.invoke(app, ["train", "--resume", "--epochs", "2"])
    assert resumed.exit_code == 0, resumed.output
    assert sorted(p.name for p in isolated_runs.iterdir()) == ["001"]
    assert len((isolated_runs / "001" / "metrics.csv").read_text().splitlines()) == 3  # header + 2 epochs
    assert ckpt.load(isolated_runs / "001" / "model.npz").epochs_done == 2


def test_failed_write_keeps_the_previous_checkpoint(tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.npz"
    path.write_bytes(tiny_model.read_bytes())
    before = path.read_bytes()
    checkpoint = ckpt.load(path, training_state=True)

    def disk_full(handle, **arrays):
        handle.write(b"PK\x03\x04 half a zip")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(RuntimeFailure, match=r"m.npz: cannot write \(No space left on device\); the previous file is intact"):
        ckpt.save(path, checkpoint)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]  # no temporary file left behind


def test_unwritable_model_location_fails_before_training(tmp_path: Path, tiny_data: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("I am a file, not a directory")
    result = runner.invoke(app, ["train", "--model", str(blocker / "m.npz"), "--epochs", "1", "--data-dir", str(tiny_data)])
    assert result.exit_code == 1
    one_line_error(result, str(blocker), "cannot write")
    assert "epoch" not in result.stderr


def _rewrite(path: Path, target: Path, change) -> None:
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w") as out:
        for item in source.namelist():
            data = source.read(item)
            out.writestr(item, change(item, data))


def _npy_json(value) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.frombuffer(json.dumps(value).encode(), np.uint8))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda name, data: _npy_json({"units": "many"}) if name == "config.json.npy" else data, "configuration lacks"),
        (
            lambda name, data: _npy_json(
                {"cell": "rnn", "units": "150", "layers": 1, "learning_rate": 0.001, "batch_size": 150, "epochs": 10,
                 "seed": 42, "limit": None, "data_dir": None, "class_names": list("0123456789")}
            ) if name == "config.json.npy" else data,
            "'units' must be a whole number",
        ),
        (lambda name, data: b"not json" if name == "config.json.npy" else data, "damaged"),
        (
            lambda name, data: _npy_json(
                {"cell": "rnn", "units": 99, "layers": 1, "learning_rate": 0.001, "batch_size": 150, "epochs": 1,
                 "seed": 42, "limit": None, "data_dir": None, "class_names": list("0123456789")}
            ) if name == "config.json.npy" else data,
            "weight rnn0/kernel is float32[28, 16], the configuration needs float[28, 99]",
        ),
        (lambda name, data: _npy_json({"format": "something-else"}) if name == "meta.json.npy" else data, "not an rnn-mnist checkpoint"),
    ],
    ids=["missing-fields", "wrong-type", "not-json", "other-architecture", "other-tool"],
)
def test_hostile_checkpoints_are_one_line_errors(change, message: str, tmp_path: Path, tiny_model: Path) -> None:
    hostile = tmp_path / "hostile.npz"
    _rewrite(tiny_model, hostile, change)
    for args in (["eval", "--model", str(hostile)], ["train", "--resume", "--model", str(hostile), "--epochs", "5"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, result.output
        one_line_error(result, str(hostile), message)


def _start_training(path: Path, data: Path, epochs: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "rnn_mnist_cli", "train", "--model", str(path), "--epochs", str(epochs),
               "--units", "16", "--data-dir", str(data)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)


@pytest.fixture(scope="module")
def medium_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from .conftest import write_dataset

    return write_dataset(tmp_path_factory.mktemp("medium") / "data", 8000, 100)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_saves_the_last_epoch_and_says_how_to_resume(signum: int, tmp_path: Path, medium_data: Path) -> None:
    path = tmp_path / "m.npz"
    process = _start_training(path, medium_data, epochs=50)
    _wait_for(path, process)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert f"rnn-mnist train --resume --model {path}" in stderr
    saved = ckpt.load(path, training_state=True)
    assert 1 <= saved.epochs_done < 50 and saved.last and saved.optimizer


def test_kill_9_then_resume_matches_an_uninterrupted_run(tmp_path: Path, medium_data: Path) -> None:
    """SIGKILL at a random moment after the first save; the file must load and resume exactly."""
    epochs = 4
    reference = tmp_path / "reference.npz"
    assert _start_training(reference, medium_data, epochs).wait(timeout=300) == 0
    path = tmp_path / "killed.npz"
    process = _start_training(path, medium_data, epochs)
    _wait_for(path, process)
    time.sleep(np.random.default_rng().uniform(0, 1.0))
    process.kill()
    process.wait()
    loaded = ckpt.load(path, training_state=True)  # whatever the moment, the file is whole
    if loaded.epochs_done < epochs:
        result = subprocess.run(
            [sys.executable, "-m", "rnn_mnist_cli", "train", "--resume", "--model", str(path)],
            capture_output=True, text=True, timeout=300,
        )
        assert result.returncode == 0, result.stderr
    assert_identical(reference, path)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []  # a killed write's leftovers are swept
