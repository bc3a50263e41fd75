"""Read a digit (or a number) from any picture: preprocessing, then the model.

    predictor = Predictor()                 # the shipped default weights
    predictor.predict("photo.jpg").digit    # 7
    predictor.read_number(canvas).text      # "2026"

One Predictor can serve concurrent requests: the model stays in eval mode and every call
runs under torch.inference_mode, so no call changes shared state.
"""

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mnist_app.reading import mnist_style, step_by_step
from mnist_app.reading.drawing import drawn_digits
from mnist_app.reading.mnist_style import InvalidImageError, NoDigitError
from mnist_app.reading.segment import Region, cut_candidates, piece_between, region_of
from mnist_app.storage.weights import load_weights

__all__ = [
    "DigitBox", "InvalidImageError", "NoDigitError", "NumberReading", "Prediction", "Predictor", "StepByStep",
]

# With a fitted temperature the probabilities are honest on digits: below 90% the model expects to be wrong more
# than once in ten, and says it is not sure. The shipped weights were taught doubt of letters (font_letters), so a
# letter or a scribble rarely reaches the bar. Chosen on the development split (2026-12-04): this bar flags 0.9% of
# the correct readings of MNIST's validation split, 1.3% of the development hands' correct readings, 86% of their
# misreadings, 92% of their letters and 94% of seeded scribbles; 99% would flag 3.0%, 9.8%, 100%, 96% and 99%.
CONFIDENT_PROBABILITY = 0.9
CONFIDENT_SHARE = 0.85  # weights without a temperature: a guess is below this share of the most the model gives
MOST_INK = 0.28  # mean ink of a 28x28 digit; more is a blob or a scribble (MNIST: 0.30 at its 99.9th percentile)
WIDEST = 1.7  # width over height of a digit's box; wider is a dash or several digits (MNIST: 1.67 at 99.9%)
MAY_BE_TOUCHING = 0.6  # a region this wide (in the number's digit heights) may be two digits touching (a 1 and a 5)
WIDEST_PIECE = 1.5  # no piece of a cut region is wider than this: it would hold two digits
WHOLE_BONUS = 0.1  # log-probability credit for leaving a region uncut: a cut must be clearly surer


@dataclass(frozen=True)
class Prediction:
    digit: int
    probabilities: list[float]  # 10 values summing to 1, index = digit
    input28: np.ndarray = field(repr=False)  # 28 x 28 float32 in [0, 1], white ink on black: what the model saw
    confident: bool  # False for a doubtful reading or something that is not a digit


@dataclass(frozen=True)
class DigitBox:
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in the original image's pixels, end exclusive
    prediction: Prediction


@dataclass(frozen=True)
class NumberReading:
    text: str  # the digits left to right, e.g. "2026"
    digits: list[DigitBox]

    @property
    def confident(self) -> bool:
        return all(d.prediction.confident for d in self.digits)

    @property
    def main(self) -> DigitBox:
        """The largest digit (by its box's area): the one a photo of a single digit is about."""
        return max(self.digits, key=lambda d: (d.box[2] - d.box[0]) * (d.box[3] - d.box[1]))


@dataclass(frozen=True)
class StepByStep:
    steps: list[step_by_step.Step]  # from the picture to the 28x28, in order
    prediction: Prediction  # what the network reads from the last step's 28x28


def looks_like_a_digit(image28: np.ndarray) -> bool:
    """A softmax is sure of something even for a scribble; the ink's layout catches some of those."""
    rows, cols = np.flatnonzero(image28.max(axis=1) > 0.1), np.flatnonzero(image28.max(axis=0) > 0.1)
    if rows.size == 0:
        return False
    aspect = (cols[-1] - cols[0] + 1) / (rows[-1] - rows[0] + 1)
    return float(image28.mean()) <= MOST_INK and aspect <= WIDEST


def confident_bar(meta: dict[str, Any]) -> float:
    """The top probability a reading needs to be confident, for weights with this JSON metadata."""
    if "temperature" in meta:
        return CONFIDENT_PROBABILITY
    # Training with label smoothing e caps a well-learnt digit's probability near 1 - 0.9 e.
    smoothing = float(meta.get("training", {}).get("label_smoothing", 0.0))
    return CONFIDENT_SHARE * (1 - 0.9 * smoothing)


def is_confident(probabilities: np.ndarray, image28: np.ndarray, bar: float) -> bool:
    """Sure of a reading: its top probability reaches `bar` and the 28x28's ink is laid out as a digit's."""
    return bool(probabilities.max() >= bar and looks_like_a_digit(image28))


