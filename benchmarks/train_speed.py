"""Seconds of training until the MNIST test accuracy first reaches 99.0%: our engine against
the classic tutorial recipe (pytorch/examples mnist), in one run on the same machine.

    python benchmarks/train_speed.py --data ../shared/data/mnist

Evaluation time is excluded for both; ours checks the test set every few steps, the baseline
after every epoch (as the tutorial does). Writes benchmarks/results/train_speed.json; its last line
printed is the same JSON.
"""

import argparse
import json
import time

import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from mnist_app.testing.results import save_result
from mnist_app.training.data import Splits, load_mnist
from mnist_app.training.engine import TrainConfig, TrainEvent, pick_device, train
from mnist_app.training.evaluate import loss_and_accuracy
from mnist_app.training.models import tutorial_net

TARGET = 0.99
FASTEST = TrainConfig(model="fast", epochs=1, batch_size=128, lr=0.1, augment=False, eval_every=40)


def ours_seconds_to_target(mnist, target: float = TARGET) -> float | None:
    """Train with the test set as the 'validation' set, stopping the first time it reaches the target."""
    splits = Splits(mnist.train_images, mnist.train_labels, mnist.test_images, mnist.test_labels)
    reached: list[float] = []

    def watch(ev: TrainEvent) -> None:
        if ev.val_acc is not None:
            print(f"  ours: {ev.train_s:6.2f} s  epoch {ev.epoch:.2f}  test {100 * ev.val_acc:.2f}%")
            if ev.val_acc >= target and not reached:
                reached.append(ev.train_s)

    train(FASTEST, splits, on_event=watch, should_stop=lambda: bool(reached))
    return reached[0] if reached else None


class PilMnist(Dataset):
    """What torchvision.datasets.MNIST does per sample: a PIL image, then the transform."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, transform: transforms.Compose) -> None:
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.transform(Image.fromarray(self.images[i].numpy(), mode="L")), int(self.labels[i])


def baseline_seconds_to_target(mnist, max_epochs: int, target: float = TARGET) -> float | None:
    """pytorch/examples mnist/main.py: Adadelta lr 1.0, batch 64, StepLR gamma 0.7, test each epoch."""
    torch.manual_seed(1)
    tensor_and_normalize = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    loader = DataLoader(PilMnist(mnist.train_images, mnist.train_labels, tensor_and_normalize), 64, shuffle=True)
    model = tutorial_net()[1:]  # the tutorial normalises in the transform, not in the model
    optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    trained_s = 0.0
    for epoch in range(1, max_epochs + 1):
        start = time.perf_counter()
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
        scheduler.step()
        trained_s += time.perf_counter() - start
        # Our evaluation helper feeds [0, 1] pixels, so put the normalisation back in front.
        _, acc = loss_and_accuracy(torch.nn.Sequential(tutorial_net()[0], model), mnist.test_images, mnist.test_labels)
        print(f"  baseline: {trained_s:6.1f} s  epoch {epoch}  test {100 * acc:.2f}%")
        if acc >= target:
            return trained_s
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None, help="folder of MNIST IDX files (or set MNIST_DATA_DIR)")
    parser.add_argument("--baseline-epochs", type=int, default=6)
    args = parser.parse_args()
    mnist = load_mnist(args.data)
    ours = ours_seconds_to_target(mnist)
    baseline = baseline_seconds_to_target(mnist, args.baseline_epochs)
    result = {
        "project_s_to_99": None if ours is None else round(ours, 2),
        "baseline_s_to_99": None if baseline is None else round(baseline, 1),
        "speedup": None if not (ours and baseline) else round(baseline / ours, 1),
        "device": pick_device().type,
        "threads": torch.get_num_threads(),
    }
    save_result("train_speed", result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
