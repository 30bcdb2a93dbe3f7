"""Kill -9 at random moments, resume, and check the result is bit-identical to an uninterrupted run.

    python benchmarks/kill_resume.py [--times 20]

Each round starts `rnn-mnist train` on 8,000 digits for 4 epochs, sends SIGKILL after a
random delay (anywhere from start-up to the last epoch's checkpoint write), loads whatever
checkpoint is on disk (it must always load), resumes with `--resume`, and compares every
weight and optimiser array with the uninterrupted reference run.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from rnn_mnist_cli import checkpoint as ckpt  # noqa: E402

TRAIN = [sys.executable, "-m", "rnn_mnist_cli", "train", "--epochs", "4", "--units", "16", "--limit", "8000"]


def arrays(path: Path) -> dict[str, np.ndarray]:
    loaded = ckpt.load(path, training_state=True)
    out = {f"best/{k}": v for k, v in loaded.best.items()}
    out.update({f"last/{k}": v for k, v in loaded.last.items()})
    out.update({f"optimizer/{i}": v for i, v in enumerate(loaded.optimizer)})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--times", type=int, default=20)
    arguments = parser.parse_args()
    rng = np.random.default_rng()
    with tempfile.TemporaryDirectory() as scratch:
        reference = Path(scratch) / "reference.npz"
        started = time.perf_counter()
        subprocess.run([*TRAIN, "--model", str(reference)], check=True, capture_output=True)
        duration = time.perf_counter() - started
        expected = arrays(reference)
        passed = 0
        for round_number in range(1, arguments.times + 1):
            path = Path(scratch) / f"killed{round_number}.npz"
            delay = float(rng.uniform(0.5 * duration / 4, duration))  # mostly after start-up, up to the end
            process = subprocess.Popen([*TRAIN, "--model", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            process.send_signal(signal.SIGKILL)
            process.wait()
            epochs_on_disk = ckpt.load(path, training_state=True).epochs_done if path.exists() else 0
            if epochs_on_disk < 4:
                command = [*TRAIN, "--model", str(path)] + (["--resume"] if epochs_on_disk else [])
                subprocess.run(command, check=True, capture_output=True)
            got = arrays(path)
            same = got.keys() == expected.keys() and all(np.array_equal(got[k], expected[k]) for k in expected)
            passed += same
            print(f"round {round_number:>2}: killed after {delay:5.2f}s with {epochs_on_disk} epoch(s) on disk -> "
                  f"{'identical' if same else 'DIFFERENT'}", flush=True)
        print(f"\n{passed}/{arguments.times} rounds ended bit-identical to the uninterrupted run "
              f"(reference run took {duration:.1f}s)")
        if passed != arguments.times:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
