"""The trained network's forward pass in NumPy.

`predict` and `eval` run through here instead of TensorFlow: the network is 28
small matrix products per image, and importing TensorFlow alone takes seconds.
`tests/test_infer.py` holds this to the Keras model's logits within 1e-4.
"""

from __future__ import annotations

import numpy as np

from .config import Config
from .errors import RuntimeFailure

# Bounds memory for large batches: 4,096 images x 150 units x 4 bytes is 2.4 MB a state.
CHUNK = 4096


def weight_shapes(config: Config, inputs: int = 28) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every weight the network defined by `config` has."""
    shapes: dict[str, tuple[int, ...]] = {}
    width = inputs
    for layer in range(config.layers):
        shapes[f"rnn{layer}/kernel"] = (width, config.units)
        shapes[f"rnn{layer}/recurrent_kernel"] = (config.units, config.units)
        shapes[f"rnn{layer}/bias"] = (config.units,)
        width = config.units
    shapes["dense/kernel"] = (width, len(config.class_names))
    shapes["dense/bias"] = (len(config.class_names),)
    return shapes


def check_weights(config: Config, weights: dict[str, np.ndarray], source: str) -> None:
    """Refuse weights that do not fit the configuration (another architecture, damage)."""
    expected = weight_shapes(config)
    missing = sorted(set(expected) - set(weights))
    if missing:
        raise RuntimeFailure(f"{source}: checkpoint lacks weights {', '.join(missing)} for its configuration")
    for name, shape in expected.items():
        array = weights[name]
        if array.shape != shape or array.dtype.kind != "f":
            raise RuntimeFailure(
                f"{source}: weight {name} is {array.dtype}{list(array.shape)}, the configuration needs float{list(shape)}"
            )
        if not np.all(np.isfinite(array)):
            raise RuntimeFailure(f"{source}: weight {name} holds NaN or infinity (training diverged?)")


def logits(config: Config, weights: dict[str, np.ndarray], images: np.ndarray) -> np.ndarray:
    """Logits (n, classes) for float images (n, 28, 28) in [0, 1]; rows are the timesteps."""
    images = np.asarray(images, dtype=np.float32)
    out = np.empty((len(images), len(config.class_names)), dtype=np.float32)
    w = {name: np.asarray(value, dtype=np.float32) for name, value in weights.items()}
    for start in range(0, len(images), CHUNK):
        sequence = images[start : start + CHUNK]
        for layer in range(config.layers):
            sequence = _simple_rnn(
                sequence,
                w[f"rnn{layer}/kernel"],
                w[f"rnn{layer}/recurrent_kernel"],
                w[f"rnn{layer}/bias"],
            )
        out[start : start + CHUNK] = sequence[:, -1] @ w["dense/kernel"] + w["dense/bias"]
    return out


def _simple_rnn(sequence: np.ndarray, kernel: np.ndarray, recurrent: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """h_t = tanh(x_t W + h_{t-1} U + b), h_0 = 0; returns every h_t, (n, steps, units)."""
    n, steps, _ = sequence.shape
    # One big product for the input projection of all timesteps, then the recurrence.
    projected = (sequence.reshape(n * steps, -1) @ kernel).reshape(n, steps, -1) + bias
    states = np.empty_like(projected)
    h = np.tanh(projected[:, 0])
    states[:, 0] = h
    for t in range(1, steps):
        h = np.tanh(projected[:, t] + h @ recurrent)
        states[:, t] = h
    return states


def softmax(values: np.ndarray) -> np.ndarray:
    shifted = np.exp(values - values.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)
