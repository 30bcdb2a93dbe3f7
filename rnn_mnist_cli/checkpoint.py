"""Checkpoints: one `.npz` file holding everything a run needs.

One file, not a folder, so that it can be replaced atomically: at any instant
the path holds either the previous complete checkpoint or the new complete one.
It is read with NumPy alone (no pickle, no TensorFlow), which keeps `eval` and
`predict` instant. Inside:

- `meta.json`     format marker, epochs completed, best epoch
- `config.json`   the `Config` the network was built from
- `history.json`  one record of metrics per completed epoch
- `best/<name>`   the weights with the best validation accuracy (used by eval/predict)
- `last/<name>`   the weights after the last completed epoch (used by --resume)
- `optimizer/<i>` the optimiser's variables after the last completed epoch
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .config import Config
from .errors import RuntimeFailure

FORMAT = "rnn-mnist-checkpoint"
FORMAT_VERSION = 1
SUFFIX = ".npz"


@dataclass
class Checkpoint:
    config: Config
    best: dict[str, np.ndarray]  # weights for inference
    history: list[dict[str, Any]] = field(default_factory=list)
    epochs_done: int = 0
    best_epoch: int = 0
    last: dict[str, np.ndarray] = field(default_factory=dict)  # weights to resume from
    optimizer: list[np.ndarray] = field(default_factory=list)  # optimiser state to resume from

    @property
    def best_record(self) -> dict[str, Any] | None:
        return self.history[self.best_epoch - 1] if self.best_epoch else None


def _json_array(value: Any) -> np.ndarray:
    return np.frombuffer(json.dumps(value).encode(), dtype=np.uint8)


def write_atomically(path: Path, write: Any) -> None:
    """Call `write(binary_file)` on a temporary file beside `path`, fsync, rename over `path`.

    On any failure the temporary file is removed and `path` is untouched.
    """
    path = Path(path)
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(dir=parent, prefix=f".{path.name}.", suffix=".tmp", delete=False)
    except OSError as error:
        raise RuntimeFailure(f"{path}: cannot write here ({error.strerror or error})") from None
    try:
        with handle:
            # mkstemp makes the file private (0600); give it the mode a plain open() would.
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(handle.fileno(), 0o666 & ~umask)
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException as error:
        try:
            os.unlink(handle.name)
        except OSError:
            pass
        if isinstance(error, OSError):
            raise RuntimeFailure(f"{path}: cannot write ({error.strerror or error}); the previous file is intact") from None
        raise
    try:  # make the rename itself durable
        directory = os.open(parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError:
        pass


def check_writable(path: Path) -> None:
    """Fail before training, not after the first epoch, when the checkpoint cannot be written.

    Also sweeps temporary files that a killed write to this same path left behind.
    """
    path = Path(path)
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"):
            pass
    except OSError as error:
        raise RuntimeFailure(f"{path}: cannot write here ({error.strerror or error})") from None


def save(path: Path, checkpoint: Checkpoint) -> None:
    arrays: dict[str, np.ndarray] = {
        "meta.json": _json_array(
            {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "epochs_done": checkpoint.epochs_done,
                "best_epoch": checkpoint.best_epoch,
            }
        ),
        "config.json": _json_array(checkpoint.config.to_dict()),
        "history.json": _json_array(checkpoint.history),
    }
    arrays.update({f"best/{name}": value for name, value in checkpoint.best.items()})
    arrays.update({f"last/{name}": value for name, value in checkpoint.last.items()})
    arrays.update({f"optimizer/{i}": value for i, value in enumerate(checkpoint.optimizer)})
    write_atomically(path, lambda handle: np.savez(handle, **arrays))


def _load_json(archive: Any, key: str, path: Path) -> Any:
    try:
        return json.loads(bytes(archive[key]).decode())
    except (ValueError, UnicodeDecodeError):
        raise RuntimeFailure(f"{path}: damaged checkpoint ({key} is not valid JSON)") from None


def load(path: Path, training_state: bool = False) -> Checkpoint:
    """Read a checkpoint, checking that it is ours and complete.

    With `training_state` the last weights and optimiser state are read too
    (only `--resume` needs them).
    """
    path = Path(path)
    if path.is_dir():
        raise RuntimeFailure(f"{path}: is a directory, expected a checkpoint file ({SUFFIX})")
    if not path.exists():
        raise RuntimeFailure(f"{path}: no trained model here; run `rnn-mnist train` first")
    try:
        with np.load(path, allow_pickle=False) as archive:
            names = set(archive.files)
            if "meta.json" not in names:
                raise RuntimeFailure(f"{path}: not an rnn-mnist checkpoint (no meta.json inside)")
            meta = _load_json(archive, "meta.json", path)
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise RuntimeFailure(f"{path}: not an rnn-mnist checkpoint")
            if meta.get("version") != FORMAT_VERSION:
                raise RuntimeFailure(f"{path}: checkpoint format version {meta.get('version')!r} is not supported")
            for key in ("config.json", "history.json"):
                if key not in names:
                    raise RuntimeFailure(f"{path}: damaged checkpoint ({key} missing)")
            config = Config.from_dict(_load_json(archive, "config.json", path), str(path))
            history = _load_json(archive, "history.json", path)
            epochs_done, best_epoch = meta.get("epochs_done"), meta.get("best_epoch")
            if not (
                isinstance(history, list)
                and isinstance(epochs_done, int)
                and isinstance(best_epoch, int)
                and 0 <= best_epoch <= epochs_done == len(history)
            ):
                raise RuntimeFailure(f"{path}: damaged checkpoint (epoch counts disagree)")
            checkpoint = Checkpoint(
                config=config,
                best={n[5:]: archive[n] for n in archive.files if n.startswith("best/")},
                history=history,
                epochs_done=epochs_done,
                best_epoch=best_epoch,
            )
            if training_state:
                checkpoint.last = {n[5:]: archive[n] for n in archive.files if n.startswith("last/")}
                count = sum(n.startswith("optimizer/") for n in archive.files)
                checkpoint.optimizer = [archive[f"optimizer/{i}"] for i in range(count)]
    except RuntimeFailure:
        raise
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as error:
        raise RuntimeFailure(f"{path}: damaged or unreadable checkpoint ({type(error).__name__}: {error})") from None
    from .infer import check_weights  # the expected shapes come from the network's definition

    check_weights(checkpoint.config, checkpoint.best, str(path))
    return checkpoint
