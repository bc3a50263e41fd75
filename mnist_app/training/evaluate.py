"""Accuracy, per-digit accuracy, the confusion matrix, how honest the probabilities are (ECE) and how many readings
the app would flag as not sure.

    mnist-evaluate --weights PATH --plot confusion.png --reliability reliability.png
    mnist-evaluate --weights PATH --fit-temperature   # older weights: fit and store their temperature
"""

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import nn

from mnist_app.reading.predict import confident_bar, is_confident
from mnist_app.storage.weights import PACKAGE_WEIGHTS, load_weights, metadata_path, update_metadata
from mnist_app.training.calibration import (
    confidence_bins,
    expected_calibration_error,
    fit_temperature,
    reliability_figure,
)
from mnist_app.training.data import DATA_ENV, load_mnist, split_validation
from mnist_app.training.models import parameter_count


def as_batch(images: torch.Tensor) -> torch.Tensor:
    """N x 28 x 28 uint8 -> N x 1 x 28 x 28 float in [0, 1]."""
    return images.unsqueeze(1).float().div_(255)


@torch.no_grad()
def logits_of(model: nn.Module, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = [model(as_batch(images[i : i + batch_size].to(device))).float() for i in range(0, len(images), batch_size)]
    model.train(was_training)
    return torch.cat(out).cpu()


def loss_and_accuracy_of(logits: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    labels = labels.cpu()
    return F.cross_entropy(logits, labels).item(), (logits.argmax(1) == labels).float().mean().item()


def loss_and_accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    return loss_and_accuracy_of(logits_of(model, images), labels)


def confusion_matrix(predicted: np.ndarray, labels: np.ndarray, classes: int = 10) -> np.ndarray:
    """Rows are true digits, columns predicted digits."""
    return np.bincount(labels * classes + predicted, minlength=classes * classes).reshape(classes, classes)


def format_report(confusion: np.ndarray, parameters: int) -> str:
    total = confusion.sum()
    per_digit = confusion.diagonal() / np.maximum(confusion.sum(1), 1)
    lines = [
        f"test accuracy: {100 * confusion.trace() / total:.2f}%",
        f"parameters: {parameters}",
        "per-digit accuracy: " + "  ".join(f"{d}: {100 * a:.2f}%" for d, a in enumerate(per_digit)),
        "confusion matrix (rows: true digit, columns: predicted):",
        "      " + "".join(f"{d:>6}" for d in range(10)),
    ]
    lines += [f"{d:>6}" + "".join(f"{v:>6}" for v in row) for d, row in enumerate(confusion)]
    return "\n".join(lines)


def confusion_figure(confusion: np.ndarray) -> Figure:
    """The confusion matrix as a matplotlib Figure (no pyplot: its global state is not safe in a server)."""
    fig = Figure(figsize=(6, 5.5))
    ax = fig.subplots()
    # Log colour scale: the errors, not the huge diagonal, are what one looks for.
    ax.imshow(np.log1p(confusion), cmap="Blues")
    for (t, p), v in np.ndenumerate(confusion):
        ax.text(p, t, str(v), ha="center", va="center", fontsize=7, color="white" if t == p else "black")
    ax.set(xticks=range(10), yticks=range(10), xlabel="predicted", ylabel="true digit", title="MNIST test confusion")
    fig.tight_layout()
    return fig


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Evaluate weights on the MNIST test set.", formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--weights", type=Path, metavar="PATH", default=PACKAGE_WEIGHTS, help="safetensors file to evaluate")
    p.add_argument("--data", metavar="DIR", help=f"folder of MNIST IDX files (else ${DATA_ENV}, else a download)")
    p.add_argument("--plot", type=Path, metavar="PNG", help="also save the confusion matrix as this PNG")
    p.add_argument("--reliability", type=Path, metavar="PNG", help="also save the reliability diagram as this PNG")
    p.add_argument("--fit-temperature", action="store_true",
                   help="fit the temperature on the validation split (as the engine does after training; "
                   "--val-size images held out of the training set) and store it in the weights' JSON")
    p.add_argument("--val-size", type=int, default=5000, help="the validation split the training held out")
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    model, meta = load_weights(args.weights)
    mnist = load_mnist(args.data)
    temperature = meta.get("temperature", 1.0)
    if args.fit_temperature:
        splits = split_validation(mnist.train_images, mnist.train_labels, args.val_size, seed=0)
        temperature = fit_temperature(logits_of(model, splits.val_images), splits.val_labels)
        update_metadata(args.weights, {"temperature": round(temperature, 5)})
        meta = meta | {"temperature": temperature}
        print(f"temperature {temperature:.4f} (fitted on {args.val_size} validation digits) stored in "
              f"{metadata_path(args.weights)}")
    logits = logits_of(model, mnist.test_images)
    confusion = confusion_matrix(logits.argmax(1).numpy(), mnist.test_labels.numpy())
    print(format_report(confusion, parameter_count(model)))
    probabilities = (logits / temperature).softmax(1).numpy()
    bins = confidence_bins(probabilities, mnist.test_labels.numpy())
    print(f"expected calibration error (15 bins): {100 * expected_calibration_error(bins):.2f}% "
          f"at temperature {temperature:.4f}; mean top probability {probabilities.max(1).mean():.4f}")
    right = logits.argmax(1).numpy() == mnist.test_labels.numpy()
    images28, bar = as_batch(mnist.test_images)[:, 0].numpy(), confident_bar(meta)
    doubted = np.array([not is_confident(p, image, bar) for p, image in zip(probabilities, images28, strict=True)])
    print(f"flagged not sure (the app's rule): {100 * doubted.mean():.2f}% of the readings; "
          f"{100 * doubted[right].mean():.2f}% of those read right, {doubted[~right].sum()} of the {(~right).sum()} "
          f"misread")
    if args.plot:
        confusion_figure(confusion).savefig(args.plot, dpi=120)
        print(f"saved {args.plot}")
    if args.reliability:
        reliability_figure(bins).savefig(args.reliability, dpi=120)
        print(f"saved {args.reliability}")


if __name__ == "__main__":
    main()
