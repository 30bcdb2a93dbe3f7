"""Cold-start latency of `predict` and `eval`, beside the cost of importing TensorFlow.

    python benchmarks/predict_latency.py [--model PATH] [--repeat 11]

Every measurement is a new process, as a user's shell would start it; medians are
reported because these machines are noisy.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from rnn_mnist_cli import runs  # noqa: E402

SCRIPT = Path(sys.executable).with_name("rnn-mnist")


def wall(command: list[str], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=11)
    arguments = parser.parse_args()
    model = str(arguments.model or runs.latest_model())
    image = str(ROOT / "examples" / "digit-7.png")
    rows = [
        ("rnn-mnist predict one.png", wall([str(SCRIPT), "predict", "--model", model, image], arguments.repeat)),
        ("rnn-mnist eval (10,000 digits)", wall([str(SCRIPT), "eval", "--model", model], max(3, arguments.repeat // 2))),
        ('python -c "import tensorflow"', wall([sys.executable, "-c", "import tensorflow"], 3)),
        ('python -c "pass"', wall([sys.executable, "-c", "pass"], arguments.repeat)),
    ]
    print(f"{'command (new process each time)':<34} {'median':>8} {'min':>8} {'max':>8}  runs")
    for name, times in rows:
        print(f"{name:<34} {statistics.median(times):>7.3f}s {min(times):>7.3f}s {max(times):>7.3f}s  {len(times)}")


if __name__ == "__main__":
    main()
