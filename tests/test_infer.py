"""The NumPy forward pass must give the Keras model's logits, and keep TensorFlow out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnn_mnist_cli import infer
from rnn_mnist_cli.config import Config
from rnn_mnist_cli.data import bundled_data_dir, load_split, to_inputs


def _compare(config: Config, weights: dict[str, np.ndarray]) -> None:
    from rnn_mnist_cli import model as network

    keras_model = network.build(config)
    network.set_weights(keras_model, weights)
    rng = np.random.default_rng(0)
    random_inputs = rng.random((64, 28, 28), dtype=np.float32)
    digits = to_inputs(load_split(bundled_data_dir(), "test").images[:256])
    for inputs in (random_inputs, digits):
        expected = keras_model.predict(inputs, verbose=0)
        got = infer.logits(config, weights, inputs)
        assert got.shape == expected.shape == (len(inputs), 10)
        assert np.max(np.abs(got - expected)) < 1e-4
        assert np.std(got) > 0.1  # the comparison is not between two constants


ARCHITECTURES = [
    Config(),
    Config(units=32, layers=2),
    Config(cell="gru", units=24),
    Config(cell="lstm", units=24),
    Config(cell="gru", units=16, layers=2, bidirectional=True),
    Config(cell="lstm", units=16, layers=2, bidirectional=True, dropout=0.3),
    Config(cell="rnn", units=16, bidirectional=True),
]


@pytest.mark.parametrize(
    "config", ARCHITECTURES, ids=["original", "stacked", "gru", "lstm", "bi-gru-2", "bi-lstm-2-dropout", "bi-rnn"]
)
def test_numpy_logits_match_keras_random_weights(config: Config) -> None:
    from rnn_mnist_cli import model as network

    network.keras.utils.set_random_seed(7)
    weights = network.get_weights(network.build(config))
    assert infer.weight_shapes(config) == {name: value.shape for name, value in weights.items()}
    rng = np.random.default_rng(3)
    for name, value in weights.items():  # the initialiser leaves biases at zero: exercise them too
        if name.endswith("bias"):
            weights[name] = rng.normal(0, 0.5, value.shape).astype(np.float32)
    _compare(config, weights)


def test_numpy_logits_match_keras_trained_weights(good_model: Path) -> None:
    from rnn_mnist_cli import checkpoint as ckpt

    trained = ckpt.load(good_model)
    _compare(trained.config, trained.best)


def test_numpy_logits_chunking_is_invisible(monkeypatch: pytest.MonkeyPatch) -> None:
    config = Config(units=12)
    rng = np.random.default_rng(1)
    weights = {name: rng.normal(0, 0.5, shape).astype(np.float32) for name, shape in infer.weight_shapes(config).items()}
    inputs = rng.random((50, 28, 28), dtype=np.float32)
    whole = infer.logits(config, weights, inputs)
    monkeypatch.setattr(infer, "CHUNK", 7)
    chunked = infer.logits(config, weights, inputs)
    assert chunked.shape == whole.shape and np.allclose(chunked, whole, atol=1e-5)


def test_eval_and_predict_never_import_tensorflow(tiny_model: Path) -> None:
    example = Path(__file__).resolve().parent.parent / "examples" / "digit-3.png"
    script = f"""
import sys
from typer.testing import CliRunner
from rnn_mnist_cli.cli import app
runner = CliRunner()
for args in (["eval", "--model", {str(tiny_model)!r}], ["predict", "--model", {str(tiny_model)!r}, {str(example)!r}]):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
assert "tensorflow" not in sys.modules and "keras" not in sys.modules, "TensorFlow was imported"
print("clean")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "clean"
