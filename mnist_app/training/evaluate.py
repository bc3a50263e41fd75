"""Accuracy, per-digit accuracy and the confusion matrix.

    mnist-evaluate --weights PATH --plot confusion.png    # or python -m mnist_app.training.evaluate ...
"""

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import nn

from mnist_app.storage.weights import PACKAGE_WEIGHTS, load_weights
from mnist_app.training.data import DATA_ENV, load_mnist
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


def loss_and_accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    logits = logits_of(model, images)
    labels = labels.cpu()
    return F.cross_entropy(logits, labels).item(), (logits.argmax(1) == labels).float().mean().item()


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
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    model, _ = load_weights(args.weights)
    mnist = load_mnist(args.data)
    predicted = logits_of(model, mnist.test_images).argmax(1).numpy()
    confusion = confusion_matrix(predicted, mnist.test_labels.numpy())
    print(format_report(confusion, parameter_count(model)))
    if args.plot:
        confusion_figure(confusion).savefig(args.plot, dpi=120)
        print(f"saved {args.plot}")


if __name__ == "__main__":
    main()
