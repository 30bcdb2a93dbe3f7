"""How well `predict` reads the images people actually have.

    python benchmarks/image_accuracy.py [--model PATH] [--count 2000]

Builds image sets on disk from MNIST test digits (as 28x28 PNGs, enlarged, dark on
light, off-centre, in RGB and RGBA) and from digits typed in DejaVu fonts, reads each
file through the same path `rnn-mnist predict` uses, and prints the accuracy of each
set beside `eval`'s accuracy on the same digits.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from rnn_mnist_cli import checkpoint as ckpt  # noqa: E402
from rnn_mnist_cli import images, infer, runs  # noqa: E402
from rnn_mnist_cli.data import bundled_data_dir, load_split, to_inputs  # noqa: E402
from rnn_mnist_cli.errors import BadInput  # noqa: E402

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = [
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf",
    "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSerif-BoldItalic.ttf",
]


def enlarged(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    side = int(rng.integers(80, 320))
    return Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC)


def dark_on_light(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    return Image.fromarray(255 - digit).resize((112, 112), Image.Resampling.BICUBIC)


def off_centre(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    side = int(rng.integers(60, 160))
    canvas = Image.new("L", (400, 300), 255)
    canvas.paste(Image.fromarray(255 - digit).resize((side, side), Image.Resampling.BICUBIC),
                 (int(rng.integers(0, 400 - side)), int(rng.integers(0, 300 - side))))
    return canvas


def rgb_ink(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    ink = np.array([20, 40, 140], np.float32)  # blue ballpoint on cream paper
    paper = np.array([250, 245, 225], np.float32)
    share = (digit.astype(np.float32) / 255)[..., None]
    pixels = (paper * (1 - share) + ink * share).astype(np.uint8)
    return Image.fromarray(pixels, "RGB").resize((200, 200), Image.Resampling.BICUBIC)


def rgba_transparent(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    pixels = np.zeros((28, 28, 4), np.uint8)
    pixels[..., 3] = digit  # black strokes on a transparent background
    return Image.fromarray(pixels, "RGBA").resize((140, 140), Image.Resampling.BICUBIC)


VARIANTS: dict[str, Callable[[np.ndarray, np.random.Generator], Image.Image]] = {
    "enlarged 80-320 px": enlarged,
    "dark on light": dark_on_light,
    "off-centre on 400x300": off_centre,
    "RGB blue ink on cream": rgb_ink,
    "RGBA transparent": rgba_transparent,
}


def typed_digits(rng: np.random.Generator) -> list[tuple[Image.Image, int]]:
    made = []
    for font_name in FONTS:
        path = FONT_DIR / font_name
        if not path.is_file():
            continue
        for size in (48, 96, 160):
            font = ImageFont.truetype(str(path), size)
            for digit in range(10):
                canvas = Image.new("L", (size * 2, size * 2), 255)
                ImageDraw.Draw(canvas).text((size // 2, size // 4), str(digit), font=font, fill=0)
                made.append((canvas, digit))
    return made


def read_all(paths: list[Path], raw: bool = False) -> np.ndarray:
    inputs = []
    for path in paths:
        try:
            inputs.append(images.load(path, raw=raw))
        except BadInput:
            inputs.append(np.zeros((28, 28), np.float32))  # counted as wrong below unless by luck
    return np.stack(inputs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None, help="checkpoint (default: the newest run)")
    parser.add_argument("--count", type=int, default=2000, help="MNIST test digits per set")
    arguments = parser.parse_args()
    checkpoint = ckpt.load(arguments.model or runs.latest_model())
    test = load_split(bundled_data_dir(), "test")
    digits, labels = test.images[: arguments.count], test.labels[: arguments.count]
    rng = np.random.default_rng(0)

    def accuracy(inputs: np.ndarray, truth: np.ndarray) -> float:
        return float(np.mean(infer.logits(checkpoint.config, checkpoint.best, inputs).argmax(1) == truth))

    rows = [("eval (IDX arrays, no image reading)", accuracy(to_inputs(digits), labels))]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        plain = []
        for i, digit in enumerate(digits):
            plain.append(folder / f"mnist-{i}.png")
            Image.fromarray(digit).save(plain[-1])
        rows.append(("MNIST 28x28 PNG", accuracy(read_all(plain), labels)))
        rows.append(("MNIST 28x28 PNG --raw", accuracy(read_all(plain, raw=True), labels)))
        for name, make in VARIANTS.items():
            paths = []
            for i, digit in enumerate(digits):
                paths.append(folder / f"{make.__name__}-{i}.png")
                make(digit, rng).save(paths[-1])
            rows.append((name, accuracy(read_all(paths), labels)))
        typed = typed_digits(rng)
        paths = []
        for i, (image, _) in enumerate(typed):
            paths.append(folder / f"typed-{i}.png")
            image.save(paths[-1])
        truth = np.array([digit for _, digit in typed])
        if typed:
            rows.append((f"typed, {len(FONTS)} DejaVu fonts x 3 sizes ({len(typed)})", accuracy(read_all(paths), truth)))
    width = max(len(name) for name, _ in rows)
    print(f"model: {arguments.model or runs.latest_model()}  ({arguments.count} MNIST test digits per set)\n")
    print(f"{'set':<{width}}  accuracy  vs eval")
    for name, value in rows:
        print(f"{name:<{width}}  {value:>8.2%}  {100 * (value - rows[0][1]):+6.2f} pt")


if __name__ == "__main__":
    main()
