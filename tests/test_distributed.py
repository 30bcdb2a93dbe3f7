"""tf.distribute: two multiworker processes on 127.0.0.1, and the mirrored strategy."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rnn_mnist_cli import checkpoint as ckpt
from rnn_mnist_cli.cli import app
from rnn_mnist_cli.errors import BadInput
from rnn_mnist_cli.train import is_chief


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_two_workers_train_together_and_only_the_chief_writes(tmp_path: Path, tiny_data: Path) -> None:
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    processes = []
    for index in range(2):
        env = {**os.environ, "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})}
        env["RNN_MNIST_RUNS"] = str(tmp_path / f"runs{index}")
        command = [sys.executable, "-m", "rnn_mnist_cli", "train", "--strategy", "multiworker", "--model",
                   str(tmp_path / f"worker{index}.npz"), "--epochs", "2", "--units", "8", "--limit", "600",
                   "--data-dir", str(tiny_data)]
        processes.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [process.communicate(timeout=600) for process in processes]
    for process, (_, stderr) in zip(processes, outputs):
        assert process.returncode == 0, stderr
    assert "the chief wrote the checkpoint" in outputs[1][1]
    assert not (tmp_path / "worker1.npz").exists()  # the non-chief wrote nothing
    chief = ckpt.load(tmp_path / "worker0.npz")
    assert chief.epochs_done == 2 and chief.config.units == 8
    result = CliRunner().invoke(app, ["eval", "--model", str(tmp_path / "worker0.npz"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["examples"] == 300


def test_mirrored_strategy_trains_and_evaluates(tmp_path: Path, tiny_data: Path) -> None:
    path = tmp_path / "mirrored.npz"
    result = CliRunner().invoke(app, ["train", "--strategy", "mirrored", "--model", str(path), "--epochs", "1",
                                      "--units", "8", "--limit", "600", "--data-dir", str(tiny_data)])
    assert result.exit_code == 0, result.output
    assert ckpt.load(path).epochs_done == 1


def test_chief_is_read_from_tf_config(monkeypatch: pytest.MonkeyPatch) -> None:
    assert is_chief(None) and is_chief("mirrored")
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {}, "task": {"type": "worker", "index": 1}}))
    assert not is_chief("multiworker")
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {}, "task": {"type": "worker", "index": 0}}))
    assert is_chief("multiworker")
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(BadInput, match="TF_CONFIG is not valid JSON"):
        is_chief("multiworker")


def test_unknown_strategy_and_missing_tf_config(tmp_path: Path, tiny_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TF_CONFIG", raising=False)
    runner = CliRunner()
    for strategy, message in (("tpu", "unknown strategy 'tpu'"), ("multiworker", "needs TF_CONFIG")):
        result = runner.invoke(app, ["train", "--strategy", strategy, "--model", str(tmp_path / "m.npz"), "--epochs", "1",
                                     "--limit", "300", "--units", "4", "--data-dir", str(tiny_data)])
        assert result.exit_code == 2, result.output
        assert message in result.stderr
