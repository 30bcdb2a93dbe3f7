"""The pictures a run leaves behind: training curves, confusion matrix, most confident mistakes.

matplotlib is imported inside each function (it costs ~0.5 s), and every PNG is
written atomically like the checkpoints.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from .checkpoint import write_atomically


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no screen needed
    import matplotlib.pyplot as plt

    return plt


def _save(figure: Any, path: Path) -> Path:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    _pyplot().close(figure)
    write_atomically(path, lambda handle: handle.write(buffer.getvalue()))
    return path


def curves(history: list[dict[str, Any]], path: Path) -> Path:
    """Loss and accuracy per epoch, training against validation."""
    plt = _pyplot()
    epochs = [record["epoch"] for record in history]
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 4))
    for axes, key, title in ((loss_axes, "loss", "loss"), (accuracy_axes, "accuracy", "accuracy")):
        axes.plot(epochs, [r[key] for r in history], "o-", label="train")
        axes.plot(epochs, [r[f"val_{key}"] for r in history], "s-", label="validation")
        axes.set_xlabel("epoch")
        axes.set_title(title)
        axes.grid(alpha=0.3)
        axes.legend()
    if epochs:
        best = max(history, key=lambda r: r["val_accuracy"])
        accuracy_axes.annotate(
            f"best {best['val_accuracy']:.2%}", (best["epoch"], best["val_accuracy"]),
            textcoords="offset points", xytext=(-40, -25), arrowprops={"arrowstyle": "->"},
        )
    return _save(figure, path)


def confusion(matrix: np.ndarray, names: list[str], path: Path, title: str = "") -> Path:
    """Counts, rows true and columns predicted; colour on a log scale so small confusions show."""
    plt = _pyplot()
    from matplotlib.colors import LogNorm

    size = max(6.0, 0.6 * len(names) + 2)
    figure, axes = plt.subplots(figsize=(size, size * 0.85))
    shown = axes.imshow(np.maximum(matrix, 0.5), cmap="Blues", norm=LogNorm(vmin=0.5, vmax=max(1, matrix.max())))
    axes.set_xticks(range(len(names)), names, rotation=45 if max(map(len, names)) > 2 else 0, ha="right" if max(map(len, names)) > 2 else "center")
    axes.set_yticks(range(len(names)), names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title or "confusion matrix")
    threshold = matrix.max() ** 0.5 if matrix.max() > 0 else 1
    for i in range(len(names)):
        for j in range(len(names)):
            if matrix[i, j]:
                axes.text(j, i, str(int(matrix[i, j])), ha="center", va="center", fontsize=8,
                          color="white" if matrix[i, j] > threshold else "black")
    figure.colorbar(shown, ax=axes, shrink=0.8)
    return _save(figure, path)


def error_grid(images: np.ndarray, truth: list[str], predicted: list[str], confidence: np.ndarray, path: Path) -> Path:
    """The given digits (most confident mistakes first) with true and predicted labels."""
    plt = _pyplot()
    count = len(images)
    columns = min(8, max(1, count))
    rows = max(1, -(-count // columns))
    figure, grid = plt.subplots(rows, columns, figsize=(1.6 * columns, 1.9 * rows), squeeze=False)
    for index, axes in enumerate(grid.ravel()):
        axes.axis("off")
        if index < count:
            axes.imshow(images[index], cmap="gray", vmin=0, vmax=1)
            axes.set_title(f"true {truth[index]}\npred {predicted[index]} {confidence[index]:.0%}", fontsize=8, color="darkred")
    return _save(figure, path)
