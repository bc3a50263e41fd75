"""Fine-tuning the served model on MNIST plus the class's corrections, and the gate before deploying it.

The training engine is the usual one (`engine.train`), started from the served model's weights with
the corrections mixed into MNIST's training split. Each correction is repeated so that together they
make a few percent of an epoch: enough to be learnt, too few to crowd out MNIST.

A base that learnt from the development split's handwriting fonts (`--font-digits`, `--font-letters`) would lose
those lessons in a fine-tune on MNIST alone (benchmarks/fine_tune_lessons.py: letters flagged 92.5 -> 72.3%, with
the drawings 93.3%), so a few of their digits and letters are drawn again and mixed in the same way.
"""

import math
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from mnist_app.training.data import Mnist, Splits
from mnist_app.training.engine import MACHINE_SETTINGS, TrainConfig
from mnist_app.training.evaluate import logits_of
from mnist_app.training.font_digits import NoFontsError, font_drawings

EPOCHS = 2
# The last epoch unwarped, as the shipped recipe ends: with both warped the tab's fine-tune of the shipped weights
# lost 0.24 point of MNIST validation (5 corrections, benchmarks/fine_tune_lessons.py's), with this one 0.06.
CLEAN_EPOCHS = 1
LR = 0.01  # a tenth of a full run's peak: adjust the weights, do not start over
CORRECTION_SHARE = 0.05  # of each epoch's images
# Drawings per development font of each digit and of each letter, for a base that learnt them: about 1,500 in the
# 19 fonts, near the shipped weights' last lesson's ratio (5,700 digits to 10,900 letters); two minutes more a run.
FONT_DIGITS_PER_FONT = 3
LETTERS_PER_FONT = 1
FONT_SHARE = 0.2  # of each epoch's images (the shipped weights' last lesson: 23%)
MAX_MNIST_DROP_POINTS = 0.1  # a fine-tune losing more MNIST test accuracy than this is not deployed


@dataclass
class FineTune:
    base_id: str  # the version it starts from (the served one)
    base_path: Path
    images: np.ndarray  # corrections to train on: N x 28 x 28 uint8
    labels: np.ndarray
    held_out_images: np.ndarray  # corrections never trained on, to measure with
    held_out_labels: np.ndarray
    share: float = CORRECTION_SHARE


