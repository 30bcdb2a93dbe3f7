from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from rnn_mnist_cli.data import SPLIT_FILES, bundled_data_dir, load_split

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture(autouse=True)
def isolated_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own runs folder and working directory."""
    runs = tmp_path / "runs"
    monkeypatch.setenv("RNN_MNIST_RUNS", str(runs))
    monkeypatch.chdir(tmp_path)
    return runs


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_dataset(directory: Path, train_n: int, test_n: int, gzipped: bool = True) -> Path:
    """A small MNIST-layout directory made of the first real digits of each split."""
    directory.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", train_n), ("test", test_n)):
        data = load_split(bundled_data_dir(), split)
        for stem, array in zip(SPLIT_FILES[split], (data.images[:n], data.labels[:n])):
            raw = idx_bytes(array)
            if gzipped:
                (directory / f"{stem}.gz").write_bytes(gzip.compress(raw))
            else:
                (directory / stem).write_bytes(raw)
    return directory


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,000 training and 300 test digits: enough to train one quick epoch."""
    return write_dataset(tmp_path_factory.mktemp("tiny") / "data", 1000, 300)


@pytest.fixture(scope="session")
def good_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model good enough to read the example digits (~96%): 20,000 images, 3 epochs."""
    from rnn_mnist_cli.train import train

    path = tmp_path_factory.mktemp("good") / "model.npz"
    train(path, {"epochs": 3, "limit": 20000})
    return path


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory, tiny_data: Path) -> Path:
    from rnn_mnist_cli.train import train

    path = tmp_path_factory.mktemp("tinymodel") / "model.npz"
    train(path, {"epochs": 1, "units": 16, "data_dir": str(tiny_data)})
    return path