class Predictor:
    """A model and the pipeline in front of it. `weights=None` loads the shipped weights."""

    def __init__(self, weights: str | Path | None = None, device: str | torch.device | None = None) -> None:
        self.device = torch.device(device or "cpu")
        self.model, self.meta = load_weights(weights, self.device)  # meta: the weights' JSON metadata
        self.temperature = float(self.meta.get("temperature", 1.0))  # fitted after training: logits / T are honest
        self.confident_probability = confident_bar(self.meta)

    def classify(self, images28: np.ndarray) -> list[Prediction]:
        """Predictions for a batch of already prepared N x 28 x 28 float images."""
        images28 = np.ascontiguousarray(images28, dtype=np.float32)
        with torch.inference_mode():
            logits = self.model(torch.from_numpy(images28).to(self.device)[:, None])
            probabilities = torch.softmax(logits.float() / self.temperature, dim=1).cpu().numpy()
        return [
            Prediction(
                digit=int(p.argmax()),
                probabilities=[float(v) for v in p / p.sum()],
                input28=image,
                confident=is_confident(p, image, self.confident_probability),
            )
            for p, image in zip(probabilities, images28, strict=True)
        ]

    def predict(self, image: object) -> Prediction:
        """The single digit in `image` (PIL image, numpy array, path, bytes or Sketchpad dict)."""
        input28, _ = mnist_style.prepare_digit(image)
        return self.classify(input28[None])[0]

    def steps(self, image: object, skip: Collection[str] = ()) -> StepByStep:
        """The one digit in `image` step by step, with the steps in `skip` (step_by_step.SKIPPABLE) left out: each
        step's picture and what the network reads at the end. For showing the pipeline: `predict` is the fast path."""
        walked = step_by_step.walk(image, skip)
        return StepByStep(walked.steps, self.classify(walked.input28[None])[0])

    def read_number(self, image: object) -> NumberReading:
        """All digits in `image`, left to right, each with its box in the original image."""
        return self.read_regions(*mnist_style.ink_regions(image))

    def read_drawing(self, image: object) -> NumberReading:
        """A drawing of one digit, however many strokes it took, read as `predict` reads it; or several digits side
        by side, read as `read_number` reads them (at the single digit's working size: a canvas is small)."""
        ink, components = mnist_style.main_ink(image)
        groups = drawn_digits(components, lambda regions: self.sureness(ink, regions))
        if len(groups) > 1:
            return self.read_regions(ink, [region_of(g) for g in groups])
        region = mnist_style.digit_region(ink, components)
        prediction = self.classify(mnist_style.to_mnist(ink, region)[None])[0]
        return NumberReading(str(prediction.digit), [DigitBox(mnist_style.original_box(ink, region.box), prediction)])

    def sureness(self, ink: mnist_style.Ink, regions: list[Region]) -> list[float]:
        """The top probability of each region read as one digit."""
        return [max(p.probabilities) for p in self.classify(np.stack([mnist_style.to_mnist(ink, r) for r in regions]))]

    def read_regions(self, ink: mnist_style.Ink, regions: list[Region]) -> NumberReading:
        """The digits of these regions (each one digit, or several touching), in the regions' order."""
        digit_height = max(r.height for r in regions)
        digits = [d for region in regions for d in self.read_region(ink, region, digit_height)]
        return NumberReading("".join(str(d.prediction.digit) for d in digits), digits)

    def read_region(self, ink: mnist_style.Ink, region: Region, digit_height: int) -> list[DigitBox]:
        """One digit, or several touching ones. A region wide enough for two digits is read every way it can
        be cut at its thin columns into digit-wide pieces (segmentation by recognition), and the reading whose
        digits the model is surest of in all wins: the largest sum of log probabilities. Leaving the region
        whole gets a small bonus, so a cut must earn its place."""
        whole = self.classify(mnist_style.to_mnist(ink, region)[None])[0]
        if region.width < MAY_BE_TOUCHING * digit_height:
            return [DigitBox(mnist_style.original_box(ink, region.box), whole)]
        cuts = [0, *cut_candidates(region, digit_height), region.width]
        pieces = {
            (i, j): piece
            for i in range(len(cuts))
            for j in range(i + 1, len(cuts))
            if (i, j) != (0, len(cuts) - 1) and cuts[j] - cuts[i] <= WIDEST_PIECE * digit_height
            and (piece := piece_between(region, cuts[i], cuts[j], digit_height)) is not None
        }
        read = self.classify(np.stack([mnist_style.to_mnist(ink, p) for p in pieces.values()])) if pieces else []
        options = {span: (piece, p) for (span, piece), p in zip(pieces.items(), read, strict=True)}
        options[0, len(cuts) - 1] = region, whole
        # best[j]: the surest reading of the ink left of cut j, as (score, pieces read)
        best: dict[int, tuple[float, list[tuple[Region, Prediction]]]] = {0: (0.0, [])}
        for j in range(1, len(cuts)):
            paths = [
                (best[i][0] + np.log(max(p.probabilities)) + (WHOLE_BONUS if piece is region else 0.0),
                 [*best[i][1], (piece, p)])
                for (i, end), (piece, p) in options.items()
                if end == j and i in best
            ]
            if paths:
                best[j] = max(paths, key=lambda path: path[0])
        return [DigitBox(mnist_style.original_box(ink, piece.box), p) for piece, p in best[len(cuts) - 1][1]]
