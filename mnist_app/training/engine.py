"""The training engine, shared by the CLI, the benchmark and the app's admin tab.

    python -m mnist_app.training.engine --data DIR --model default --epochs 15 --out weights/default.safetensors
    python -m mnist_app.training.engine ... --init weights/default.safetensors --epochs 1 --lr 0.002 --no-augment
    torchrun --nproc_per_node 2 -m mnist_app.training.engine ...   # the same, data-parallel
"""

import argparse
import json
import math
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from mnist_app.storage.weights import atomic_write_bytes
from mnist_app.training.augment import augment_batch
from mnist_app.training.data import Mnist, Splits, fingerprint
from mnist_app.training.evaluate import as_batch, loss_and_accuracy
from mnist_app.training.models import build_model


@dataclass
class TrainConfig:
    model: str = "default"
    epochs: int = 15
    batch_size: int = 128  # global: split across DDP processes
    lr: float = 0.1  # peak of the one-cycle schedule
    warmup: float = 0.15  # share of all steps spent rising to the peak
    momentum: float = 0.9
    weight_decay: float = 5e-4
    label_smoothing: float = 0.0
    augment: bool = True
    seed: int = 0
    eval_every: int = 0  # steps between validation checks; 0 means at the end of each epoch
    event_every: int = 20  # steps between progress events
    threads: int = 0  # 0: all cores, shared among DDP processes


@dataclass
class TrainEvent:
    kind: str  # "step" (progress), "eval" (validation done) or "done"
    epoch: float  # fractional epochs completed
    step: int
    total_steps: int
    loss: float  # mean training loss since the previous event
    train_acc: float  # accuracy on (augmented) training batches since the previous event
    lr: float
    images_per_s: float
    eta_s: float
    train_s: float  # time spent training, evaluation excluded
    val_loss: float | None = None
    val_acc: float | None = None


@dataclass
class TrainResult:
    model: nn.Module  # the best checkpoint by validation accuracy, in eval mode
    best_val_acc: float
    best_epoch: float
    stopped: bool
    train_s: float
    history: list[TrainEvent] = field(default_factory=list)


def one_cycle_lr(step: int, total: int, peak: float, warmup: float) -> float:
    """Linear rise to the peak, then cosine decay to almost zero."""
    rise = max(1, int(total * warmup))
    if step < rise:
        return peak * (0.1 + 0.9 * step / rise)
    progress = (step - rise) / max(1, total - rise)
    return peak * (0.002 + 0.998 * 0.5 * (1 + math.cos(math.pi * progress)))


def pick_device() -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return torch.device("cpu")


