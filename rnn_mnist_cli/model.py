"""The network in Keras: recurrent layer(s) over 28 rows of 28 pixels, a dense layer of logits.

Imported only by training: it pulls in TensorFlow.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator

import numpy as np

from .config import Config
from .data import IMAGE_SIDE


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """TensorFlow 2.21's C++ start-up lines (oneDNN, missing CUDA) ignore
    TF_CPP_MIN_LOG_LEVEL, so they are sent to a scratch file at the descriptor level."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
with _native_stderr_silenced():
    import keras
    import tensorflow as tf

    tf.config.list_physical_devices()  # device discovery is where the CUDA complaint comes from

CELL_LAYERS = {"rnn": keras.layers.SimpleRNN, "gru": keras.layers.GRU, "lstm": keras.layers.LSTM}


def build(config: Config) -> keras.Model:
    layers: list = [keras.Input((IMAGE_SIDE, IMAGE_SIDE), name="rows")]
    for index in range(config.layers):
        last = index == config.layers - 1
        recurrent = CELL_LAYERS[config.cell](
            config.units,
            return_sequences=not last,
            # 28 fixed steps: unrolled, XLA fuses across timesteps; measured 0.95 s an
            # epoch against 1.48 s with the while-loop (benchmarks/train_speed.py).
            unroll=True,
            name=f"rnn{index}",
        )
        if config.bidirectional:
            recurrent = keras.layers.Bidirectional(recurrent, name=f"rnn{index}")
        layers.append(recurrent)
        if config.dropout:
            layers.append(keras.layers.Dropout(config.dropout, name=f"dropout{index}"))
    layers.append(keras.layers.Dense(len(config.class_names), name="dense"))  # logits
    return keras.Sequential(layers, name="rnn_mnist")


def named_variables(model: keras.Model) -> dict[str, keras.Variable]:
    """Variables under the checkpoint's names: `rnn0/kernel`, `rnn0/backward/bias`, `dense/bias`, ..."""
    named = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.Bidirectional):
            for direction, sub in (("forward", layer.forward_layer), ("backward", layer.backward_layer)):
                named.update({f"{layer.name}/{direction}/{v.name}": v for v in sub.weights})
        else:
            named.update({f"{layer.name}/{v.name}": v for v in layer.weights})
    return named


def get_weights(model: keras.Model) -> dict[str, np.ndarray]:
    return {name: np.array(variable.numpy()) for name, variable in named_variables(model).items()}


def set_weights(model: keras.Model, weights: dict[str, np.ndarray]) -> None:
    for name, variable in named_variables(model).items():
        variable.assign(weights[name])
