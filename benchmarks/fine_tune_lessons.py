"""Does the Admin tab's fine-tune on corrections keep what the served weights learnt from handwriting fonts?

    python benchmarks/fine_tune_lessons.py --data ../shared/data/mnist

Fine-tunes the shipped weights as the Admin tab does (`web/jobs.run_training`, the settings of
`training/fine_tune.fine_tune_config`), on `--corrections` digits in the development split's hands that the shipped
weights misread (a class's corrections), twice: as the tab does, with digits and letters drawn again in those
fonts, and on MNIST and the corrections alone. Then the shipped weights and both fine-tunes are read on the
development split (`--variants` of each digit in each hand, in every style of `synthesis/hands.py`), on its hands'
letters A-Z and on `--scribbles` seeded scribbles: accuracy, and the share of letters and scribbles flagged not
confident. Every hand here is a development hand: the report split stays unseen. Needs the development split's
fonts (see benchmarks/other_hands.py). Nothing else should run meanwhile. Writes
benchmarks/results/fine_tune_lessons.json.
"""

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from other_hands import hand_readings, not_digits_flagged, summary

from mnist_app.reading.predict import NoDigitError, Predictor
from mnist_app.storage.weights import PACKAGE_WEIGHTS, read_metadata
from mnist_app.synthesis import hands
from mnist_app.testing.results import save_result
from mnist_app.training.fine_tune import FineTune, fine_tune_config
from mnist_app.training.font_digits import TRAINING_STYLES
from mnist_app.web.jobs import run_training


def misread_corrections(predictor: Predictor, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The first `count` development-hand digits the predictor misreads, as the 28x28s a correction stores."""
    images, labels = [], []
    for k, hand in enumerate(hands.installed_hands("dev")):
        for digit, variant in [(d, v) for d in range(10) for v in range(3)]:
            rng = np.random.default_rng([seed, k, digit, variant])
            for style in TRAINING_STYLES:
                try:
                    reading = predictor.predict(hands.draw(style, hands.glyph(hand, str(digit), rng), rng))
                except NoDigitError:
                    continue
                if reading.digit != digit:
                    images.append(np.round(reading.input28 * 255).astype(np.uint8))
                    labels.append(digit)
                if len(labels) == count:
                    return np.stack(images), np.array(labels)
    return np.stack(images), np.array(labels)


def development_split(predictor: Predictor, variants: int, scribbles: int, seed: int) -> dict:
    """Accuracy on the development hands' digits; the share of their letters and of scribbles flagged."""
    dev = hands.installed_hands("dev")
    drawn = list(hand_readings(predictor, dev, variants, seed))
    flagged = not_digits_flagged(predictor, dev, scribbles, seed)
    return {
        "digits": summary([reading for *_, reading in drawn], [digit for _, _, digit, _ in drawn]),
        "letters_flagged": flagged["letters"],
        "scribbles_flagged": flagged["scribbles"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, metavar="DIR", help="folder of the four MNIST IDX files")
    parser.add_argument("--corrections", type=int, default=20, help="the first 4 of each 5 are trained on")
    parser.add_argument("--variants", type=int, default=2)
    parser.add_argument("--scribbles", type=int, default=300)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    shipped = Predictor()
    images, labels = misread_corrections(shipped, args.corrections, args.seed)
    trained = np.arange(len(labels)) % 5 != 4  # as the app keeps every fifth correction aside
    spec = FineTune("shipped", PACKAGE_WEIGHTS, images[trained], labels[trained], images[~trained], labels[~trained])
    as_the_tab_does = fine_tune_config(read_metadata(PACKAGE_WEIGHTS))
    runs = {"with font drawings": as_the_tab_does,
            "MNIST and corrections only": replace(as_the_tab_does, font_digits=0, font_letters=0)}
    result: dict = {"corrections": len(labels), "corrections_trained": int(trained.sum()), "seed": args.seed,
                    "fine_tune": {}, "development_split": {}}
    result["development_split"]["shipped"] = development_split(shipped, args.variants, args.scribbles, args.seed)
    print("shipped", json.dumps(result["development_split"]["shipped"]), flush=True)
    with tempfile.TemporaryDirectory() as folder:
        for name, cfg in runs.items():
            start = time.perf_counter()
            outcome = run_training(cfg, Path(args.data), Path(folder) / name, lambda message: None, lambda: False, spec)
            row = {
                "wall_s": round(time.perf_counter() - start, 1),
                "font_images_trained": outcome["fine_tune"]["font_images_trained"],
                "mnist_test_before": round(outcome["fine_tune"]["base_test_accuracy"], 4),
                "mnist_test_after": round(outcome["test_accuracy"], 4),
                "held_out_right": [outcome["fine_tune"]["held_out_right_before"],
                                   outcome["fine_tune"]["held_out_right_after"], int((~trained).sum())],
            }
            result["fine_tune"][name] = row
            tuned = Predictor(outcome["version"].path)
            result["development_split"][name] = development_split(tuned, args.variants, args.scribbles, args.seed)
            print(name, json.dumps(row), json.dumps(result["development_split"][name]), flush=True)
    save_result("fine_tune_lessons", result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
