"""Train a model on MNIST from the command line (`mnist-train`); under torchrun, data-parallel.

    python -m mnist_app.training.train --data DIR --model compact --epochs 15   # a new version in the model store
    python -m mnist_app.training.train ... --out weights/shipped.safetensors      # or a file of its own
    python -m mnist_app.training.train ... --init weights/shipped.safetensors --epochs 1 --lr 0.002 --no-augment
    python -m mnist_app.training.train --data DIR --recipe quarter-hour --seed 1   # a named recipe's settings
    torchrun --nproc_per_node 2 -m mnist_app.training.train ...   # the same, data-parallel
"""

import argparse
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from tqdm import tqdm

from mnist_app.storage.versions import ModelVersions
from mnist_app.storage.weights import WeightsError, load_weights, save_weights
from mnist_app.synthesis import hands
from mnist_app.training.data import DATA_ENV, Splits, load_mnist, split_validation
from mnist_app.training.drawn_mnist import drawn_mnist
from mnist_app.training.engine import TrainConfig, TrainEvent, run_metadata, train
from mnist_app.training.evaluate import loss_and_accuracy
from mnist_app.training.font_digits import NoFontsError, font_drawings
from mnist_app.training.models import MODELS, model_name
from mnist_app.training.recipes import RECIPES, in_bf16_where_faster

VAL_SIZE = 5000