def chain(meta: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The model's metadata, then its base's and so on back to the run from scratch: a CLI fine-tune (`--init`)
    records its base's metadata under "started_from"."""
    while isinstance(meta, dict):
        yield meta
        meta = meta.get("started_from")


def from_scratch_training(meta: dict[str, Any]) -> dict[str, Any]:
    """The settings of the run that trained a model from scratch: a CLI fine-tune's own settings (one clean epoch at
    a low lr) are not a recipe to reuse."""
    *_, first = chain(meta)
    return first.get("training") or {}


def lesson(meta: dict[str, Any], setting: str) -> dict[str, Any] | None:
    """The training settings of the last step in the model's chain that had `setting` on ("font_digits" or
    "font_letters": drawn in the development fonts; "flag_ones": flags given to 1s), or None."""
    steps = ((step.get("training") or {}) for step in chain(meta))
    return next((training for training in steps if training.get(setting)), None)


def fine_tune_config(base_meta: dict[str, Any], epochs: int = EPOCHS, lr: float = LR) -> TrainConfig:
    """The base model's own training settings (label smoothing, augmentation...) with fewer epochs and a lower lr.
    The last epoch is clean (unwarped) as the shipped recipe ends, however many clean epochs the base's recipe had;
    a one-epoch fine-tune is warped, so that the corrections are seen in many shapes. Font digits and letters are
    drawn again, fewer, when the base learnt from them; 1s get flags when its did. MNIST digits drawn as in use
    (`--drawn-mnist`) are not: about 50 s of one core a thousand. Threads, device and bf16 are the engine's defaults
    whatever the base ran on: a base trained in bf16 on a CPU with AMX may be fine-tuned on one that would emulate it,
    13x slower, or one trained on a GPU where there is none."""
    known = {f.name for f in fields(TrainConfig)} - set(MACHINE_SETTINGS)
    training = {k: v for k, v in from_scratch_training(base_meta).items() if k in known}
    cfg = replace(
        TrainConfig(**training), model=base_meta["architecture"], epochs=epochs, lr=lr,
        clean_epochs=min(CLEAN_EPOCHS, epochs - 1), font_digits=0, font_letters=0, drawn_mnist=0,
    )
    if lesson(base_meta, "font_digits"):
        cfg = replace(cfg, font_digits=FONT_DIGITS_PER_FONT)
    doubt = lesson(base_meta, "font_letters")
    if doubt:
        cfg = replace(cfg, font_letters=LETTERS_PER_FONT, not_a_digit_weight=doubt["not_a_digit_weight"])
    flags = lesson(base_meta, "flag_ones")
    if flags:
        cfg = replace(cfg, flag_ones=flags["flag_ones"])
    return cfg


def repeats(corrections: int, mnist_images: int, share: float) -> int:
    """How many times each correction appears in an epoch so that they make `share` of it."""
    return max(1, round(share * mnist_images / max(corrections, 1)))


def mixed_in(splits: Splits, images: np.ndarray, labels: np.ndarray, share: float) -> tuple[Splits, int]:
    """The training split with `images` appended, each repeated so that together they make `share` of an epoch;
    and the repeat count."""
    k = repeats(len(labels), len(splits.train_labels), share)
    repeated_images = torch.from_numpy(np.repeat(np.asarray(images, np.uint8), k, axis=0))
    repeated_labels = torch.from_numpy(np.repeat(np.asarray(labels, np.int64), k))
    return splits.with_training(repeated_images, repeated_labels), k


def with_corrections(splits: Splits, spec: FineTune) -> tuple[Splits, int]:
    """MNIST's training split with the corrections appended, each repeated; and the repeat count."""
    return mixed_in(splits, spec.images, spec.labels, spec.share)


def with_fonts(splits: Splits, cfg: TrainConfig, share: float = FONT_SHARE) -> tuple[Splits, int | None]:
    """The training split with `cfg.font_digits` drawings of each digit and `cfg.font_letters` of each letter (as not
    digits) in every installed development font mixed in, to make `share` of an epoch; and how many were drawn:
    0 when no such font is installed here, None when `cfg` asks for none (a base that never learnt from them)."""
    if not (cfg.font_digits or cfg.font_letters):
        return splits, None
    try:
        images, labels = font_drawings(
            cfg.font_digits, cfg.font_letters, cfg.seed, processes=1, hold_out=cfg.font_hold_out,
            families=cfg.font_families,
        )
    except NoFontsError:
        return splits, 0
    mixed, _ = mixed_in(splits, images.numpy(), labels.numpy(), share)
    return mixed, len(labels)


def right_answers(model: nn.Module, images: np.ndarray, labels: np.ndarray) -> int:
    if len(labels) == 0:
        return 0
    predicted = logits_of(model, torch.from_numpy(images.astype(np.uint8))).argmax(1).numpy()
    return int((predicted == labels).sum())


def fine_tune_report(
    base: nn.Module, tuned: nn.Module, mnist: Mnist, spec: FineTune, repeat: int, font_images: int | None = None
) -> dict[str, Any]:
    """Before and after on MNIST's test set and on the held-out corrections, for the version's metadata.
    `font_images`: how many font digits and letters were mixed in (see `with_fonts`)."""
    base_predicted = logits_of(base, mnist.test_images).argmax(1)
    return {
        "fine_tuned_from": spec.base_id,
        "base_test_accuracy": (base_predicted == mnist.test_labels).float().mean().item(),
        "corrections_trained": len(spec.labels),
        "correction_repeats": repeat,
        "font_images_trained": font_images,
        "held_out_corrections": len(spec.held_out_labels),
        "held_out_right_before": right_answers(base, spec.held_out_images, spec.held_out_labels),
        "held_out_right_after": right_answers(tuned, spec.held_out_images, spec.held_out_labels),
    }


def mnist_drop_points(meta: dict[str, Any]) -> float | None:
    """How many points of MNIST test accuracy a fine-tune lost against its base; None if not a fine-tune."""
    base, after = meta.get("base_test_accuracy"), meta.get("test_accuracy")
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (base, after)):
        return None
    return round(100 * (base - after), 4)  # rounded: float32 accuracies would make an exact 0.1 look larger


def deploy_refusal(version_id: str, meta: dict[str, Any]) -> str | None:
    """Why this version must not be served, or None."""
    drop = mnist_drop_points(meta)
    if drop is None or drop <= MAX_MNIST_DROP_POINTS:
        return None
    return (
        f"Version {version_id} was not deployed: fine-tuning cost {drop:.2f} points of MNIST test accuracy "
        f"({100 * meta['base_test_accuracy']:.2f}% → {100 * meta['test_accuracy']:.2f}%), "
        f"more than the {MAX_MNIST_DROP_POINTS} allowed."
    )


def fine_tune_summary(version_id: str, meta: dict[str, Any], stopped: bool = False) -> str:
    """Before and after, in words, and whether the result may be deployed. `stopped`: the run was stopped early."""
    held = meta["held_out_corrections"]
    held_text = (
        f"held-out corrections {meta['held_out_right_before']}/{held} → {meta['held_out_right_after']}/{held} right"
        if held else "no held-out corrections yet (every fifth one is kept aside)"
    )
    text = (
        f"{'Stopped early, before its planned epochs: fine-tuned' if stopped else 'Fine-tuned'} "
        f"{meta['fine_tuned_from']} on "
        f"{meta['corrections_trained']} corrections, each shown {meta['correction_repeats']} times an epoch among "
        "the MNIST digits. MNIST test accuracy "
        f"{100 * meta['base_test_accuracy']:.2f}% → {100 * meta['test_accuracy']:.2f}%, {held_text}. "
        f"Saved as version {version_id}."
    )
    font_images = meta.get("font_images_trained")
    if font_images:
        text += (
            f" {font_images} digits and letters drawn in handwriting fonts were mixed in, so that it keeps what the "
            "served model learnt of other hands and its doubt of letters."
        )
    elif font_images == 0:
        text += (
            " What the served model learnt from handwriting fonts was not refreshed (none of the development "
            "split's fonts is installed on this server): it may read other hands, and letters, worse."
        )
    if deploy_refusal(version_id, meta) is not None:
        return text + f" It lost more than {MAX_MNIST_DROP_POINTS} point on MNIST, so it cannot be deployed."
    if stopped:
        return text + " It trained less than planned: deploy it only if these figures are good enough."
    return text + " Deploy it to serve it."
