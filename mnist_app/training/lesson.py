"""Training from scratch in front of a class: the engine's fastest setting to 99% on a CPU.

One epoch of the `lesson` net, no augmentation, both cores; the curve watches 1,000 fixed MNIST test
digits every 20 steps (about three times a second here), and the last weights are kept: a fixed schedule,
nothing chosen on test digits. `benchmarks/train_speed.py` and `benchmarks/lesson_speed.py` measure it.
"""

import torch

from mnist_app.training.data import WATCHED_TEST_DIGITS, Splits
from mnist_app.training.engine import TrainConfig, train

LESSON = TrainConfig(
    model="lesson", epochs=1, batch_size=128, lr=0.2, augment=False, threads=2, eval_every=20, watch_test=True,
)


def warm_up() -> None:
    """Run the lesson on a few random images: torch builds its kernels for each new shape on first use (3 s of
    a lesson's 12 here), so a process that does this while it waits then trains at full speed from the click."""
    steps = 2
    images = torch.randint(0, 256, (steps * LESSON.batch_size + WATCHED_TEST_DIGITS, 28, 28), dtype=torch.uint8)
    labels = torch.randint(0, 10, (len(images),))
    n = steps * LESSON.batch_size
    train(LESSON, Splits(images[:n], labels[:n], images[n:], labels[n:]))
