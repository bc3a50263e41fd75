"""The development measures that new weights are judged by before they may replace the shipped ones.

    python benchmarks/development_bars.py --data DIR                                  # the shipped weights
    python benchmarks/development_bars.py --data DIR --weights a.safetensors b.safetensors --sets sets.npz

Every set is development data, never the report split or MNIST's test set: MNIST's validation split (the 5,000
training digits the engine holds out to choose its epoch), 400 of those digits drawn as a canvas, a phone photo and
chalk, every validation 1 given a flag (`augment.add_flags`) as a 28x28 and drawn as a canvas, the validation 1s
and 7s drawn as canvases, and the development hands' letters A-Z and seeded scribbles on the canvas, which should
be flagged as doubtful. A drawing the pipeline loses counts as a misreading (for a letter or scribble: flagged).
The rules in docs/experiments/ set their bars from the shipped weights' figures. Drawing and preparing the sets
takes a few minutes; `--sets PATH` keeps them in an .npz and reads them from there next time. Writes
benchmarks/results/development_bars.json (every weights file given); its last line printed is the same JSON.
"""

import argparse
import json
import string
from pathlib import Path

import numpy as np
import torch

from mnist_app.reading import mnist_style
from mnist_app.reading.decode import NoDigitError
from mnist_app.reading.predict import Predictor
from mnist_app.synthesis import hands, render
from mnist_app.testing.results import save_result
from mnist_app.training.augment import add_flags
from mnist_app.training.data import load_mnist, split_validation
from mnist_app.training.train import VAL_SIZE

DRAWN = 400  # validation digits drawn in each of render.STYLES
SCRIBBLES = 300
NOT_DIGITS = ("letters", "scribbles")


def prepared(pictures: list, labels: list[int]) -> dict[str, np.ndarray]:
    """The pipeline's 28x28s of `pictures` (zeros where it finds no digit), whether each was found, the labels."""
    images, found = [], []
    for picture in pictures:
        try:
            images.append(mnist_style.prepare_digit(picture)[0])
            found.append(True)
        except NoDigitError:
            images.append(np.zeros((28, 28), np.float32))
            found.append(False)
    return {"images": np.stack(images).astype(np.float32), "found": np.array(found), "labels": np.array(labels)}


def canvases(digits: np.ndarray, indices: np.ndarray, label: int) -> dict[str, np.ndarray]:
    """`digits` (28x28, validation indices `indices`) each drawn as a canvas, seeded by its index, and prepared."""
    pairs = zip(digits, indices, strict=True)
    drawn = [render.render("canvas", d, np.random.default_rng([6, int(i)])) for d, i in pairs]
    return prepared(drawn, [label] * len(drawn))


def development_sets(data: str | None) -> dict[str, dict[str, np.ndarray]]:
    """Every set, seeded: the same digits, drawings and flags on every run."""
    mnist = load_mnist(data, allow_download=False)
    split = split_validation(mnist.train_images, mnist.train_labels, VAL_SIZE, seed=0)
    images, labels = split.val_images.numpy(), split.val_labels.numpy()
    sets = {"mnist_validation": {"images": images.astype(np.float32) / 255, "found": np.ones(len(images), bool),
                                 "labels": labels}}
    pictures, truth = [], []
    for i in np.random.default_rng(5).permutation(len(images))[:DRAWN]:
        for k, style in enumerate(render.STYLES):
            pictures.append(render.render(style, images[i], np.random.default_rng([5, int(i), k])))
            truth.append(int(labels[i]))
    sets["drawn_validation"] = prepared(pictures, truth)
    ones, sevens = np.flatnonzero(labels == 1), np.flatnonzero(labels == 7)
    plain = torch.from_numpy(images[ones])[:, None].float() / 255
    flagged = add_flags(plain, torch.ones(len(ones), dtype=torch.long), 1.0, torch.Generator().manual_seed(123))
    flagged = (flagged[:, 0] * 255).round().to(torch.uint8).numpy()
    sets["flagged_ones_28x28"] = {"images": flagged.astype(np.float32) / 255, "found": np.ones(len(ones), bool),
                                  "labels": np.ones(len(ones), np.int64)}
    sets["flagged_ones_canvas"] = canvases(flagged, ones, 1)
    sets["ones_canvas"] = canvases(images[ones], ones, 1)
    sets["sevens_canvas"] = canvases(images[sevens], sevens, 7)
    rng = np.random.default_rng([7, 2000])
    letters = [hands.draw("canvas", hands.glyph(hand, c, rng), rng)
               for hand in hands.installed_hands("dev") for c in string.ascii_uppercase]
    sets["letters"] = prepared(letters, [-1] * len(letters))
    sets["scribbles"] = prepared([hands.scribble(rng) for _ in range(SCRIBBLES)], [-1] * SCRIBBLES)
    return sets


def load_or_draw(data: str | None, path: Path | None) -> dict[str, dict[str, np.ndarray]]:
    """The sets from `path` when it exists, else drawn (and kept there when a path is given)."""
    if path is not None and path.exists():
        with np.load(path) as stored:
            names = dict.fromkeys(key.split("/")[0] for key in stored.files)  # in the order they were drawn
            return {n: {part: stored[f"{n}/{part}"] for part in ("images", "found", "labels")} for n in names}
    sets = development_sets(data)
    if path is not None:
        np.savez_compressed(path, **{f"{n}/{part}": v for n, s in sets.items() for part, v in s.items()})
    return sets


def measures(predictor: Predictor, sets: dict[str, dict[str, np.ndarray]]) -> dict[str, dict]:
    """Per set: for digits the share read right, the misreadings and the share of right readings flagged doubtful;
    for letters and scribbles the share flagged."""
    out = {}
    for name, s in sets.items():
        readings = predictor.classify(s["images"])
        sure = np.array([r.confident for r in readings]) & s["found"]
        if name in NOT_DIGITS:
            out[name] = {"n": len(readings), "flagged": round(float((~sure).mean()), 4)}
            continue
        right = (np.array([r.digit for r in readings]) == s["labels"]) & s["found"]
        out[name] = {"n": len(readings), "accuracy": round(float(right.mean()), 4), "misread": int((~right).sum()),
                     "right_flagged": round(float((right & ~sure).sum() / max(right.sum(), 1)), 4)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="MNIST IDX folder (default: MNIST_DATA_DIR)")
    parser.add_argument("--weights", nargs="+", default=[None], help="weights files (default: the shipped weights)")
    parser.add_argument("--sets", type=Path, default=None, help=".npz to keep the prepared sets in and read them from")
    args = parser.parse_args()

    sets = load_or_draw(args.data, args.sets)
    result: dict = {"sets": {name: len(s["labels"]) for name, s in sets.items()}, "weights": {}}
    for weights in args.weights:
        predictor = Predictor(weights)
        name = str(weights) if weights else "shipped"
        result["weights"][name] = {"date": predictor.meta.get("date"), **measures(predictor, sets)}
        for set_name, row in result["weights"][name].items():
            print(f"{name}  {set_name:20s} {row}")
    save_result("development_bars", result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
