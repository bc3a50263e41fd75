"""Training digits in hands that are not MNIST's: the development split's handwriting fonts (`synthesis/hands.py`),
drawn the ways people give digits to the app and prepared by the app's own pipeline, so the net learns the 28x28s
it will be shown. Only "dev" hands are ever drawn here: the report split's hands stay unseen.

Small digits on ruled paper are left out: there the pipeline, not the net, decides whether the digit is found.
"""

from multiprocessing import get_context

import numpy as np
import torch

from mnist_app.reading import mnist_style
from mnist_app.reading.decode import NoDigitError
from mnist_app.synthesis import hands

TRAINING_STYLES = ("canvas", "white canvas", "glyph", "outlined", "photo", "chalk")


class NoFontsError(RuntimeError):
    """None of the development split's fonts is installed."""


def hand_digits(hand: str, per_digit: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`per_digit` seeded drawings of each digit in `hand`, as the 28x28 uint8 images the model is shown."""
    hand_number = sorted(hands.FONTS).index(hand)  # seeds follow the hand's name, not which fonts are installed
    images, labels = [], []
    for digit in range(10):
        for variant in range(per_digit):
            rng = np.random.default_rng([seed, hand_number, digit, variant])
            style = TRAINING_STYLES[int(rng.integers(len(TRAINING_STYLES)))]
            try:
                input28, _ = mnist_style.prepare_digit(hands.draw(style, hands.glyph(hand, str(digit), rng), rng))
            except NoDigitError:
                continue
            images.append(np.round(input28 * 255).astype(np.uint8))
            labels.append(digit)
    return np.stack(images), np.array(labels, np.int64)


def training_hands() -> list[str]:
    """The development split's hands installed here: the only ones ever drawn for training."""
    return hands.installed_hands("dev")


def font_digits(per_digit: int, seed: int = 0, processes: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """`per_digit` drawings of each digit in every installed development-split hand: N x 28 x 28 uint8 images and
    their labels. NoFontsError when none is installed (see benchmarks/other_hands.py for the packages)."""
    dev = training_hands()
    if not dev:
        raise NoFontsError("no development-split handwriting font is installed (see benchmarks/other_hands.py)")
    with get_context("spawn").Pool(min(processes, len(dev))) as pool:
        drawn = pool.starmap(hand_digits, [(hand, per_digit, seed) for hand in dev])
    images = np.concatenate([i for i, _ in drawn])
    labels = np.concatenate([y for _, y in drawn])
    return torch.from_numpy(images), torch.from_numpy(labels)
