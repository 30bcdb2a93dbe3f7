"""The comparison points for train_speed.py: the original model written plainly.

    python benchmarks/plain_ports.py keras --epochs 10
    python benchmarks/plain_ports.py torch --epochs 10   # if PyTorch is installed

Each prints one JSON object: per-epoch seconds and test accuracy. Same data, same split
(55,000 / last 5,000 held out), same model, optimiser, batch size and epochs as rnn-mnist.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from rnn_mnist_cli.data import bundled_data_dir, load_split, to_inputs, train_validation  # noqa: E402


def load() -> tuple[np.ndarray, ...]:
    train, validation = train_validation(load_split(bundled_data_dir(), "train"))
    test = load_split(bundled_data_dir(), "test")
    return (
        to_inputs(train.images), train.labels.astype(np.int64),
        to_inputs(validation.images), validation.labels.astype(np.int64),
        to_inputs(test.images), test.labels.astype(np.int64),
    )


def keras_port(epochs: int) -> dict:
    import keras

    x, y, xv, yv, xt, yt = load()
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.SimpleRNN(150), keras.layers.Dense(10)])
    model.compile(
        optimizer=keras.optimizers.Adam(0.001),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    times: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.started)

    model.fit(x, y, batch_size=150, epochs=epochs, validation_data=(xv, yv), verbose=0, callbacks=[Timer()])
    accuracy = float(np.mean(model.predict(xt, verbose=0).argmax(1) == yt))
    return {"epoch_seconds": times, "test_accuracy": accuracy}


def torch_port(epochs: int) -> dict:
    import torch

    x, y, xv, yv, xt, yt = load()

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = torch.nn.RNN(28, 150, batch_first=True, nonlinearity="tanh")
            self.dense = torch.nn.Linear(150, 10)

        def forward(self, inputs):
            _, last = self.rnn(inputs)
            return self.dense(last[0])

    net = Net()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.001)
    loss_fn = torch.nn.CrossEntropyLoss()
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)
    times = []
    for _ in range(epochs):
        started = time.perf_counter()
        order = torch.randperm(len(xs))
        for first in range(0, len(xs), 150):
            batch = order[first : first + 150]
            optimizer.zero_grad()
            loss = loss_fn(net(xs[batch]), ys[batch])
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            net(torch.from_numpy(xv))
        times.append(time.perf_counter() - started)
    with torch.no_grad():
        accuracy = float((net(torch.from_numpy(xt)).argmax(1).numpy() == yt).mean())
    return {"epoch_seconds": times, "test_accuracy": accuracy}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("framework", choices=["keras", "torch"])
    parser.add_argument("--epochs", type=int, default=10)
    arguments = parser.parse_args()
    port = keras_port if arguments.framework == "keras" else torch_port
    print(json.dumps(port(arguments.epochs)))
