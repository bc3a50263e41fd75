"""Model definitions, registered by name.

Every model takes a float batch N x 1 x 28 x 28 in [0, 1] (white ink on black, as MNIST)
and returns logits N x 10. Normalisation to MNIST's mean and std happens inside the model,
so callers never need to know the constants.
"""

from collections.abc import Callable

import torch
from torch import nn

MNIST_MEAN = 0.1307
MNIST_STD = 0.3081


class Normalize(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - MNIST_MEAN) / MNIST_STD


class CenterCrop(nn.Module):
    """The middle `size` x `size` pixels, placed as torchvision's CenterCrop places them. Not torchvision's own:
    importing torchvision took 1.5-2.6 s of every start of the app, its training worker and the command line."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top = round((x.shape[-2] - self.size) / 2)
        left = round((x.shape[-1] - self.size) / 2)
        return x[..., top:top + self.size, left:left + self.size]


def conv_bn(c_in: int, c_out: int, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


def tutorial_net() -> nn.Module:
    """The pytorch/examples MNIST net: two convs, dropout, two dense layers (1.2M params)."""
    return nn.Sequential(
        Normalize(),
        nn.Conv2d(1, 32, 3), nn.ReLU(),
        nn.Conv2d(32, 64, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(),
        nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, 10),
    )


def lenet5() -> nn.Module:
    """LeCun et al. 1998, with ReLU and max pooling as usually taught today."""
    return nn.Sequential(
        Normalize(),
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


def three_block_cnn(width: int, dropout: float) -> nn.Sequential:
    """VGG-style: two 3x3 convs at 28x28, two at 14x14, one at 7x7 (width, 2x and 4x channels), each block pooled."""
    return nn.Sequential(
        Normalize(),
        conv_bn(1, width), conv_bn(width, width), nn.MaxPool2d(2),
        conv_bn(width, 2 * width), conv_bn(2 * width, 2 * width), nn.MaxPool2d(2),
        conv_bn(2 * width, 4 * width), nn.MaxPool2d(2), nn.Flatten(),
        nn.Dropout(dropout), nn.Linear(4 * width * 9, 10),
    )


def wide_cnn() -> nn.Module:
    """A wider three-block VGG-style CNN (578k params), a strong reference point."""
    return three_block_cnn(64, dropout=0.3)


def fast_cnn() -> nn.Module:
    """A small net for quick runs: downsamples early so a CPU epoch takes seconds."""
    return nn.Sequential(
        Normalize(),
        conv_bn(1, 16, 5), nn.MaxPool2d(2),
        conv_bn(16, 32), nn.MaxPool2d(2),
        conv_bn(32, 64), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(64 * 9, 10),
    )


def conv_pool_bn(c_in: int, c_out: int, kernel: int, stride: int = 1) -> list[nn.Module]:
    """Pool before batch norm and ReLU: the same maxima (ReLU and a positive scale keep the order), 4x cheaper."""
    return [
        nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False), nn.MaxPool2d(2),
        nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
    ]


def lesson_net() -> nn.Module:
    """Two convs, the first with stride 2 (25k params): the fastest to 99% on a CPU, for training before a class.
    It reads the middle 24x24, where MNIST's digits lie (their 20x20 box, centred by mass): that halves each
    size evenly (24, 12, 6, 3; 28 would lose a row at 7 to 3) and cut a third of the training time, measured."""
    return nn.Sequential(
        Normalize(), CenterCrop(24), *conv_pool_bn(1, 32, 5, stride=2), *conv_pool_bn(32, 64, 3), nn.Flatten(),
        nn.Linear(64 * 9, 10),
    )


def crop24_net() -> nn.Module:
    """Three convs on the middle 24x24, each pooled before batch norm (165k params): the lesson net's savings at
    the shipped net's size, 2.2x faster to train; 99.60-99.67% on MNIST test in under 15 minutes (docs/training.md)."""
    return nn.Sequential(
        Normalize(), CenterCrop(24),
        *conv_pool_bn(1, 48, 5), *conv_pool_bn(48, 96, 3), *conv_pool_bn(96, 128, 3), nn.Flatten(),
        nn.Dropout(0.2), nn.Linear(128 * 9, 10),
    )


def compact_net() -> nn.Module:
    """The engine's default: three conv blocks with batch norm (128k params), quicker to train on a CPU."""
    return nn.Sequential(
        Normalize(),
        conv_bn(1, 32, 5), nn.MaxPool2d(2),
        conv_bn(32, 48), conv_bn(48, 64), nn.MaxPool2d(2),
        conv_bn(64, 128), nn.MaxPool2d(2), nn.Flatten(),
        nn.Dropout(0.2), nn.Linear(128 * 9, 10),
    )


def full_res_net() -> nn.Module:
    """The shipped net: the three-block CNN at half the width, two 3x3 convs at full 28x28 resolution (151k params)."""
    return three_block_cnn(32, dropout=0.2)


MODELS: dict[str, Callable[[], nn.Module]] = {
    "compact": compact_net,
    "full_res": full_res_net,
    "crop24": crop24_net,
    "fast": fast_cnn,
    "lesson": lesson_net,
    "tutorial": tutorial_net,
    "lenet5": lenet5,
    "wide": wide_cnn,
}


# Former names, still loadable: versions and weights saved before the rename record them as their architecture.
ALIASES = {"default": "compact"}


def model_name(name: str) -> str:
    """The registry's name for `name`: a former name resolved, any other returned as it is."""
    return ALIASES.get(name, name)


def build_model(name: str) -> nn.Module:
    if model_name(name) not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    return MODELS[model_name(name)]()


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
