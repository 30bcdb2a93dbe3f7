"""rnn-mnist from Python: train a small model, evaluate it, read a digit image.

    python examples/library_api.py [--epochs 1] [--limit 10000]

The command line is a thin layer over these same calls.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from rnn_mnist_cli import checkpoint, images, infer
from rnn_mnist_cli.evaluate import evaluate
from rnn_mnist_cli.train import train

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--limit", type=int, default=10000, help="training images (55,000 for the full set)")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "digits.npz"
        # The original model (a basic RNN of 150 units), on a slice of MNIST for speed.
        trained = train(path, {"epochs": arguments.epochs, "limit": arguments.limit})
        print(f"trained {trained.epochs_done} epoch(s): validation accuracy {trained.best_record['val_accuracy']:.2%}")

        # eval and predict need nothing but the checkpoint file.
        model = checkpoint.load(path)
        report = evaluate(model)
        print(f"test accuracy {report.accuracy:.2%} on {report.examples} images")

        for name in ("digit-7.png", "hand-4.jpg"):
            pixels = images.load(HERE / name)  # any image -> MNIST-style 28x28 in [0, 1]
            probabilities = infer.softmax(infer.logits(model.config, model.best, pixels[None]))[0]
            digit = int(probabilities.argmax())
            print(f"{name}: {model.config.class_names[digit]} ({probabilities[digit]:.1%})")


if __name__ == "__main__":
    main()