def parser() -> argparse.ArgumentParser:
    defaults = TrainConfig()
    p = argparse.ArgumentParser(
        description="Train a model on MNIST and save it as safetensors + JSON.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = p.add_argument
    add("--data", metavar="DIR", help=f"folder of MNIST IDX files (else ${DATA_ENV}, else a download)")
    add("--recipe", choices=list(RECIPES),
        help="start from a named recipe's settings (training/recipes.py); flags given as well override them")
    # model_name runs before the choices are checked: "default", the compact net's former name, still works.
    add("--model", type=model_name, choices=list(MODELS), default=defaults.model, help="architecture")
    add("--epochs", type=int, default=defaults.epochs, help="passes over the training split")
    add("--batch-size", type=int, default=defaults.batch_size, help="images per step, all processes together")
    add("--lr", type=float, default=defaults.lr, help="peak learning rate of the one-cycle schedule")
    add("--seed", type=int, default=defaults.seed, help="decides the initial weights, the order and the warps")
    add("--label-smoothing", type=float, default=defaults.label_smoothing, help="label smoothing of the loss")
    add("--no-augment", action="store_true", help="train on the images as they are, unwarped")
    add("--clean-epochs", type=int, default=defaults.clean_epochs, metavar="N",
        help="the last N epochs train on the images unwarped")
    add("--shear", type=float, default=defaults.shear, help="the augmentation's largest shear (slant)")
    add("--flag-ones", type=float, default=defaults.flag_ones, metavar="SHARE",
        help="give this share of the warped 1s the flag most of the world writes (augment.add_flags)")
    add("--hollow-strokes", type=float, default=defaults.hollow_strokes, metavar="SHARE",
        help="draw this share of the warped digits as sketchy outlines, bold with parts of their insides cut out")
    add("--condensed", type=float, default=defaults.condensed, metavar="SHARE",
        help="squeeze this share of the warped digits other than 1 as narrow as condensed hands write them")
    add("--condensed-on", choices=("all", "drawn"), default=defaults.condensed_on,
        help="squeeze any digit, or only the drawn ones (--font-digits, --drawn-mnist): MNIST's own never")
    add("--font-digits", type=int, default=defaults.font_digits, metavar="N",
        help="mix N drawings of each digit in each development-split handwriting font into training")
    add("--font-letters", type=int, default=defaults.font_letters, metavar="N",
        help="mix N drawings of each letter in those fonts into training, as not digits (the net learns doubt)")
    add("--font-families", type=family_names, default=defaults.font_families, metavar="FAMILY,...",
        help=f"the families of hands --font-digits and --font-letters draw: {', '.join(hands.FAMILIES)}")
    add("--font-hold-out", type=hand_names, default=defaults.font_hold_out, metavar="HAND,...",
        help="development-split hands never drawn for training, to measure unseen hands on (other_hands.py --hands)")
    add("--drawn-mnist", type=int, default=defaults.drawn_mnist, metavar="N",
        help="mix N of MNIST's training digits, drawn as canvases, photos and chalk and prepared by the app's "
             "pipeline, into training")
    add("--not-a-digit-weight", type=float, default=defaults.not_a_digit_weight,
        help="weight of the loss that pulls the readings of those letters towards even odds")
    add("--keep-readings", type=float, default=defaults.keep_readings, metavar="WEIGHT",
        help="with --init: pull the readings of MNIST's own training digits towards the --init weights' by this "
             "weight, so what the fine-tune adds costs MNIST less (learning without forgetting)")
    add("--readings-only", action="store_true",
        help="with --keep-readings: MNIST's own digits are taught only the --init weights' readings, not their "
             "labels; the labels teach what the fine-tune adds (flags, fonts, letters)")
    add("--head-only", action="store_true",
        help="with --init: train only the last layer; the --init weights' features and batch norm stay as they are")
    add("--val-size", type=int, default=VAL_SIZE, help="training images held out to pick the best epoch")
    add("--threads", type=int, default=defaults.threads, help="CPU threads; 0: all cores, shared by the processes")
    add("--bf16", dest="autocast", action=argparse.BooleanOptionalAction, default=defaults.autocast,
        help="bf16 autocast (default: on a GPU only; the recipes also on a CPU where it trains their net faster "
             "than float32, timed at the start: 2.5x faster on a Xeon with AMX, 1.2x slower on one without)")
    add("--out", type=Path, metavar="PATH",
        help="write PATH (.safetensors) and its .json; else save a new version in the app's model store")
    add("--resume", action="store_true",
        help="continue from the checkpoint a stopped run left (beside --out, else in the model store)")
    add("--init", type=Path, metavar="PATH", help="start from these weights (a fine-tune); --model must match")
    return p


def start_distributed() -> bool:
    """Join the process group when torchrun started several processes; whether it did."""
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return distributed


def initial_weights(path: Path, model: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The state dict and metadata of the weights a fine-tune starts from; WeightsError unless they are a `model`."""
    base, meta = load_weights(path)
    if model_name(meta["architecture"]) != model:
        raise WeightsError(f"{path} holds a {meta['architecture']!r} model, not --model {model!r}")
    return base.state_dict(), meta


def hand_names(text: str) -> tuple[str, ...]:
    """Comma-separated names of development-split hands (synthesis/hands.py)."""
    names = tuple(name for name in text.split(",") if name)
    unknown = [name for name in names if not hands.in_split(name, "dev")]
    if unknown:
        raise argparse.ArgumentTypeError(f"not development-split hands: {', '.join(unknown)}")
    return names


def family_names(text: str) -> tuple[str, ...]:
    names = tuple(name for name in text.split(",") if name)
    unknown = [name for name in names if name not in hands.FAMILIES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"families of hands are {', '.join(hands.FAMILIES)}, not {text!r}")
    return names


def with_font_drawings(splits: Splits, cfg: TrainConfig) -> Splits:
    """The training split with drawings in the development-split fonts added; validation stays MNIST's own."""
    images, labels = font_drawings(
        cfg.font_digits, cfg.font_letters, cfg.seed, hold_out=cfg.font_hold_out, families=cfg.font_families
    )
    return splits.with_training(images, labels)


def with_drawn_mnist(splits: Splits, cfg: TrainConfig) -> Splits:
    """The training split with `cfg.drawn_mnist` of its own digits drawn as in use added; validation stays as it is."""
    images, labels = drawn_mnist(splits.train_images, splits.train_labels, cfg.drawn_mnist, cfg.seed)
    return splits.with_training(images, labels)


def checkpoint_path(out: Path | None, model: str) -> Path:
    """Beside the output, or in the model store, where no version is named with a dot (so none is taken for one)."""
    if out is not None:
        return out.with_suffix(".ckpt.safetensors")
    return ModelVersions().root / f"{model}.ckpt.safetensors"


class ProgressBar:
    """A tqdm bar of steps showing the latest training loss, accuracy and speed, and a line per validation."""

    def __init__(self, total_steps: int, enabled: bool) -> None:
        self.bar = tqdm(total=total_steps, disable=not enabled, unit="step")

    def __call__(self, ev: TrainEvent) -> None:
        self.bar.update(ev.step - self.bar.n)
        shown = {"loss": f"{ev.loss:.3f}", "acc": f"{ev.train_acc:.4f}", "img/s": f"{ev.images_per_s:.0f}"}
        if ev.val_acc is not None:
            shown["val"] = f"{ev.val_acc:.4f}"
            self.bar.write(f"epoch {ev.epoch:.2f}: val loss {ev.val_loss:.4f} acc {ev.val_acc:.4f}")
        self.bar.set_postfix(shown)

    def close(self) -> None:
        self.bar.close()


def save(model: nn.Module, meta: dict[str, Any], out: Path | None) -> str:
    """Save to `out`, or as a new version in the model store; where it went, in words."""
    if out is not None:
        save_weights(model, out, meta)
        return str(out)
    version = ModelVersions().add(model, meta)
    return f"version {version.id} ({version.path})"


def parse(argv: list[str] | None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    """The parser and the arguments; a --recipe's settings become the defaults the other flags override."""
    p = parser()
    args = p.parse_args(argv)
    if args.recipe:
        recipe = RECIPES[args.recipe]
        if args.autocast is None:  # neither --bf16 nor --no-bf16 given: this machine's faster precision
            recipe = in_bf16_where_faster(recipe)
        p.set_defaults(**{k: v for k, v in asdict(recipe).items() if k in vars(args)})
        p.set_defaults(no_augment=not recipe.augment)
        args = p.parse_args(argv)
    return p, args


def main(argv: list[str] | None = None) -> None:
    p, args = parse(argv)
    distributed = start_distributed()
    rank = dist.get_rank() if distributed else 0
    cfg = TrainConfig(
        model=args.model, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
        label_smoothing=args.label_smoothing, augment=not args.no_augment, threads=args.threads,
        shear=args.shear, flag_ones=args.flag_ones, hollow_strokes=args.hollow_strokes, clean_epochs=args.clean_epochs,
        condensed=args.condensed, condensed_on=args.condensed_on, font_digits=args.font_digits,
        font_letters=args.font_letters, font_hold_out=args.font_hold_out, font_families=args.font_families,
        not_a_digit_weight=args.not_a_digit_weight, drawn_mnist=args.drawn_mnist, keep_readings=args.keep_readings,
        head_only=args.head_only, readings_only=args.readings_only, autocast=args.autocast,
    )
    if cfg.keep_readings and args.init is None:
        p.error("--keep-readings keeps the readings of the --init weights: give --init")
    if cfg.readings_only and not cfg.keep_readings:
        p.error("--readings-only teaches the readings --keep-readings keeps: give --keep-readings")
    if cfg.head_only and args.init is None:
        p.error("--head-only trains the last layer of the --init weights: give --init")
    initial_state, base_meta = None, None
    if args.init is not None:
        try:
            initial_state, base_meta = initial_weights(args.init, cfg.model)
        except WeightsError as e:
            p.error(f"--init: {e}")
    mnist = load_mnist(args.data)
    splits = split_validation(mnist.train_images, mnist.train_labels, args.val_size, seed=0)
    if cfg.drawn_mnist:  # before the fonts: only MNIST's own digits are drawn
        splits = with_drawn_mnist(splits, cfg)
    if cfg.font_digits or cfg.font_letters:
        try:
            splits = with_font_drawings(splits, cfg)
        except NoFontsError as e:
            p.error(f"--font-digits/--font-letters: {e}")
    checkpoint = checkpoint_path(args.out, cfg.model)
    if not args.resume:
        checkpoint.unlink(missing_ok=True)

    bar = ProgressBar(cfg.epochs * (len(splits.train_images) // cfg.batch_size), enabled=rank == 0)
    result = train(cfg, splits, on_event=bar, checkpoint=checkpoint, initial_state=initial_state)
    bar.close()
    if rank == 0:
        _, test_acc = loss_and_accuracy(result.model, mnist.test_images, mnist.test_labels)
        meta = run_metadata(cfg, result, test_acc, mnist, dist.get_world_size() if distributed else 1)
        if base_meta is not None:
            meta["started_from"] = {"weights": args.init.name} | base_meta
        where = save(result.model, meta, args.out)
        checkpoint.unlink(missing_ok=True)
        print(f"test accuracy: {100 * test_acc:.2f}%  (best val {100 * result.best_val_acc:.2f}%) -> {where}")
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
