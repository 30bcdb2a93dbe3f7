from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest

from rnn_mnist_cli.data import (
    VALIDATION_SIZE,
    bundled_data_dir,
    load_split,
    parse_idx,
    read_checksums,
    train_validation,
)
from rnn_mnist_cli.errors import BadInput

from .conftest import idx_bytes, write_dataset


def test_bundled_mnist_is_complete_and_verified() -> None:
    train = load_split(bundled_data_dir(), "train")
    test = load_split(bundled_data_dir(), "test")
    assert train.images.shape == (60000, 28, 28) and test.images.shape == (10000, 28, 28)
    assert train.labels[:5].tolist() == [5, 0, 4, 1, 9]  # MNIST's well-known first labels
    assert np.bincount(test.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert len(read_checksums(bundled_data_dir())) == 4


def test_original_split_holds_out_last_5000() -> None:
    train, validation = train_validation(load_split(bundled_data_dir(), "train"))
    assert len(train.labels) == 55000 and len(validation.labels) == VALIDATION_SIZE == 5000
    full = load_split(bundled_data_dir(), "train")
    assert np.array_equal(validation.images, full.images[55000:])
    limited, same_validation = train_validation(full, limit=123)
    assert len(limited.labels) == 123 and np.array_equal(same_validation.labels, validation.labels)


def test_parse_idx_round_trip() -> None:
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    assert np.array_equal(parse_idx(idx_bytes(array), "x", 3), array)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda raw: raw[:2], "truncated IDX file"),
        (lambda raw: b"\x00\x00\x08\x01" + raw[4:], "not an IDX file of 3-D"),
        (lambda raw: b"\x00\x00\x0d\x03" + raw[4:], "magic bytes 00000d03"),
        (lambda raw: raw[:10], "truncated IDX header"),
        (lambda raw: raw[:-1], "truncated: header says 2x3x4"),
        (lambda raw: raw + b"\x00", "has trailing bytes"),
        (lambda raw: raw[:4] + (10**9).to_bytes(4, "big") + raw[8:], "truncated: header says 1000000000x3x4"),
    ],
)
def test_parse_idx_rejects_damage(mutate, message: str) -> None:
    raw = idx_bytes(np.zeros((2, 3, 4), np.uint8))
    with pytest.raises(BadInput, match=message):
        parse_idx(mutate(raw), "images.idx", 3)


def test_plain_and_gzipped_directories_load_alike(tmp_path: Path) -> None:
    plain = load_split(write_dataset(tmp_path / "plain", 50, 20, gzipped=False), "test")
    packed = load_split(write_dataset(tmp_path / "packed", 50, 20, gzipped=True), "test")
    assert np.array_equal(plain.images, packed.images) and plain.images.shape == (20, 28, 28)


def test_checksum_mismatch_names_the_file(tmp_path: Path) -> None:
    directory = write_dataset(tmp_path / "d", 50, 20, gzipped=False)
    raw = (directory / "t10k-labels-idx1-ubyte").read_bytes()
    (directory / "SHA256SUMS").write_text(f"{hashlib.sha256(raw).hexdigest()}  t10k-labels-idx1-ubyte\n")
    load_split(directory, "test")  # matching sum: fine
    (directory / "t10k-labels-idx1-ubyte").write_bytes(raw[:-1] + bytes([(raw[-1] + 1) % 10]))
    with pytest.raises(BadInput, match=r"t10k-labels-idx1-ubyte: SHA-256 does not match"):
        load_split(directory, "test")


def test_damaged_gzip_and_missing_files(tmp_path: Path) -> None:
    directory = write_dataset(tmp_path / "d", 50, 20)
    gz = directory / "t10k-images-idx3-ubyte.gz"
    gz.write_bytes(gz.read_bytes()[:100])
    with pytest.raises(BadInput, match=r"t10k-images-idx3-ubyte.gz: damaged gzip data"):
        load_split(directory, "test")
    (directory / "t10k-labels-idx1-ubyte.gz").unlink()
    gz.write_bytes(gzip.compress(idx_bytes(np.zeros((20, 28, 28), np.uint8))))
    with pytest.raises(BadInput, match=r"missing t10k-labels-idx1-ubyte"):
        load_split(directory, "test")
    with pytest.raises(BadInput, match="data directory does not exist"):
        load_split(tmp_path / "nowhere", "test")


def test_wrong_shapes_and_labels(tmp_path: Path) -> None:
    directory = tmp_path / "d"
    directory.mkdir()
    (directory / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((3, 32, 32), np.uint8)))
    (directory / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(3, np.uint8)))
    with pytest.raises(BadInput, match="32x32, expected 28x28"):
        load_split(directory, "test")
    (directory / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((3, 28, 28), np.uint8)))
    (directory / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.array([1, 2], np.uint8)))
    with pytest.raises(BadInput, match="3 images but 2 labels"):
        load_split(directory, "test")
    (directory / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.array([1, 2, 12], np.uint8)))
    with pytest.raises(BadInput, match="labels go up to 12"):
        load_split(directory, "test")
