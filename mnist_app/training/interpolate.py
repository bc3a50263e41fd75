"""Weights part of the way from one training of a network to a fine-tune of it (`mnist-interpolate`).

A fine-tune that teaches something new can cost a little of what its base did well. Taking every tensor a share of
the way from the base to the fine-tune keeps much of both (Wortsman et al. 2022, "Robust fine-tuning of zero-shot
models"). Several fine-tunes of one base (the same command, other seeds) are first averaged into one, a "soup"
(Wortsman et al. 2022, "Model soups"). The temperature is fitted again on the validation split; the test set is
only reported.

    python -m mnist_app.training.interpolate --data DIR base.safetensors tuned.safetensors --share 0.5 --out W
    python -m mnist_app.training.interpolate --data DIR base.safetensors a.safetensors b.safetensors --share 1 --out W
"""

import argparse
from pathlib import Path
from typing import Any

import torch

from mnist_app.storage.weights import WeightsError, load_weights, save_weights
from mnist_app.training.calibration import fit_temperature
from mnist_app.training.data import DATA_ENV, load_mnist, split_validation
from mnist_app.training.engine import provenance
from mnist_app.training.evaluate import logits_of, loss_and_accuracy_of
from mnist_app.training.models import model_name
from mnist_app.training.train import VAL_SIZE

State = dict[str, torch.Tensor]


def interpolated(base: State, tuned: State, share: float) -> State:
    """(1 - share) * base + share * tuned for every floating-point tensor, BatchNorm's running statistics included;
    counters (BatchNorm's num_batches_tracked) are the base's."""
    if base.keys() != tuned.keys():
        raise ValueError("the two state dicts hold different tensors: not one architecture")
    return {
        name: torch.lerp(base[name].float(), tuned[name].float(), share).to(base[name].dtype)
        if base[name].is_floating_point() else base[name]
        for name in base
    }


def soup(states: list[State]) -> State:
    """The mean of every floating-point tensor over several fine-tunes of one base; counters are the first's."""
    first = states[0]
    if any(state.keys() != first.keys() for state in states):
        raise ValueError("the state dicts hold different tensors: not one architecture")
    return {
        name: torch.stack([state[name].float() for state in states]).mean(0).to(first[name].dtype)
        if first[name].is_floating_point() else first[name]
        for name in first
    }


def share_of_the_way(text: str) -> float:
    share = float(text)
    if not 0.0 <= share <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 (the base) and 1 (the fine-tune)")
    return share


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("base", type=Path, help="the weights the fine-tune started from (.safetensors with its .json)")
    p.add_argument("tuned", type=Path, nargs="+", help="the fine-tune; several: their mean (a soup) is the fine-tune")
    p.add_argument("--share", type=share_of_the_way, default=0.5, help="how far from the base towards the fine-tune")
    p.add_argument("--data", metavar="DIR", help=f"folder of MNIST IDX files (else ${DATA_ENV}, else a download)")
    p.add_argument("--out", type=Path, required=True, metavar="PATH", help="write PATH (.safetensors) and its .json")
    return p


def metadata(base: Path, tuned_meta: dict[str, Any], tuned: list[Path], share: float) -> dict[str, Any]:
    """The (first) tuned model's chain of training steps stays readable (fine_tune.chain): what a corrections
    fine-tune of the result draws again is what the fine-tune's steps learnt; a soup's fine-tunes differ only by
    seed."""
    names = [path.name for path in tuned]
    return {
        "architecture": tuned_meta["architecture"],
        "interpolated": {"base": base.name, "tuned": names[0] if len(names) == 1 else names, "share": share},
        "started_from": {"weights": names[0]} | tuned_meta,
    }


def main(argv: list[str] | None = None) -> None:
    p = parser()
    args = p.parse_args(argv)
    try:
        model, base_meta = load_weights(args.base)  # in eval mode; its tensors become the interpolated ones
        tuned = [load_weights(path) for path in args.tuned]
    except WeightsError as e:
        p.error(str(e))
    for path, (_, meta) in zip(args.tuned, tuned, strict=True):
        if model_name(base_meta["architecture"]) != model_name(meta["architecture"]):  # a former name is the same net
            p.error(f"{args.base} is a {base_meta['architecture']!r} model, {path} a {meta['architecture']!r}")
    tuned_state = soup([tuned_model.state_dict() for tuned_model, _ in tuned])
    model.load_state_dict(interpolated(model.state_dict(), tuned_state, args.share))
    mnist = load_mnist(args.data)
    splits = split_validation(mnist.train_images, mnist.train_labels, VAL_SIZE, seed=0)
    val_logits = logits_of(model, splits.val_images)
    _, val_acc = loss_and_accuracy_of(val_logits, splits.val_labels)
    _, test_acc = loss_and_accuracy_of(logits_of(model, mnist.test_images), mnist.test_labels)
    meta = metadata(args.base, tuned[0][1], args.tuned, args.share) | {
        "val_accuracy": val_acc,
        "test_accuracy": test_acc,
        "temperature": round(fit_temperature(val_logits, splits.val_labels), 5),
    } | provenance(mnist, "cpu")
    save_weights(model, args.out, meta)
    print(f"test accuracy: {100 * test_acc:.2f}%  (val {100 * val_acc:.2f}%) -> {args.out}")


if __name__ == "__main__":
    main()
