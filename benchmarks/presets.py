"""The presets side by side: test accuracy, training time and size, every row measured.

    python benchmarks/presets.py [--presets seed accurate] [--data-dir DIR]

Each preset is trained by `rnn-mnist train --preset NAME` in its own process (the time is
that whole process: import, data, all epochs, checkpoints), then scored by `rnn-mnist eval`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from rnn_mnist_cli import checkpoint as ckpt  # noqa: E402
from rnn_mnist_cli.infer import weight_shapes  # noqa: E402

CLI = [sys.executable, "-m", "rnn_mnist_cli"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", nargs="+", default=["seed", "accurate"])
    parser.add_argument("--data-dir", default=None, help="default: the shipped MNIST")
    arguments = parser.parse_args()
    data = ["--data-dir", arguments.data_dir] if arguments.data_dir else []
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for preset in arguments.presets:
            model = Path(scratch) / f"{preset}.npz"
            print(f"training --preset {preset} ...", file=sys.stderr, flush=True)
            started = time.perf_counter()
            subprocess.run([*CLI, "train", "--preset", preset, "--model", str(model), "--json", *data],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            seconds = time.perf_counter() - started
            report = json.loads(subprocess.run([*CLI, "eval", "--model", str(model), "--json"],
                                               check=True, capture_output=True, text=True).stdout)
            trained = ckpt.load(model)
            config = trained.config
            rows.append({
                "preset": preset,
                "network": f"{'bi-' if config.bidirectional else ''}{config.cell.upper()} {config.layers}x{config.units}",
                "parameters": sum(int(np.prod(shape)) for shape in weight_shapes(config).values()),
                "epochs": f"{trained.best_epoch}/{trained.epochs_done}",
                "train": seconds,
                "val": trained.best_record["val_accuracy"],
                "test": report["accuracy"],
            })
    print(f"\ndata: {arguments.data_dir or 'MNIST (shipped)'}\n")
    print(f"{'preset':<9} {'network':<14} {'parameters':>10} {'best/epochs':>11} {'train (whole process)':>22} {'val acc':>8} {'test acc':>9}")
    for row in rows:
        print(f"{row['preset']:<9} {row['network']:<14} {row['parameters']:>10,} {row['epochs']:>11} "
              f"{row['train'] / 60:>18.1f} min {row['val']:>8.2%} {row['test']:>9.2%}")


if __name__ == "__main__":
    main()
