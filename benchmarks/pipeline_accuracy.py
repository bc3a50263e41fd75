"""End-to-end accuracy on MNIST test digits rendered as canvases, phone photos and chalk.

    python benchmarks/pipeline_accuracy.py --data /work/shared/data/mnist --per-style 300 --seed 1

For each style: the accuracy of Predictor.predict on the rendered input, the share flagged not
confident and the accuracy among the confident ones, how honest the probabilities are (expected calibration
error, 15 bins, and the median top probability of the digits read right), next to the model's accuracy on the very
same digits as plain 28x28 MNIST images (what the model alone can do), and how often read_number
reads a rendered four-digit number exactly: with the digits apart, with one pair of them touching, and with
all neighbours touching. Writes benchmarks/results/pipeline_accuracy.json; its last line printed is the
same JSON.
"""

import argparse
import json
import math
import time

import numpy as np

from mnist_app.reading.predict import NoDigitError, Prediction, Predictor
from mnist_app.synthesis import render
from mnist_app.testing.results import save_result
from mnist_app.training.calibration import confidence_bins, expected_calibration_error
from mnist_app.training.data import load_mnist


def digits_for(seed: int, count: int, total: int) -> np.ndarray:
    """A seeded choice of test-set indices: a different seed is a different held-out set."""
    return np.random.default_rng(seed).permutation(total)[:count]


def style_accuracy(predictor: Predictor, style: str, images: np.ndarray, labels: np.ndarray, seed: int) -> dict:
    rng = np.random.default_rng([seed, render.STYLES.index(style)])
    digits, confident, probabilities = [], [], []
    for image in images:
        try:
            p = predictor.predict(render.render(style, image, rng))
        except NoDigitError:  # no digit found: a doubtful misreading, at even odds
            p = Prediction(-1, [0.1] * 10, np.zeros((28, 28), np.float32), confident=False)
        digits.append(p.digit)
        confident.append(p.confident)
        probabilities.append(p.probabilities)
    right, confident, probabilities = np.array(digits) == labels, np.array(confident), np.array(probabilities)
    return {
        "accuracy": right.mean(),
        "ece": expected_calibration_error(confidence_bins(probabilities, labels)),
        "median_top_probability_when_right": float(np.median(probabilities.max(1)[right])),
        "flagged": 1 - confident.mean(),
        "confident_accuracy": right[confident].mean() if confident.any() else float("nan"),
        "errors": [(int(i), int(d)) for i, d, ok in zip(labels, digits, right, strict=True) if not ok],
    }


def number_accuracy(predictor: Predictor, images: np.ndarray, labels: np.ndarray, seed: int) -> dict[int, float]:
    """Share of four-digit photos read exactly, by how many neighbouring pairs touch (0, 1 or all 3)."""
    rng = np.random.default_rng([seed, 99])
    right: dict[int, list[bool]] = {0: [], 1: [], 3: []}
    for n, start in enumerate(range(0, len(images) - 3, 4)):
        pairs = list(right)[n % len(right)]
        photo = render.number_photo(list(images[start : start + 4]), rng, touching_pairs=pairs)
        truth = "".join(str(d) for d in labels[start : start + 4])
        right[pairs].append(predictor.read_number(photo).text == truth)
    return {pairs: float(np.mean(r)) for pairs, r in right.items()}


def share(value: float) -> float | None:
    """A share as the JSON file holds it: rounded, None where there was nothing to count (NaN)."""
    return None if math.isnan(value) else round(float(value), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="MNIST IDX folder (default: MNIST_DATA_DIR)")
    parser.add_argument("--weights", default=None, help="weights file (default: the shipped weights)")
    parser.add_argument("--per-style", type=int, default=300)
    parser.add_argument("--numbers", type=int, default=90, help="four-digit numbers for read_number")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    mnist = load_mnist(args.data, allow_download=False)
    images, labels = mnist.test_images.numpy(), mnist.test_labels.numpy()
    chosen = digits_for(args.seed, args.per_style + 4 * args.numbers, len(images))
    single, number = chosen[: args.per_style], chosen[args.per_style :]
    predictor = Predictor(args.weights)
    plain = predictor.classify(images[chosen].astype(np.float32) / 255)
    plain_accuracy = np.mean([p.digit == y for p, y in zip(plain, labels[chosen], strict=True)])
    result: dict = {
        "weights": {"architecture": predictor.meta.get("architecture"), "date": predictor.meta.get("date"),
                    "temperature": predictor.meta.get("temperature")},
        "seed": args.seed,
        "per_style": args.per_style,
        "numbers": args.numbers,
        "plain_accuracy": share(plain_accuracy),
        "styles": {},
    }
    print(f"weights: {predictor.meta.get('architecture')} {predictor.meta.get('date', '')}; seed {args.seed}; "
          f"{args.per_style} test digits per style, {args.numbers} numbers; model on all these digits as plain "
          f"MNIST images: {plain_accuracy:.2%}")
    for style in render.STYLES if args.per_style else ():
        start = time.perf_counter()
        scores = style_accuracy(predictor, style, images[single], labels[single], args.seed)
        seconds = time.perf_counter() - start
        print(f"{style:7s} accuracy {scores['accuracy']:.2%}  flagged {scores['flagged']:.1%}  "
              f"confident accuracy {scores['confident_accuracy']:.2%}  ECE {scores['ece']:.2%}  median top "
              f"probability when right {scores['median_top_probability_when_right']:.4f}  ({seconds:.0f} s)  "
              f"errors (true, read): {scores['errors'][:12]}")
        result["styles"][style] = {
            "accuracy": share(scores["accuracy"]),
            "flagged": share(scores["flagged"]),
            "confident_accuracy": share(scores["confident_accuracy"]),
            "ece": share(scores["ece"]),
            "median_top_probability_when_right": share(scores["median_top_probability_when_right"]),
            "errors": scores["errors"][:12],
            "seconds": round(seconds),
        }
    if args.numbers:
        right = number_accuracy(predictor, images[number], labels[number], args.seed)
        print(f"read_number on {args.numbers} four-digit photos, all four digits right: {right[0]:.0%} with the digits "
              f"apart, {right[1]:.0%} with one pair touching, {right[3]:.0%} with all neighbours touching")
        result["read_number_all_digits_right"] = {
            "apart": share(right[0]),
            "one_pair_touching": share(right[1]),
            "all_neighbours_touching": share(right[3]),
        }
    save_result("pipeline_accuracy", result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
