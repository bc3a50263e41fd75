"""Accuracy and honesty in hands the model never trained on: handwriting fonts and scikit-learn's 13 writers.

    apt-get install fonts-dkg-handwriting fonts-breip fonts-sjfonts fonts-bwht fonts-joscelyn fonts-leckerli-one \
        fonts-tlwg-purisa-otf        # the report split's hands (dev: see hands.FONTS)
    pip install scikit-learn
    python benchmarks/other_hands.py --split report --variants 3 --sklearn 300 --seed 1
    # the fontsource family (installed into ~/.cache/mnist-app/fontsource, or $MNIST_APP_FONTSOURCE):
    npm install --prefix ~/.cache/mnist-app/fontsource $(python -c \
        "from mnist_app.synthesis import hands; print(*(f'@fontsource/{n}@5' for n in hands.FONTSOURCE))")
    python benchmarks/other_hands.py --family fontsource --split report --variants 2 --sklearn 0 --seed 1

Each hand of the split writes every digit `--variants` times (seeded slant and squeeze), drawn in every style of
`mnist_app/synthesis/hands.py` (transparent and white canvases, the filled glyph, outlined, phone photo, chalk, small
on ruled paper); scikit-learn's digits (report-only) are a group of their own, `--sklearn` per style. Reported per
style, per hand and overall: accuracy, share flagged not confident, share of misreadings flagged, expected
calibration error and the median top probability of the digits read right. A digit the pipeline does not find counts
as a doubtful misreading. Then the non-digits: the split's hands' letters A-Z on the canvas and `--scribbles` seeded
scribbles, and the share flagged. Writes benchmarks/results/other_hands_<split>.json (for the fontsource family
other_hands_<split>_fontsource.json); its last line printed is the same JSON.
"""

import argparse
import json
import string
import time
from collections.abc import Iterator

import numpy as np

from mnist_app.reading.predict import NoDigitError, Predictor
from mnist_app.synthesis import hands
from mnist_app.testing.results import save_result
from mnist_app.training.calibration import confidence_bins, expected_calibration_error


def summary(readings: list[tuple[int, list[float], bool]], labels: list[int]) -> dict:
    digits = np.array([d for d, _, _ in readings])
    probabilities = np.array([p for _, p, _ in readings])
    confident = np.array([c for _, _, c in readings])
    right = digits == np.array(labels)
    return {
        "n": len(readings),
        "accuracy": round(float(right.mean()), 4),
        "flagged": round(float(1 - confident.mean()), 4),
        "misreadings_flagged": round(float((~confident[~right]).mean()), 4) if (~right).any() else None,
        "ece": round(expected_calibration_error(confidence_bins(probabilities, np.array(labels))), 4),
        "median_top_probability_when_right": round(float(np.median(probabilities.max(1)[right])), 4),
    }


def read(predictor: Predictor, picture: object) -> tuple[int, list[float], bool]:
    """The reading; a digit the pipeline cannot find counts as a doubtful misreading (-1, even odds)."""
    try:
        p = predictor.predict(picture)
    except NoDigitError:
        return -1, [0.1] * 10, False
    return p.digit, p.probabilities, p.confident


def hand_readings(
    predictor: Predictor, chosen: list[str], variants: int, seed: int
) -> Iterator[tuple[str, str, int, tuple[int, list[float], bool]]]:
    """(hand, style, digit, reading) for `variants` seeded drawings of each digit by each hand, in every style."""
    for k, hand in enumerate(chosen):
        for digit in range(10):
            for variant in range(variants):
                rng = np.random.default_rng([seed, k, digit, variant])
                shape = hands.glyph(hand, str(digit), rng)
                for style in hands.STYLES:
                    yield hand, style, digit, read(predictor, hands.draw(style, shape, rng))


