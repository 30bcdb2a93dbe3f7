"""The defaults are the original example's model; presets and options combine as documented."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rnn_mnist_cli.cli import app
from rnn_mnist_cli.config import PRESETS, Config, from_options
from rnn_mnist_cli.data import VALIDATION_SIZE
from rnn_mnist_cli.errors import BadInput, RuntimeFailure


def test_defaults_are_the_original_model() -> None:
    config = Config()
    assert (config.cell, config.units, config.layers, config.bidirectional, config.dropout) == ("rnn", 150, 1, False, 0.0)
    assert (config.learning_rate, config.batch_size, config.epochs) == (0.001, 150, 10)
    assert (config.schedule, config.clipnorm, config.shift) == ("constant", None, 0)
    assert config.class_names == [str(d) for d in range(10)] and VALIDATION_SIZE == 5000
    assert from_options({}) == config


def test_default_network_is_a_basic_rnn_of_150_tanh_units_into_10_logits() -> None:
    from rnn_mnist_cli import model as network

    keras = network.keras
    built = network.build(Config())
    recurrent, dense = built.layers
    assert isinstance(recurrent, keras.layers.SimpleRNN) and recurrent.units == 150
    assert recurrent.activation.__name__ == "tanh" and not recurrent.return_sequences
    assert isinstance(dense, keras.layers.Dense) and dense.units == 10 and dense.activation.__name__ == "linear"
    assert built.input_shape == (None, 28, 28)
    assert built.count_params() == 28 * 150 + 150 * 150 + 150 + 150 * 10 + 10


def test_training_uses_adam_at_the_configured_rate(tmp_path: Path, tiny_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rnn_mnist_cli import model as network
    from rnn_mnist_cli.train import train

    made = []
    original = network.keras.optimizers.Adam

    def spy(*args, **kwargs):
        made.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(network.keras.optimizers, "Adam", spy)
    train(tmp_path / "m.npz", {"epochs": 1, "units": 4, "data_dir": str(tiny_data)})
    assert made == [{"learning_rate": 0.001, "clipnorm": None}]


def test_presets_and_overrides() -> None:
    accurate = from_options({"preset": "accurate"})
    assert accurate.preset == "accurate" and accurate.cell == PRESETS["accurate"]["cell"]
    assert accurate.bidirectional and accurate.layers == 2
    assert from_options({"preset": "accurate", "units": 32}).units == 32
    with pytest.raises(BadInput, match="unknown preset 'fast'"):
        from_options({"preset": "fast"})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cell", "transformer"], "unknown cell 'transformer'"),
        (["--schedule", "step"], "unknown schedule 'step'"),
        (["--preset", "fast"], "unknown preset 'fast'"),
        (["--dropout", "0.99"], "--dropout"),
    ],
)
def test_bad_architecture_options_exit_2(args: list[str], message: str, tiny_data: Path) -> None:
    result = CliRunner().invoke(app, ["train", "--data-dir", str(tiny_data), *args])
    assert result.exit_code == 2
    assert message in result.output


def test_saved_configuration_round_trips_and_checks_types() -> None:
    config = Config(cell="lstm", units=64, layers=3, bidirectional=True, dropout=0.25, clipnorm=1.5, class_names=list("abc"))
    assert Config.from_dict(config.to_dict(), "x") == config
    raw = config.to_dict()
    raw.pop("schedule")  # written by an older version: the default fills in
    assert Config.from_dict(raw, "x").schedule == "constant"
    for field, bad in (("bidirectional", "yes"), ("dropout", "high"), ("units", 2.5), ("class_names", [1, 2])):
        with pytest.raises(RuntimeFailure, match=f"'{field}'"):
            Config.from_dict({**config.to_dict(), field: bad}, "x")
    with pytest.raises(RuntimeFailure, match="unknown cell"):
        Config.from_dict({**config.to_dict(), "cell": "cnn"}, "x")
    assert [f.name for f in dataclasses.fields(Config)][:3] == ["cell", "units", "layers"]


def test_resume_lists_what_differs() -> None:
    saved, requested = Config(), Config(units=32, epochs=20, cell="gru")
    differences = saved.differences(requested)
    assert differences == ["cell 'rnn' (saved) vs 'gru' (requested)", "units 150 (saved) vs 32 (requested)"]
