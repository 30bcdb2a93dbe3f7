"""Test-set evaluation with the NumPy forward pass: accuracy, per-class scores, confusion matrix."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import infer
from .checkpoint import Checkpoint
from .data import bundled_data_dir, load_split, to_inputs


@dataclass
class Report:
    accuracy: float
    examples: int
    class_names: list[str]
    confusion: np.ndarray  # [true, predicted] counts
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    # Per example, for pictures of the mistakes (not part of the JSON report).
    labels: np.ndarray | None = None
    probabilities: np.ndarray | None = None
    inputs: np.ndarray | None = None

    def confident_errors(self, count: int) -> np.ndarray:
        """Indices of the `count` wrong predictions made with the highest confidence."""
        assert self.labels is not None and self.probabilities is not None
        predicted = self.probabilities.argmax(axis=1)
        wrong = np.flatnonzero(predicted != self.labels)
        return wrong[np.argsort(-self.probabilities[wrong].max(axis=1), kind="stable")][:count]

    def to_dict(self) -> dict[str, Any]:
        return {
            "accuracy": self.accuracy,
            "examples": self.examples,
            "classes": [
                {
                    "label": name,
                    "precision": float(self.precision[i]),
                    "recall": float(self.recall[i]),
                    "f1": float(self.f1[i]),
                    "support": int(self.support[i]),
                }
                for i, name in enumerate(self.class_names)
            ],
            "confusion_matrix": self.confusion.tolist(),
        }


def score(labels: np.ndarray, predicted: np.ndarray, class_names: list[str]) -> Report:
    classes = len(class_names)
    confusion = np.zeros((classes, classes), np.int64)
    np.add.at(confusion, (labels.astype(np.int64), predicted.astype(np.int64)), 1)
    hits = np.diag(confusion).astype(np.float64)
    support = confusion.sum(axis=1)
    called = confusion.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(called > 0, hits / called, 0.0)
        recall = np.where(support > 0, hits / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return Report(
        accuracy=float(hits.sum() / max(1, len(labels))),
        examples=int(len(labels)),
        class_names=class_names,
        confusion=confusion,
        precision=precision,
        recall=recall,
        f1=f1,
        support=support,
    )


def evaluate(checkpoint: Checkpoint, data_dir: Path | None = None) -> Report:
    """Score the checkpoint's best weights on the test split of its data (or `data_dir`)."""
    if data_dir is None:
        data_dir = Path(checkpoint.config.data_dir) if checkpoint.config.data_dir else bundled_data_dir()
    test = load_split(data_dir, "test", len(checkpoint.config.class_names))
    inputs = to_inputs(test.images)
    logits = infer.logits(checkpoint.config, checkpoint.best, inputs)
    report = score(test.labels, logits.argmax(axis=1), checkpoint.config.class_names)
    report.labels, report.probabilities, report.inputs = test.labels, infer.softmax(logits), inputs
    return report