def not_digits_flagged(predictor: Predictor, chosen: list[str], scribbles: int, seed: int) -> dict:
    """The share of the hands' letters A-Z on the canvas, and of `scribbles` seeded scribbles, flagged not confident."""
    rng = np.random.default_rng([seed, 2000])
    letters = [hands.draw("canvas", hands.glyph(h, c, rng), rng) for h in chosen for c in string.ascii_uppercase]
    drawn = [hands.scribble(rng) for _ in range(scribbles)]
    return {
        "letters": round(float(np.mean([not read(predictor, x)[2] for x in letters])), 4),
        "scribbles": round(float(np.mean([not read(predictor, x)[2] for x in drawn])), 4),
        "n_letters": len(letters), "n_scribbles": len(drawn),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["report", "dev"], default="report")
    parser.add_argument("--family", choices=sorted(hands.FAMILIES), default="debian", help="which fonts' hands")
    parser.add_argument("--variants", type=int, default=3, help="times each hand writes each digit")
    parser.add_argument("--sklearn", type=int, default=300, help="scikit-learn digits per style (0: none)")
    parser.add_argument("--scribbles", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--weights", default=None, help="weights file (default: the shipped weights)")
    parser.add_argument("--hands", default="", metavar="HAND,...",
                        help="only these hands of the split (e.g. those a run held out: train.py --font-hold-out)")
    args = parser.parse_args()

    predictor = Predictor(args.weights)
    named = [h for h in args.hands.split(",") if h]
    family = sorted(hands.FAMILIES[args.family])
    if not all(h in family and hands.in_split(h, args.split) for h in named):
        parser.error(f"--hands: not all hands of the {args.family} family's {args.split} split: {named}")
    chosen = [h for h in hands.installed_hands(args.split, args.family) if h in named or not named]
    missing = [h for h in named or family if hands.in_split(h, args.split) and h not in chosen]
    if not chosen:
        parser.error(f"no hand of the {args.family} family's {args.split} split is installed: see this script's header")
    print(f"{args.family} {args.split} split: {len(chosen)} hands installed {chosen}; missing {missing}")
    by_style: dict[str, tuple[list, list]] = {s: ([], []) for s in hands.STYLES}
    by_hand: dict[str, tuple[list, list]] = {h: ([], []) for h in chosen}
    errors: list[tuple[str, str, int, int]] = []
    start = time.perf_counter()
    for hand, style, digit, reading in hand_readings(predictor, chosen, args.variants, args.seed):
        for readings, labels in (by_style[style], by_hand[hand]):
            readings.append(reading)
            labels.append(digit)
        if reading[0] != digit:
            errors.append((hand, style, digit, reading[0]))
    every_reading = [r for readings, _ in by_style.values() for r in readings]
    every_label = [y for _, labels in by_style.values() for y in labels]
    fonts = {
        "overall": summary(every_reading, every_label),
        "styles": {s: summary(*v) for s, v in by_style.items()},
        "hands": {h: summary(*v) for h, v in by_hand.items()},
    }
    print(f"fonts ({time.perf_counter() - start:.0f} s): {fonts['overall']}")
    for name, row in [*fonts["styles"].items(), *fonts["hands"].items()]:
        print(f"  {name:22s} {row}")
    result: dict = {
        "split": args.split, "family": args.family, "hands": chosen, "missing_hands": missing,
        "variants": args.variants, "seed": args.seed,
        "weights": {key: predictor.meta.get(key) for key in ("architecture", "date", "temperature")},
        "fonts": fonts, "errors": errors,
    }
    if args.sklearn:
        images, labels = hands.sklearn_digits()
        groups = {}
        for s, style in enumerate(hands.STYLES):
            rng = np.random.default_rng([args.seed, 1000 + s])
            picked = rng.permutation(len(images))[: args.sklearn]
            groups[style] = summary([read(predictor, hands.draw(style, images[i], rng)) for i in picked],
                                    [int(labels[i]) for i in picked])
            print(f"  sklearn {style:14s} {groups[style]}")
        result["sklearn"] = groups
    result["not_digits_flagged"] = not_digits_flagged(predictor, chosen, args.scribbles, args.seed)
    print(f"not digits flagged: {result['not_digits_flagged']}")
    save_result(f"other_hands_{args.split}" + ("" if args.family == "debian" else f"_{args.family}"), result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
