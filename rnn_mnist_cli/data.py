"""Reading MNIST-layout datasets: four IDX files, gzipped or not.

IDX is big-endian: two zero bytes, a type byte (0x08 = uint8), a byte giving
the number of dimensions, one uint32 per dimension, then the raw data.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from .errors import BadInput

SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
IMAGE_SIDE = 28
# The original example trained on 55,000 images and kept the last 5,000 of the
# 60,000 for validation (TensorFlow's old `input_data` split).
VALIDATION_SIZE = 5000
# Bigger than any MNIST-layout file (train images: 47 MB): refuse before allocating.
MAX_IDX_BYTES = 1 << 30


def bundled_data_dir() -> Path:
    """The copy of MNIST that ships inside the package."""
    return Path(str(resources.files("rnn_mnist_cli") / "datasets" / "mnist"))


@dataclass(frozen=True)
class Split:
    images: np.ndarray  # uint8, (n, 28, 28), white ink on black
    labels: np.ndarray  # uint8, (n,)


def parse_idx(raw: bytes, name: str, expect_dims: int) -> np.ndarray:
    """Parse IDX bytes into a uint8 array, checking the header against the size."""
    if len(raw) < 4:
        raise BadInput(f"{name}: truncated IDX file ({len(raw)} bytes, no header)")
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or raw[3] != expect_dims:
        raise BadInput(
            f"{name}: not an IDX file of {expect_dims}-D uint8 data "
            f"(magic bytes {raw[:4].hex()}, expected 000008{expect_dims:02x})"
        )
    header_size = 4 + 4 * expect_dims
    if len(raw) < header_size:
        raise BadInput(f"{name}: truncated IDX header ({len(raw)} bytes)")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(expect_dims))
    expected = header_size + int(np.prod(dims, dtype=np.int64))
    if len(raw) != expected:
        problem = "truncated" if len(raw) < expected else "has trailing bytes"
        raise BadInput(
            f"{name}: {problem}: header says {'x'.join(map(str, dims))} "
            f"({expected} bytes) but the file holds {len(raw)} bytes"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(dims)


def _existing(directory: Path) -> Path:
    directory = Path(directory)
    if not directory.is_dir():
        raise BadInput(f"{directory}: data directory does not exist")
    return directory


def _find(directory: Path, stem: str) -> Path:
    for candidate in (directory / stem, directory / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    raise BadInput(f"{directory}: missing {stem} (or {stem}.gz)")


def _read_bytes(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            magic = handle.read(2)
            handle.seek(0)
            if magic == b"\x1f\x8b":
                with gzip.GzipFile(fileobj=handle) as unzipped:
                    raw = unzipped.read(MAX_IDX_BYTES + 1)
            else:
                raw = handle.read(MAX_IDX_BYTES + 1)
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise BadInput(f"{path}: damaged gzip data ({error})") from None
    except OSError as error:
        raise BadInput(f"{path}: cannot read ({error.strerror or error})") from None
    if len(raw) > MAX_IDX_BYTES:
        raise BadInput(f"{path}: larger than {MAX_IDX_BYTES} bytes, not an MNIST-layout file")
    return raw


def read_checksums(directory: Path) -> dict[str, str]:
    """`SHA256SUMS` as {file name: hex digest}; empty when the directory has none."""
    sums = directory / "SHA256SUMS"
    if not sums.is_file():
        return {}
    table = {}
    for line in sums.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            table[parts[1].lstrip("*")] = parts[0].lower()
    return table


def load_split(directory: Path, split: str, classes: int = 10) -> Split:
    """Load the train or test split of an MNIST-layout directory, fully checked."""
    directory = _existing(directory)
    checksums = read_checksums(directory)
    arrays = []
    for stem, dims in zip(SPLIT_FILES[split], (3, 1)):
        path = _find(directory, stem)
        raw = _read_bytes(path)
        if stem in checksums and hashlib.sha256(raw).hexdigest() != checksums[stem]:
            raise BadInput(f"{path}: SHA-256 does not match SHA256SUMS (damaged or altered file)")
        arrays.append(parse_idx(raw, str(path), dims))
    images, labels = arrays
    if images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise BadInput(f"{directory}: {split} images are {images.shape[1]}x{images.shape[2]}, expected 28x28")
    if len(images) != len(labels):
        raise BadInput(f"{directory}: {split} has {len(images)} images but {len(labels)} labels")
    if len(labels) and labels.max() >= classes:
        raise BadInput(f"{directory}: {split} labels go up to {labels.max()}, expected 0-{classes - 1} ({classes} classes)")
    return Split(images, labels)


def dataset_fingerprint(directory: Path) -> str:
    """SHA-256 over the decompressed test images: recognises a dataset wherever it lives."""
    return hashlib.sha256(_read_bytes(_find(Path(directory), SPLIT_FILES["test"][0]))).hexdigest()


# Datasets recognised by the SHA-256 of their decompressed test images, with their class names.
KNOWN_DATASETS = {
    "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7": ("MNIST", [str(d) for d in range(10)]),
    "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b": (
        "Fashion-MNIST",
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
    ),
}
LABELS_FILE = "labels.txt"  # optional, one class name per line, for any other dataset


def class_names(directory: Path) -> list[str]:
    """The names of a dataset's classes: from labels.txt, else by recognising the data, else digits."""
    directory = _existing(directory)
    labels = directory / LABELS_FILE
    if labels.is_file():
        try:
            names = [line.strip() for line in labels.read_text(encoding="utf-8").splitlines() if line.strip()]
        except (OSError, UnicodeDecodeError) as error:
            raise BadInput(f"{labels}: cannot read class names ({error})") from None
        if len(names) < 2 or len(set(names)) != len(names):
            raise BadInput(f"{labels}: needs at least two distinct class names, one per line")
        return names
    known = KNOWN_DATASETS.get(dataset_fingerprint(directory))
    return list(known[1]) if known else [str(d) for d in range(10)]


def to_inputs(images: np.ndarray) -> np.ndarray:
    """uint8 images -> float32 in [0, 1], the network's input scale."""
    return images.astype(np.float32) / np.float32(255.0)


def train_validation(split: Split, limit: int | None = None) -> tuple[Split, Split]:
    """The original split: all but the last 5,000 for training, the last 5,000 for validation.

    `limit` keeps only the first N training images (quick trials); validation
    stays the same 5,000 so that runs remain comparable.
    """
    n = len(split.labels)
    held = VALIDATION_SIZE if n > 2 * VALIDATION_SIZE else max(1, n // 10)
    train = Split(split.images[: n - held], split.labels[: n - held])
    validation = Split(split.images[n - held :], split.labels[n - held :])
    if limit is not None:
        train = Split(train.images[:limit], train.labels[:limit])
    return train, validation
