"""Turning any image a person has into the 28x28 input the network was trained on.

MNIST digits are white ink on black, size-normalised to fit a 20x20 box with
their aspect ratio kept, then placed in 28x28 with the centre of mass at the
centre. `to_network_input` redoes exactly that to a photo, scan or drawing.
"""

from __future__ import annotations

import glob
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from .errors import BadInput

SIDE = 28
BOX = 20  # MNIST fits each digit in 20x20 before centring it in 28x28
# The centre of mass of MNIST's training digits, (row, column): measured, 13.996 and 14.007.
CENTRE = (14.0, 14.0)
# Images are reduced to this before analysis: plenty for a digit, and bounds the work.
WORK_SIDE = 512
# Refuse to decode more than this (a decompression bomb claims 100k x 100k in a few bytes).
MAX_PIXELS = 50_000_000
# Ink must differ from the background by this much (of full scale), or the image is blank.
MIN_CONTRAST = 0.15
# A pixel counts as ink for cropping when it holds this share of the strongest ink;
# low enough for antialiased edges, high enough to ignore JPEG noise and paper texture.
INK_THRESHOLD = 0.2
# MNIST strokes are about 2.5 px wide at the 20 px scale; thinner pens are thickened to it.
STROKE_WIDTH = 2.5
_TOO_BIG = f"refused over the {MAX_PIXELS // 1_000_000}-megapixel limit (possible decompression bomb)"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".pgm", ".ppm", ".pbm"}


def load(path: str | Path, raw: bool = False) -> np.ndarray:
    """Read an image file and return the network's input: float32 (28, 28) in [0, 1]."""
    return to_network_input(read_grey(path), str(path), raw)


