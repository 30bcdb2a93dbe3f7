"""Run folders: `runs/001`, `runs/002`, ... one per `train`, never overwritten.

The bare commands chain through them: `train` makes the next folder, `eval`
and `predict` use the newest. `RNN_MNIST_RUNS` moves the whole tree.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from pathlib import Path
from typing import Any

from .checkpoint import Checkpoint, load, write_atomically
from .errors import RnnMnistError, RuntimeFailure

RUNS_ENV = "RNN_MNIST_RUNS"
MODEL_FILE = "model.npz"
EVAL_FILE = "eval.json"  # the last `eval` of the run's checkpoint, for `rnn-mnist runs`
METRIC_COLUMNS = ("epoch", "seconds", "loss", "accuracy", "val_loss", "val_accuracy")


def root() -> Path:
    return Path(os.environ.get(RUNS_ENV) or "runs")


def _numbered(base: Path) -> list[tuple[int, Path]]:
    if not base.is_dir():
        return []
    return sorted((int(p.name), p) for p in base.iterdir() if p.name.isdigit() and p.is_dir())


def new_run() -> Path:
    """Create the next numbered run folder (exclusively: two trainings never share one)."""
    base = root()
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RuntimeFailure(f"{base}: cannot create the runs folder ({error.strerror or error})") from None
    existing = _numbered(base)
    number = (existing[-1][0] if existing else 0) + 1
    while True:
        candidate = base / f"{number:03d}"
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            number += 1
        except OSError as error:
            raise RuntimeFailure(f"{candidate}: cannot create run folder ({error.strerror or error})") from None


def all_runs() -> list[Path]:
    """Run folders holding a checkpoint, oldest first."""
    return [path for _, path in _numbered(root()) if (path / MODEL_FILE).is_file()]


def latest_model() -> Path:
    """The newest run's checkpoint: what the bare `eval` and `predict` use."""
    runs = all_runs()
    if not runs:
        raise RuntimeFailure(f"no trained model in {root()}/; run `rnn-mnist train` first (or pass --model PATH)")
    return runs[-1] / MODEL_FILE


def run_folder(model: Path) -> Path | None:
    """The run folder a checkpoint belongs to, or None for a checkpoint the user named."""
    model = Path(model)
    return model.parent if model.name == MODEL_FILE and model.parent.name.isdigit() else None


def output_name(model: Path, name: str) -> Path:
    """`runs/003/confusion_matrix.png`, or `mine-confusion_matrix.png` beside `mine.npz`."""
    model = Path(model)
    return model.parent / name if run_folder(model) else model.with_name(f"{model.stem}-{name}")


def write_json(path: Path, value: Any) -> None:
    text = json.dumps(value, indent=2) + "\n"
    write_atomically(path, lambda handle: handle.write(text.encode()))


def summaries() -> list[dict[str, Any]]:
    """One row per run, oldest first: what `rnn-mnist runs` lists."""
    rows = []
    for run in all_runs():
        row: dict[str, Any] = {"run": run.name, "path": str(run / MODEL_FILE)}
        try:
            checkpoint = load(run / MODEL_FILE)
        except RnnMnistError as error:
            rows.append({**row, "error": str(error)})
            continue
        best = checkpoint.best_record or {}
        config = checkpoint.config
        row.update(
            {
                "model": f"{'bi-' if config.bidirectional else ''}{config.cell} {config.layers}x{config.units}",
                "preset": config.preset,
                "data": Path(config.data_dir).name if config.data_dir else "mnist",
                "epochs": f"{checkpoint.epochs_done}/{config.epochs}",
                "best_val_accuracy": best.get("val_accuracy"),
                "test_accuracy": None,
                "trained": time.strftime("%Y-%m-%d %H:%M", time.localtime((run / MODEL_FILE).stat().st_mtime)),
            }
        )
        try:
            row["test_accuracy"] = json.loads((run / EVAL_FILE).read_text())["accuracy"]
        except (OSError, ValueError, KeyError, TypeError):
            pass  # not evaluated yet
        rows.append(row)
    return rows


def write_run_files(run: Path, checkpoint: Checkpoint) -> None:
    """The human-readable side of a run: its configuration and per-epoch metrics."""
    write_json(run / "config.json", checkpoint.config.to_dict())
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=METRIC_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(checkpoint.history)
    write_atomically(run / "metrics.csv", lambda handle: handle.write(table.getvalue().encode()))
