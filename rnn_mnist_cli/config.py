"""The one configuration object, saved inside every checkpoint.

`eval` and `predict` rebuild the network from this alone, so every field that
changes the network's shape or meaning lives here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .errors import RuntimeFailure

DIGITS = [str(d) for d in range(10)]


@dataclass
class Config:
    # The network. Defaults are the book's model (Hands-On ML, ch. 14).
    cell: str = "rnn"  # recurrent cell: a basic tanh RNN, as in the original
    units: int = 150  # the original's state size; enough for ~97% on row-by-row MNIST
    layers: int = 1  # stacked recurrent layers; the original used one
    # Training. The original: Adam at 0.001, batches of 150, 10 epochs.
    learning_rate: float = 0.001
    batch_size: int = 150
    epochs: int = 10
    # A fixed default seed so that two bare `rnn-mnist train` runs agree bit for bit.
    seed: int = 42
    limit: int | None = None  # train on only the first N training images (quick trials)
    # Where the data came from: None means the MNIST copy shipped in the package.
    data_dir: str | None = None
    # Label names shown by eval/predict, index = class id.
    class_names: list[str] = field(default_factory=lambda: list(DIGITS))

    # Fields that define the trained network; a resumed run must not change them.
    FIXED_ON_RESUME = ("cell", "units", "layers", "learning_rate", "batch_size", "seed", "limit", "data_dir")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: Any, source: str) -> Config:
        """Rebuild from saved JSON, checking every type: the file may not be ours."""
        if not isinstance(raw, dict):
            raise RuntimeFailure(f"{source}: configuration is not a JSON object")
        defaults = cls()
        values = {}
        for spec in dataclasses.fields(cls):
            if spec.name not in raw:
                raise RuntimeFailure(f"{source}: configuration lacks '{spec.name}'")
            value = raw[spec.name]
            expected = getattr(defaults, spec.name)
            if spec.name in ("limit", "data_dir") and value is None:
                pass
            elif spec.name == "class_names":
                if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
                    raise RuntimeFailure(f"{source}: configuration 'class_names' must be a list of strings")
            elif spec.name == "limit" or isinstance(expected, int) and not isinstance(expected, bool):
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise RuntimeFailure(f"{source}: configuration '{spec.name}' must be a whole number, got {value!r}")
            elif isinstance(expected, float):
                if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
                    raise RuntimeFailure(f"{source}: configuration '{spec.name}' must be a positive number, got {value!r}")
                value = float(value)
            elif not isinstance(value, str):
                raise RuntimeFailure(f"{source}: configuration '{spec.name}' must be a string, got {value!r}")
            values[spec.name] = value
        config = cls(**values)
        if config.cell not in ("rnn",):
            raise RuntimeFailure(f"{source}: unknown cell type {config.cell!r}")
        if config.units < 1 or config.layers < 1:
            raise RuntimeFailure(f"{source}: configuration has no units or layers")
        return config

    def differences(self, other: Config) -> list[str]:
        """Human-readable 'name: saved -> requested' for fields fixed on resume."""
        return [
            f"{name} {getattr(self, name)!r} (saved) vs {getattr(other, name)!r} (requested)"
            for name in self.FIXED_ON_RESUME
            if getattr(self, name) != getattr(other, name)
        ]