def read_grey(path: str | Path) -> np.ndarray:
    """Decode any Pillow-readable image to float32 greyscale in [0, 1], at most WORK_SIDE a side.

    Transparent pixels are filled with the background colour: the opposite of the ink.
    """
    name = str(path)
    if os.path.isdir(name):
        raise BadInput(f"{name}: is a directory, not an image")
    try:
        size = os.path.getsize(name)
    except FileNotFoundError:
        raise BadInput(f"{name}: no such file") from None
    except OSError as error:
        raise BadInput(f"{name}: cannot read ({error.strerror or error})") from None
    if size == 0:
        raise BadInput(f"{name}: empty file, not an image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # damaged metadata warnings: the pixels are what matter
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(name) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise BadInput(f"{name}: image claims {width}x{height} pixels; {_TOO_BIG}")
                if width < 1 or height < 1:
                    raise BadInput(f"{name}: image has no pixels ({width}x{height})")
                image.draft("L", (WORK_SIDE, WORK_SIDE))  # JPEG: decode at reduced size, cheaply
                grey, alpha = _grey_and_alpha(ImageOps.exif_transpose(image))
    except BadInput:
        raise
    except FileNotFoundError:
        raise BadInput(f"{name}: no such file") from None
    except PermissionError:
        raise BadInput(f"{name}: permission denied") from None
    except Image.UnidentifiedImageError:
        raise BadInput(f"{name}: not an image (format not recognised)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadInput(f"{name}: image is too large; {_TOO_BIG}") from None
    except Exception as error:  # noqa: BLE001 - Pillow's decoders raise many types on damaged data
        reason = str(error) or type(error).__name__
        raise BadInput(f"{name}: damaged or truncated image ({reason})") from None
    if alpha is not None:
        grey = _fill_transparent(grey, alpha)
    return grey


def _grey_and_alpha(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)  # animated GIF, multi-page TIFF: the first frame
    mode = image.mode
    alpha = None
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        # 16-bit and 32-bit greyscale: scale by the format's range, not 8 bits
        if mode.startswith("I;16"):
            image = image.convert("I")
        image = _reduce(image)
        grey = np.asarray(image, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or grey.max() > 255 else 255.0
        if mode == "F":
            top = 1.0 if grey.max() <= 1.0 else (255.0 if grey.max() <= 255 else float(grey.max()))
        return np.clip(grey / top, 0, 1).astype(np.float32), None
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if has_alpha:
        rgba = _reduce(image.convert("RGBA"))
        alpha = np.asarray(rgba.getchannel("A"), dtype=np.float32) / 255.0
        image = rgba.convert("RGB")
    grey_image = _reduce(image.convert("L")) if not has_alpha else image.convert("L")
    grey = np.asarray(grey_image, dtype=np.float32) / 255.0
    if alpha is not None and alpha.min() > 0.98:
        alpha = None  # fully opaque: nothing to fill
    return grey, alpha


def _reduce(image: Image.Image) -> Image.Image:
    width, height = image.size
    scale = WORK_SIDE / max(width, height)
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(size, Image.Resampling.BOX)  # area average keeps thin strokes as grey


def _fill_transparent(grey: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    # What is opaque is the drawing; whatever its colour, the transparent rest is
    # background, so it gets the colour furthest from the drawing's average.
    weight = alpha.sum()
    drawn_mean = float((grey * alpha).sum() / weight) if weight > 0 else 0.0
    background = 1.0 if drawn_mean < 0.5 else 0.0
    return grey * alpha + background * (1.0 - alpha)


def ink_image(grey: np.ndarray, name: str) -> np.ndarray:
    """Greyscale -> ink intensity in [0, 1] (MNIST's white-on-black), background 0, strongest ink 1."""
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    background = float(np.median(border))
    if background > 0.5:  # dark ink on light paper
        grey, background = 1.0 - grey, 1.0 - background
    peak = float(grey.max())
    if peak - background < MIN_CONTRAST:
        raise BadInput(f"{name}: no ink found (blank or nearly uniform image)")
    return np.clip((grey - background) / (peak - background), 0.0, 1.0).astype(np.float32)


def to_network_input(grey: np.ndarray, name: str, raw: bool = False) -> np.ndarray:
    """Greyscale image -> (28, 28) float32 in [0, 1], normalised as MNIST was unless `raw`."""
    ink = ink_image(grey, name)
    if raw:
        if ink.shape != (SIDE, SIDE):
            ink = _resize(ink, (SIDE, SIDE))
        return ink
    mask = ink >= INK_THRESHOLD
    top, bottom, left, right = _bounds(mask)
    longest = max(bottom - top, right - left)
    if abs(longest - BOX) <= 1 and max(ink.shape) <= SIDE:
        # Already at MNIST's scale (a real MNIST digit): resampling would only blur it.
        placed = ink
    else:
        scale = BOX / longest
        width = _stroke_width(mask)
        if width * scale < STROKE_WIDTH * 0.8:
            # A thin pen on a big canvas would shrink to a faint hairline: thicken it first.
            ink = _dilate(ink, round((STROKE_WIDTH / scale - width) / 2))
            top, bottom, left, right = _bounds(ink >= INK_THRESHOLD)
            scale = BOX / max(bottom - top, right - left)
        crop = ink[top:bottom, left:right]
        size = (max(1, round((right - left) * scale)), max(1, round((bottom - top) * scale)))
        digit = _resize(crop, size[::-1])
        digit /= max(float(digit.max()), 1e-6)
        placed = digit
    return _centre(placed)


def _bounds(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width in pixels: area over half the perimeter (a stroke has two sides)."""
    padded = np.pad(mask, 1)
    inner = padded[1:-1, 1:-1] & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    edge = int((mask & ~inner).sum())
    return 2.0 * float(mask.sum()) / max(edge, 1)


def _dilate(ink: np.ndarray, radius: int) -> np.ndarray:
    out = ink
    for _ in range(max(0, radius)):
        padded = np.pad(out, 1)
        h, w = out.shape
        out = np.max([padded[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)], axis=0)
    return out


def _resize(values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    image = Image.fromarray(values.astype(np.float32), mode="F")
    resized = image.resize((shape[1], shape[0]), Image.Resampling.LANCZOS)
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def _centre(digit: np.ndarray) -> np.ndarray:
    """Place `digit` in 28x28 with its centre of mass at MNIST's, by a whole-pixel shift."""
    total = float(digit.sum())
    rows, cols = np.indices(digit.shape)
    com_row = float((rows * digit).sum()) / total
    com_col = float((cols * digit).sum()) / total
    top = int(round(CENTRE[0] - com_row))
    left = int(round(CENTRE[1] - com_col))
    canvas = np.zeros((SIDE, SIDE), np.float32)
    h, w = digit.shape
    # Intersection of the shifted digit with the canvas (a digit may be clipped at the edge).
    src_top, src_left = max(0, -top), max(0, -left)
    dst_top, dst_left = max(0, top), max(0, left)
    height = min(h - src_top, SIDE - dst_top)
    width = min(w - src_left, SIDE - dst_left)
    if height > 0 and width > 0:
        canvas[dst_top : dst_top + height, dst_left : dst_left + width] = digit[
            src_top : src_top + height, src_left : src_left + width
        ]
    return canvas


def expand_paths(arguments: list[str]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files, directories (their images, sorted) and globs -> image paths, plus (argument, error) pairs."""
    found: list[Path] = []
    problems: list[tuple[str, str]] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            images = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if images:
                found.extend(images)
            else:
                problems.append((argument, f"{argument}: directory holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})"))
        elif path.exists() or not glob.has_magic(argument):
            found.append(path)  # a missing file is reported when it is read
        else:
            matches = sorted(Path(m) for m in glob.glob(argument, recursive=True) if Path(m).is_file())
            if matches:
                found.extend(matches)
            else:
                problems.append((argument, f"{argument}: no files match this pattern"))
    return found, problems
