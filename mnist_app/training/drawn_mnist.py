"""MNIST's own training digits drawn the ways people give digits to the app (canvas strokes, phone photos, chalk:
`synthesis/render.py`) and prepared by the app's pipeline, so the net learns the 28x28s it is shown in use, not only
MNIST's scans. The CLI (`--drawn-mnist`) draws only training-split digits: validation and test stay MNIST's own.
"""

from multiprocessing import get_context

import numpy as np
import torch

from mnist_app.reading import mnist_style
from mnist_app.reading.decode import NoDigitError
from mnist_app.synthesis import render

# Mostly canvases, as in use; a photo or a chalk board costs ten canvases' time to draw.
STYLES = ("canvas", "canvas", "canvas", "canvas", "photo", "chalk")


def draw_digits(images: np.ndarray, indices: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Each of `images` (N x 28 x 28 uint8) drawn in a seeded style and prepared by the pipeline; the 28x28s and the
    positions in `images` of those the pipeline found (a drawing it loses is left out). `indices` seed each drawing,
    so a digit is drawn the same way however the work is split."""
    prepared, kept = [], []
    for position, (image, index) in enumerate(zip(images, indices, strict=True)):
        rng = np.random.default_rng([seed, 3000, int(index)])
        style = STYLES[int(rng.integers(len(STYLES)))]
        try:
            input28, _ = mnist_style.prepare_digit(render.render(style, image, rng))
        except NoDigitError:
            continue
        prepared.append(np.round(input28 * 255).astype(np.uint8))
        kept.append(position)
    return np.array(prepared, np.uint8).reshape(-1, 28, 28), np.array(kept, np.int64)


def drawn_mnist(
    images: torch.Tensor, labels: torch.Tensor, count: int, seed: int = 0, processes: int = 2
) -> tuple[torch.Tensor, torch.Tensor]:
    """`count` of the training digits `images` (a seeded choice) drawn and prepared as in use, and their labels."""
    chosen = np.random.default_rng([seed, 3001]).permutation(len(images))[:count]
    parts = [part for part in np.array_split(chosen, processes) if len(part)]
    jobs = [(images[part].numpy(), part, seed) for part in parts]
    if len(jobs) == 1:  # in this process: a daemonic one may not start a pool
        drawn = [draw_digits(*jobs[0])]
    else:
        with get_context("spawn").Pool(len(jobs)) as pool:
            drawn = pool.starmap(draw_digits, jobs)
    prepared = np.concatenate([d for d, _ in drawn])
    kept = np.concatenate([part[k] for part, (_, k) in zip(parts, drawn, strict=True)])
    return torch.from_numpy(prepared), labels[torch.from_numpy(kept)]
