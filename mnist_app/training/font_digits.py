"""Training digits in hands that are not MNIST's: the development split's handwriting fonts (`synthesis/hands.py`),
drawn the ways people give digits to the app and prepared by the app's own pipeline, so the net learns the 28x28s
it will be shown. Only "dev" hands are ever drawn here: the report split's hands stay unseen.

Small digits on ruled paper are left out: there the pipeline, not the net, decides whether the digit is found.

The same hands' letters are drawn too, labelled NOT_A_DIGIT_LABEL: the engine trains the net towards even odds on
them, so that it learns to be unsure of what is not a digit (outlier exposure).
"""

import string
from collections.abc import Collection
from multiprocessing import get_context

import numpy as np
import torch

from mnist_app.reading import mnist_style
from mnist_app.reading.decode import NoDigitError
from mnist_app.synthesis import hands
from mnist_app.training.data import NOT_A_DIGIT_LABEL

TRAINING_STYLES = ("canvas", "white canvas", "glyph", "outlined", "photo", "chalk")
# O and I (and l) are how most hands write 0 and 1: taught as not digits, they would teach doubt of those digits.
NOT_DIGIT_LETTERS = "".join(c for c in string.ascii_letters if c not in "OoIl")


class NoFontsError(RuntimeError):
    """None of the development split's fonts is installed."""


def seed_number(hand: str) -> int:
    """The number a hand's drawings are seeded by: it follows the hand's name, not which fonts are installed.
    A Debian hand keeps its place among the Debian hands; a fontsource hand counts from 100."""
    if hand in hands.FONTS:
        return sorted(hands.FONTS).index(hand)
    return 100 + sorted(hands.FONTSOURCE).index(hand)


def hand_drawings(hand: str, characters: str, per_character: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`per_character` seeded drawings of each character in `hand`, as the 28x28 uint8 images the model is shown,
    and their labels: the digit, or NOT_A_DIGIT_LABEL."""
    hand_number = seed_number(hand)
    images, labels = [], []
    for character in characters:
        # A digit's key is the digit itself, as before letters were drawn: the same seed draws the same digits.
        key = int(character) if character.isdigit() else 1000 + ord(character)
        for variant in range(per_character):
            rng = np.random.default_rng([seed, hand_number, key, variant])
            style = TRAINING_STYLES[int(rng.integers(len(TRAINING_STYLES)))]
            try:
                input28, _ = mnist_style.prepare_digit(hands.draw(style, hands.glyph(hand, character, rng), rng))
            except NoDigitError:
                continue
            images.append(np.round(input28 * 255).astype(np.uint8))
            labels.append(int(character) if character.isdigit() else NOT_A_DIGIT_LABEL)
    return np.stack(images), np.array(labels, np.int64)


def training_hands(families: Collection[str] = ("debian",)) -> list[str]:
    """The development split's hands of those families installed here: the only ones ever drawn for training."""
    return [hand for family in families for hand in hands.installed_hands("dev", family)]


def font_drawings(
    per_digit: int, per_letter: int = 0, seed: int = 0, processes: int = 2, hold_out: Collection[str] = (),
    families: Collection[str] = ("debian",),
) -> tuple[torch.Tensor, torch.Tensor]:
    """`per_digit` drawings of each digit and `per_letter` of each letter of NOT_DIGIT_LETTERS in every installed
    development-split hand of `families` but those held out: N x 28 x 28 uint8 images and their labels
    (NOT_A_DIGIT_LABEL for a letter). NoFontsError when none is installed (see benchmarks/other_hands.py)."""
    dev = [hand for hand in training_hands(families) if hand not in hold_out]
    if not dev:
        raise NoFontsError("no development-split handwriting font is installed (see benchmarks/other_hands.py)")
    jobs = [(hand, string.digits, per_digit, seed) for hand in dev if per_digit]
    jobs += [(hand, NOT_DIGIT_LETTERS, per_letter, seed) for hand in dev if per_letter]
    if processes == 1:  # in this process: a daemonic one (the app's training child) may not start a pool
        drawn = [hand_drawings(*job) for job in jobs]
    else:
        with get_context("spawn").Pool(min(processes, len(jobs))) as pool:
            drawn = pool.starmap(hand_drawings, jobs)
    images = np.concatenate([i for i, _ in drawn])
    labels = np.concatenate([y for _, y in drawn])
    return torch.from_numpy(images), torch.from_numpy(labels)
