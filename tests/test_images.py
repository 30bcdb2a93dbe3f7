"""The image reader: every format and mode people have, MNIST-style normalisation, hostile files."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from rnn_mnist_cli import images
from rnn_mnist_cli.data import bundled_data_dir, load_split
from rnn_mnist_cli.errors import BadInput

from .conftest import EXAMPLES

TEST_DIGITS = load_split(bundled_data_dir(), "test")


def centre_of_mass(x: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(x.shape)
    return float((rows * x).sum() / x.sum()), float((cols * x).sum() / x.sum())


def as_drawing(digit: np.ndarray, size: tuple[int, int] = (400, 300), at: tuple[int, int] = (30, 60), scale: int = 8) -> Image.Image:
    """An MNIST digit as a person would draw it: dark on a white canvas, large, off-centre."""
    big = Image.fromarray(255 - digit).resize((28 * scale, 28 * scale), Image.Resampling.BICUBIC)
    canvas = Image.new("L", size, 255)
    canvas.paste(big, at)
    return canvas


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def test_real_mnist_digit_is_unchanged(tmp_path: Path) -> None:
    for index in range(50):
        digit = TEST_DIGITS.images[index]
        path = tmp_path / f"{index}.png"
        Image.fromarray(digit).save(path)
        expected = digit.astype(np.float32) / 255
        normalised = images.load(path)
        raw = images.load(path, raw=True)
        assert normalised.dtype == np.float32 and normalised.shape == (28, 28)
        # ink is stretched so the strongest pixel is 1.0; MNIST's strongest already is
        assert np.allclose(raw, expected / expected.max(), atol=1e-6)
        # the centring shift is at most one pixel for a real MNIST digit
        assert similarity(normalised, expected) > 0.85


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "LA", "P", "1", "I;16", "I", "F", "CMYK"])
def test_modes_give_the_same_digit(mode: str, tmp_path: Path) -> None:
    digit = TEST_DIGITS.images[0]
    drawing = as_drawing(digit)
    reference = images.to_network_input(np.asarray(drawing, np.float32) / 255, "ref")
    if mode == "I;16":
        converted = Image.fromarray(np.asarray(drawing, np.uint16) * 257)
    elif mode == "I":
        converted = Image.fromarray(np.asarray(drawing, np.int32) * 257)
    elif mode == "F":
        converted = Image.fromarray(np.asarray(drawing, np.float32) / 255)
    else:
        converted = drawing.convert(mode)
    suffix = ".tiff" if mode in ("I", "F", "CMYK") else ".png"
    path = tmp_path / f"digit{suffix}"
    converted.save(path)
    got = images.load(path)
    assert got.shape == (28, 28) and 0 <= got.min() and got.max() <= 1
    assert similarity(got, reference) > (0.6 if mode == "1" else 0.97)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".gif", ".webp", ".tiff"])
def test_formats(suffix: str, tmp_path: Path) -> None:
    digit = TEST_DIGITS.images[1]
    drawing = as_drawing(digit).convert("RGB")
    path = tmp_path / f"digit{suffix}"
    drawing.save(path)
    got = images.load(path)
    reference = images.to_network_input(np.asarray(drawing.convert("L"), np.float32) / 255, "ref")
    assert similarity(got, reference) > 0.95


def test_drawing_is_normalised_like_mnist(tmp_path: Path) -> None:
    digit = TEST_DIGITS.images[2]
    path = tmp_path / "paint.png"
    as_drawing(digit, size=(500, 320), at=(250, 40), scale=9).convert("RGB").save(path)
    got = images.load(path)
    row, col = centre_of_mass(got)
    assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5
    mask = got > 0.2
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 in (19, 20, 21)
    assert similarity(got, TEST_DIGITS.images[2].astype(np.float32)) > 0.8
    # --raw only shrinks the canvas: the digit stays small and off-centre
    assert similarity(images.load(path, raw=True), got) < 0.5


def test_transparent_background_counts_as_background(tmp_path: Path) -> None:
    digit = TEST_DIGITS.images[3]
    black_ink = np.zeros((28, 28, 4), np.uint8)
    black_ink[..., 3] = digit  # black strokes, opaque only where the ink is
    Image.fromarray(black_ink, "RGBA").save(tmp_path / "black.png")
    white_ink = black_ink.copy()
    white_ink[..., :3] = 255
    Image.fromarray(white_ink, "RGBA").save(tmp_path / "white.png")
    expected = digit.astype(np.float32) / 255
    for name in ("black.png", "white.png"):
        assert similarity(images.load(tmp_path / name), expected) > 0.95


def test_thin_pen_on_big_canvas_is_thickened(tmp_path: Path) -> None:
    from PIL import ImageDraw

    canvas = Image.new("L", (600, 600), 255)
    ImageDraw.Draw(canvas).line([(300, 100), (300, 500)], fill=0, width=3)  # a "1" with a 3 px pen
    canvas.save(tmp_path / "one.png")
    got = images.load(tmp_path / "one.png")
    assert (got > 0.5).sum(axis=1).max() >= 2  # at least 2 px wide, as MNIST strokes are


def _png_with_size(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def _truncated_png() -> bytes:
    buffer = io.BytesIO()
    as_drawing(TEST_DIGITS.images[4]).save(buffer, "PNG")
    return buffer.getvalue()[:400]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.png", b"", "empty file"),
        ("text.png", b"hello, I am not a picture\n", "not an image"),
        ("cut.png", _truncated_png(), "damaged or truncated"),
        ("bomb.png", _png_with_size(100_000, 100_000), "megapixel limit"),
        ("white.png", None, "no ink found"),
    ],
)
def test_bad_images_are_user_errors(name: str, content: bytes | None, reason: str, tmp_path: Path) -> None:
    path = tmp_path / name
    if content is None:
        Image.new("RGB", (64, 64), "white").save(path)
    else:
        path.write_bytes(content)
    with pytest.raises(BadInput) as caught:
        images.load(path)
    assert str(path) in str(caught.value) and reason in str(caught.value)


def test_missing_and_directory_paths(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="no such file"):
        images.load(tmp_path / "absent.png")
    with pytest.raises(BadInput, match="is a directory"):
        images.load(tmp_path)
    found, problems = images.expand_paths([str(tmp_path), str(tmp_path / "*.png"), str(EXAMPLES / "digit-[12].png")])
    assert [p.name for p in found] == ["digit-1.png", "digit-2.png"]
    assert [message.split(": ", 1)[1] for _, message in problems] == [
        problems[0][1].split(": ", 1)[1],
        "no files match this pattern",
    ]
    assert "directory holds no images" in problems[0][1]


def test_directory_expands_to_its_images_in_order() -> None:
    found, problems = images.expand_paths([str(EXAMPLES)])
    assert not problems and found == sorted(found) and len(found) >= 10
    assert {p.suffix for p in found} == {".png", ".jpg"}  # library_api.py is not an image


def _check_result(path: Path) -> None:
    try:
        result = images.load(path)
    except BadInput as error:
        assert str(path) in str(error)
        return
    assert result.shape == (28, 28) and result.dtype == np.float32
    assert np.all(np.isfinite(result)) and result.min() >= 0 and result.max() <= 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2048), header=st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"BM", b"II*\x00", b"RIFF"]))
def test_random_bytes_never_crash(data: bytes, header: bytes, tmp_path: Path) -> None:
    path = tmp_path / "random.bin"
    path.write_bytes(header + data)
    _check_result(path)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    width=st.integers(1, 40),
    height=st.integers(1, 40),
    mode=st.sampled_from(["L", "RGB", "RGBA", "LA", "P", "1", "I;16"]),
    seed=st.integers(0, 2**32 - 1),
    fmt=st.sampled_from(["PNG", "BMP", "GIF", "TIFF", "WEBP", "JPEG"]),
    sparse=st.booleans(),
)
def test_random_small_images_never_crash(width: int, height: int, mode: str, seed: int, fmt: str, sparse: bool, tmp_path: Path) -> None:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (height, width), dtype=np.uint8)
    if sparse:
        pixels = np.where(rng.random((height, width)) < 0.1, pixels, 0).astype(np.uint8)
    image = Image.fromarray(pixels).convert(mode) if mode != "I;16" else Image.fromarray(pixels.astype(np.uint16) * 257)
    path = tmp_path / f"random.{fmt.lower()}"
    try:
        image.save(path, fmt)
    except (OSError, ValueError, KeyError):
        return  # this format cannot hold this mode: nothing to read
    _check_result(path)
