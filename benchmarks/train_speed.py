"""Training speed: rnn-mnist against a plain Keras port (and PyTorch's nn.RNN if installed).

    python benchmarks/train_speed.py [--epochs 10] [--rounds 2]

Each contender trains the original model for the same epochs in its own process,
alternating round by round so that machine noise hits all of them alike. Reported:
first epoch (it compiles) apart from the median of the others, the ratio to the plain
Keras port, test accuracy, the whole process's wall time and its peak resident memory.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def timed(command: list[str]) -> tuple[str, float, float]:
    """Run a command; return its stdout, wall seconds and peak resident memory in MiB."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    stdout = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return stdout, wall, usage.ru_maxrss / 1024


def run_rnn_mnist(epochs: int, scratch: Path) -> dict:
    model = scratch / "model.npz"
    model.unlink(missing_ok=True)
    out, wall, peak = timed([sys.executable, "-m", "rnn_mnist_cli", "train", "--model", str(model), "--epochs", str(epochs), "--json"])
    history = json.loads(out)["history"]
    report = json.loads(subprocess.run(
        [sys.executable, "-m", "rnn_mnist_cli", "eval", "--model", str(model), "--json"], capture_output=True, text=True, check=True
    ).stdout)
    return {"epoch_seconds": [r["seconds"] for r in history], "test_accuracy": report["accuracy"], "wall": wall, "peak_mib": peak}


def run_port(framework: str, epochs: int) -> dict:
    out, wall, peak = timed([sys.executable, str(HERE / "plain_ports.py"), framework, "--epochs", str(epochs)])
    return {**json.loads(out), "wall": wall, "peak_mib": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    arguments = parser.parse_args()
    contenders = {"rnn-mnist train": None, "plain Keras port": "keras"}
    if importlib.util.find_spec("torch") is not None:
        contenders["PyTorch nn.RNN"] = "torch"
    results: dict[str, list[dict]] = {name: [] for name in contenders}
    with tempfile.TemporaryDirectory() as scratch:
        for round_number in range(arguments.rounds):
            for name, framework in contenders.items():
                print(f"round {round_number + 1}/{arguments.rounds}: {name} ...", file=sys.stderr, flush=True)
                result = run_rnn_mnist(arguments.epochs, Path(scratch)) if framework is None else run_port(framework, arguments.epochs)
                results[name].append(result)

    def steady(runs: list[dict]) -> float:
        return statistics.median(t for run in runs for t in run["epoch_seconds"][1:])

    baseline = steady(results["plain Keras port"])
    print(f"\n{arguments.epochs} epochs x {arguments.rounds} rounds, batch 150, SimpleRNN(150) + Dense(10), Adam 0.001\n")
    header = f"{'trainer':<18} {'first epoch':>11} {'median epoch':>12} {'ratio':>6} {'test acc':>9} {'whole process':>13} {'peak RSS':>9}"
    print(header)
    print("-" * len(header))
    for name, runs in results.items():
        print(
            f"{name:<18} {statistics.median(r['epoch_seconds'][0] for r in runs):>10.2f}s {steady(runs):>11.3f}s "
            f"{steady(runs) / baseline:>6.2f} {statistics.median(r['test_accuracy'] for r in runs):>9.2%} "
            f"{statistics.median(r['wall'] for r in runs):>12.1f}s {max(r['peak_mib'] for r in runs):>6.0f} MiB"
        )
    print("\nratio: median steady-state epoch time over the plain Keras port's, measured in this same run")


if __name__ == "__main__":
    main()
