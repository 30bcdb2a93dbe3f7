"""Kill -9 at random moments, resume, and check the result is bit-identical to an uninterrupted run.

    python benchmarks/kill_resume.py [--times 20]

Each round starts `rnn-mnist train` (the original model) on 30,000 digits for 6 epochs and, once the first
checkpoint has appeared, sends SIGKILL after a random delay spanning the remaining epochs
(so kills land mid-epoch, mid-validation and mid-write alike). Whatever checkpoint is on
disk must load; the run is resumed with `--resume` and every weight and optimiser array is
compared with the uninterrupted reference run.
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

EPOCHS = 6
TRAIN = [sys.executable, "-m", "rnn_mnist_cli", "train", "--epochs", str(EPOCHS), "--limit", "30000"]


def first_save(path: Path, process: subprocess.Popen) -> float:
    """Wait until the first checkpoint exists; return when that was."""
    while not path.exists():
        if process.poll() is not None:
            raise SystemExit("training ended before its first checkpoint")
        time.sleep(0.01)
    return time.perf_counter()


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
        process = subprocess.Popen([*TRAIN, "--model", str(reference)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        saved_first = first_save(reference, process)
        if process.wait() != 0:
            raise SystemExit("the reference run failed")
        duration = time.perf_counter() - saved_first  # from the first save to the end
        expected = arrays(reference)
        passed = 0
        for round_number in range(1, arguments.times + 1):
            path = Path(scratch) / f"killed{round_number}.npz"
            delay = float(rng.uniform(0, 0.9 * duration))  # the last tenth is process shutdown
            process = subprocess.Popen([*TRAIN, "--model", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            first_save(path, process)
            time.sleep(delay)
            process.send_signal(signal.SIGKILL)
            process.wait()
            epochs_on_disk = ckpt.load(path, training_state=True).epochs_done if path.exists() else 0
            if epochs_on_disk < EPOCHS:
                subprocess.run([*TRAIN, "--model", str(path), "--resume"], check=True, capture_output=True)
            got = arrays(path)
            same = got.keys() == expected.keys() and all(np.array_equal(got[k], expected[k]) for k in expected)
            passed += same
            print(f"round {round_number:>2}: killed {delay:4.2f}s after the first save, {epochs_on_disk} epoch(s) on disk -> "
                  f"{'identical' if same else 'DIFFERENT'}", flush=True)
        print(f"\n{passed}/{arguments.times} rounds ended bit-identical to the uninterrupted run "
              f"(reference: {duration:.1f}s from its first save to its end)")
        if passed != arguments.times:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