def optimizer_params(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    """Every parameter the optimizer holds, across its groups (with and without weight decay)."""
    return [p for group in optimizer.param_groups for p in group["params"]]


def save_checkpoint(path: Path, model: nn.Module, best: dict, optimizer: torch.optim.Optimizer, state: dict) -> None:
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    tensors |= {f"best.{k}": v for k, v in best.items()}
    for i, p in enumerate(optimizer_params(optimizer)):
        if "momentum_buffer" in optimizer.state[p]:
            tensors[f"momentum.{i}"] = optimizer.state[p]["momentum_buffer"]
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    atomic_write_bytes(path, save_tensors(tensors, metadata={"state": json.dumps(state)}))


def load_checkpoint(path: Path, model: nn.Module, optimizer: torch.optim.Optimizer) -> tuple[dict, dict]:
    raw = path.read_bytes()
    tensors = load_tensors(raw)
    header_len = int.from_bytes(raw[:8], "little")
    state = json.loads(json.loads(raw[8 : 8 + header_len])["__metadata__"]["state"])
    device = next(model.parameters()).device
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    for i, p in enumerate(optimizer_params(optimizer)):
        if f"momentum.{i}" in tensors:
            optimizer.state[p]["momentum_buffer"] = tensors[f"momentum.{i}"].to(device)
    best = {k[5:]: v.to(device) for k, v in tensors.items() if k.startswith("best.")}
    return best, state


def same_run(saved: dict, wanted: dict) -> bool:
    """Whether a checkpoint can be resumed: everything but thread and reporting settings must match."""
    ignore = {"threads", "event_every"}
    return {k: v for k, v in saved.items() if k not in ignore} == {k: v for k, v in wanted.items() if k not in ignore}


def train(
    cfg: TrainConfig,
    data: Splits,
    on_event: Callable[[TrainEvent], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    checkpoint: Path | None = None,
    initial_state: dict[str, torch.Tensor] | None = None,
) -> TrainResult:
    """Train `cfg.model` on `data`; resumes from `checkpoint` when it exists and saves it each epoch.
    `initial_state` (a state dict of the same architecture) starts from trained weights: a fine-tune."""
    distributed = dist.is_available() and dist.is_initialized()
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    device = pick_device()
    torch.set_num_threads(cfg.threads or max(1, (os.cpu_count() or 1) // world))
    torch.manual_seed(cfg.seed)
    emit = on_event if (on_event and rank == 0) else (lambda event: None)

    model = build_model(cfg.model)
    if initial_state is not None:
        model.load_state_dict(initial_state)
    model = model.to(device, memory_format=torch.channels_last)
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    optimizer = torch.optim.SGD(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr, momentum=cfg.momentum, nesterov=True,
    )
    train_x, train_y = data.train_images.to(device), data.train_labels.to(device)
    per_rank_batch = max(1, cfg.batch_size // world)
    steps_per_epoch = len(train_x) // world // per_rank_batch
    total_steps = steps_per_epoch * cfg.epochs
    if steps_per_epoch == 0:
        raise ValueError(f"{len(train_x)} training images are fewer than one batch of {cfg.batch_size}")

    best, state = {}, {"epoch": 0, "best_val_acc": -1.0, "best_epoch": 0.0, "train_s": 0.0}
    if checkpoint is not None and Path(checkpoint).exists():
        best, state = load_checkpoint(Path(checkpoint), model, optimizer)
        if not same_run(state.get("config", {}), asdict(cfg)):
            raise ValueError(f"{checkpoint} was made with other settings; delete it or pass the same ones")
    net = DistributedDataParallel(model) if distributed else model
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")

    history: list[TrainEvent] = []
    step, stopped = state["epoch"] * steps_per_epoch, False
    train_s, run_start_step, run_start_s = state["train_s"], step, state["train_s"]
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device)
    seen, tick, last_step = 0, time.perf_counter(), step

    def event(kind: str, val: tuple[float, float] | None = None) -> TrainEvent:
        nonlocal loss_sum, correct, seen, last_step
        rate = (step - run_start_step) * per_rank_batch * world / max(train_s - run_start_s, 1e-9)
        ev = TrainEvent(
            kind, step / steps_per_epoch, step, total_steps,
            loss=(loss_sum / max(seen, 1)).item(), train_acc=(correct / max(seen, 1)).item(),
            lr=optimizer.param_groups[0]["lr"], images_per_s=rate,
            eta_s=(total_steps - step) * per_rank_batch * world / max(rate, 1e-9), train_s=train_s,
            val_loss=val[0] if val else None, val_acc=val[1] if val else None,
        )
        loss_sum.zero_(), correct.zero_()
        seen, last_step = 0, step
        return ev

    def validate() -> None:
        val = loss_and_accuracy(model, data.val_images, data.val_labels)
        ev = event("eval", val)
        history.append(ev)
        if val[1] > state["best_val_acc"]:
            state.update(best_val_acc=val[1], best_epoch=ev.epoch)
            best.clear()
            best.update({k: v.detach().clone() for k, v in model.state_dict().items()})
        emit(ev)

    for epoch in range(state["epoch"], cfg.epochs):
        gen = torch.Generator(device=device).manual_seed(cfg.seed * 100_003 + epoch)
        order = torch.randperm(len(train_x), generator=gen, device=device)[rank::world]
        net.train()
        for b in range(steps_per_epoch):
            if should_stop is not None and should_stop():
                stopped = True
                break
            idx = order[b * per_rank_batch : (b + 1) * per_rank_batch]
            x, y = as_batch(train_x[idx]), train_y[idx]
            if cfg.augment:
                x = augment_batch(x, gen)
            for group in optimizer.param_groups:
                group["lr"] = one_cycle_lr(step, total_steps, cfg.lr, cfg.warmup)
            with autocast:
                logits = net(x.contiguous(memory_format=torch.channels_last))
                loss = F.cross_entropy(logits.float(), y, label_smoothing=cfg.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach() * len(y)
            correct += (logits.argmax(1) == y).sum()
            seen, step = seen + len(y), step + 1
            now = time.perf_counter()
            train_s, tick = train_s + now - tick, now
            if cfg.eval_every and step % cfg.eval_every == 0:
                validate()
            elif step % cfg.event_every == 0:
                emit(event("step"))
            tick = time.perf_counter()
        if stopped:
            break
        if not cfg.eval_every or step % cfg.eval_every:
            validate()
        tick = time.perf_counter()
        state.update(epoch=epoch + 1, train_s=train_s, config=asdict(cfg))
        if checkpoint is not None and rank == 0:
            save_checkpoint(Path(checkpoint), model, best, optimizer, state)
    if not best:  # stopped before the first validation: the current weights are all there is
        validate()
    model.load_state_dict(best)
    emit(event("done"))
    return TrainResult(model.eval(), state["best_val_acc"], state["best_epoch"], stopped, train_s, history)


def run_metadata(cfg: TrainConfig, result: TrainResult, test_acc: float, mnist: Mnist, world_size: int = 1) -> dict:
    """What a saved model records about how it was made (the weight store's JSON sidecar)."""
    return {
        "architecture": cfg.model,
        "val_accuracy": result.best_val_acc,
        "test_accuracy": test_acc,
        "best_epoch": result.best_epoch,
        "stopped": result.stopped,
        "training": asdict(cfg) | {"world_size": world_size},
        "train_seconds": round(result.train_s, 1),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {pick_device().type}",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data_hash": fingerprint(mnist.train_images, mnist.train_labels),
    }


def main(argv: list[str] | None = None) -> None:
    from tqdm import tqdm

    from mnist_app.storage.weights import WeightsError, load_weights, save_weights
    from mnist_app.training.data import load_mnist, split_validation

    defaults = TrainConfig()
    p = argparse.ArgumentParser(description="Train a model on MNIST and save it as safetensors + JSON.")
    p.add_argument("--data", default=None, help="folder of MNIST IDX files (or set MNIST_DATA_DIR)")
    p.add_argument("--model", default=defaults.model)
    p.add_argument("--epochs", type=int, default=defaults.epochs)
    p.add_argument("--batch-size", type=int, default=defaults.batch_size)
    p.add_argument("--lr", type=float, default=defaults.lr)
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.add_argument("--label-smoothing", type=float, default=defaults.label_smoothing)
    p.add_argument("--no-augment", action="store_true")
    p.add_argument("--val-size", type=int, default=5000)
    p.add_argument("--threads", type=int, default=defaults.threads)
    p.add_argument("--out", type=Path, required=True, help="where to write NAME.safetensors (+ NAME.json)")
    p.add_argument("--resume", action="store_true", help="continue from OUT's checkpoint if there is one")
    p.add_argument("--init", type=Path, help="start from these weights (a fine-tune); --model must match")
    args = p.parse_args(argv)

    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    rank = dist.get_rank() if distributed else 0
    cfg = TrainConfig(
        model=args.model, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
        label_smoothing=args.label_smoothing, augment=not args.no_augment, threads=args.threads,
    )
    initial_state, base_meta = None, None
    if args.init is not None:
        try:
            base, base_meta = load_weights(args.init)
        except WeightsError as e:
            p.error(f"--init: {e}")
        if base_meta["architecture"] != cfg.model:
            p.error(f"--init {args.init} holds a {base_meta['architecture']!r} model, not --model {cfg.model!r}")
        initial_state = base.state_dict()
    mnist = load_mnist(args.data)
    splits = split_validation(mnist.train_images, mnist.train_labels, args.val_size, seed=0)
    checkpoint = args.out.with_suffix(".ckpt.safetensors")
    if not args.resume:
        checkpoint.unlink(missing_ok=True)

    bar = tqdm(total=cfg.epochs * (len(splits.train_images) // cfg.batch_size), disable=rank != 0, unit="step")

    def show(ev: TrainEvent) -> None:
        bar.update(ev.step - bar.n)
        shown = {"loss": f"{ev.loss:.3f}", "acc": f"{ev.train_acc:.4f}", "img/s": f"{ev.images_per_s:.0f}"}
        if ev.val_acc is not None:
            shown["val"] = f"{ev.val_acc:.4f}"
            bar.write(f"epoch {ev.epoch:.2f}: val loss {ev.val_loss:.4f} acc {ev.val_acc:.4f}")
        bar.set_postfix(shown)

    result = train(cfg, splits, on_event=show, checkpoint=checkpoint, initial_state=initial_state)
    bar.close()
    if rank == 0:
        _, test_acc = loss_and_accuracy(result.model, mnist.test_images, mnist.test_labels)
        world_size = dist.get_world_size() if distributed else 1
        meta = run_metadata(cfg, result, test_acc, mnist, world_size)
        if base_meta is not None:
            meta["started_from"] = {"weights": args.init.name} | base_meta
        save_weights(result.model, args.out, meta)
        checkpoint.unlink(missing_ok=True)
        print(f"test accuracy: {100 * test_acc:.2f}%  (best val {100 * result.best_val_acc:.2f}%) -> {args.out}")
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
