"""The training engine, shared by the CLI (`mnist_app.training.train`), the benchmark and the app's admin tab.

`train` is one flat loop over epochs; the pieces it is made of (the optimizer, a training step, one epoch,
the running statistics, validation, checkpoints) are plain functions above it.
"""

import json
import math
import os
import platform
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

import torch
import torch.distributed as dist
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import save as save_tensors
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from mnist_app.storage.atomic import atomic_write_bytes
from mnist_app.training.augment import AugmentConfig, add_flags, augment_batch, condensed, hollow_strokes
from mnist_app.training.calibration import fit_temperature
from mnist_app.training.data import NOT_A_DIGIT_LABEL, Mnist, Splits, fingerprint
from mnist_app.training.evaluate import as_batch, logits_of, loss_and_accuracy_of
from mnist_app.training.machine import cpu_model
from mnist_app.training.models import build_model, model_name

READINGS_REPORTED = 10  # each validation reports the readings of its first digits (a lesson shows them)
KEEP_READINGS_TEMPERATURE = 2.0  # softens both nets' readings, so the runners-up are kept too (Hinton et al. 2015)
# Where a run trains, not what it learns: a checkpoint resumes and a fine-tune starts with the machine's own.
MACHINE_SETTINGS = ("threads", "device", "autocast")


@dataclass
class TrainConfig:
    model: str = "compact"
    epochs: int = 15
    batch_size: int = 128  # global: split across DDP processes
    lr: float = 0.1  # peak of the one-cycle schedule
    warmup: float = 0.15  # share of all steps spent rising to the peak
    momentum: float = 0.9
    weight_decay: float = 5e-4
    label_smoothing: float = 0.0
    augment: bool = True
    clean_epochs: int = 0  # the last epochs see the training images unwarped, as MNIST's test digits are
    shear: float = AugmentConfig.shear  # the warps' largest shear: slanted handwriting
    flag_ones: float = 0.0  # share of the warped 1s given a flag (augment.add_flags)
    hollow_strokes: float = 0.0  # share of the warped digits drawn as sketchy outlines (augment.hollow_strokes)
    condensed: float = 0.0  # share of the digits other than 1 squeezed narrow (augment.condensed)
    condensed_on: str = "all"  # which digits may be squeezed: "all", or "drawn" (the drawn ones, never MNIST's own)
    font_digits: int = 0  # drawings of each digit per development-split font mixed into training (font_digits.py)
    font_letters: int = 0  # drawings of each letter per development-split font, trained on as not digits
    font_hold_out: tuple[str, ...] = ()  # development hands never drawn: unseen hands to measure on
    font_families: tuple[str, ...] = ("debian",)  # the families of hands (synthesis/hands.py) those fonts come from
    drawn_mnist: int = 0  # MNIST training digits drawn as canvases, photos and chalk, mixed in (drawn_mnist.py)
    not_a_digit_weight: float = 0.5  # of the loss towards even odds on what is not a digit, beside the digits' loss
    keep_readings: float = 0.0  # a fine-tune: weight of the pull towards the starting net's readings of MNIST digits
    head_only: bool = False  # a fine-tune: only the last layer learns; the features and batch norm's statistics stay
    readings_only: bool = False  # with keep_readings: the kept digits are taught the starting readings, not labels
    seed: int = 0
    eval_every: int = 0  # steps between validation checks; 0 means at the end of each epoch
    event_every: int = 20  # steps between progress events
    threads: int = 0  # 0: all cores, shared among DDP processes
    # The lesson: the curve watches a fixed 1,000-digit MNIST test subset, so nothing may be chosen on it and the
    # last weights are kept (a fixed schedule) instead of the best checkpoint.
    watch_test: bool = False
    device: str = "auto"  # "auto": the GPU when there is one; or "cpu", "cuda", "cuda:1"
    autocast: bool | None = None  # bf16 autocast; None: on CUDA only

    def __post_init__(self) -> None:
        self.model = model_name(self.model)  # a former name ("default") trains the net it now names


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
    images_seen: int = 0  # training images through the net so far, all processes together
    val_loss: float | None = None
    val_acc: float | None = None
    val_readings: list[int] | None = None  # the readings of the first READINGS_REPORTED validation digits


@dataclass
class TrainResult:
    model: nn.Module  # the best checkpoint by validation accuracy, in eval mode
    best_val_acc: float
    best_epoch: float
    stopped: bool
    train_s: float
    history: list[TrainEvent] = field(default_factory=list)
    temperature: float = 1.0  # divides the logits so that the probabilities are honest on the validation split


def one_cycle_lr(step: int, total: int, peak: float, warmup: float) -> float:
    """Linear rise to the peak, then cosine decay to almost zero."""
    rise = max(1, int(total * warmup))
    if step < rise:
        return peak * (0.1 + 0.9 * step / rise)
    progress = (step - rise) / max(1, total - rise)
    return peak * (0.002 + 0.998 * 0.5 * (1 + math.cos(math.pi * progress)))


def pick_device(name: str = "auto") -> torch.device:
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return torch.device("cpu")


class Remembered(NamedTuple):
    """The starting net of a fine-tune that keeps its readings, and which of the batch's images they are kept of."""

    net: nn.Module
    kept: torch.Tensor  # bool, one per image of the batch: see kept_readings


class Shard(NamedTuple):
    """This process's part of the run: under DDP each of `world` processes takes every world-th image."""

    rank: int
    world: int
    batch: int  # images per step in this process


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.SGD:
    """Nesterov SGD over the parameters that learn; weight decay on weights only, not on biases and batch-norm
    scales."""
    learning = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in learning if p.ndim > 1]
    no_decay = [p for p in learning if p.ndim <= 1]
    return torch.optim.SGD(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr, momentum=cfg.momentum, nesterov=True,
    )


def freeze_features(model: nn.Module) -> None:
    """A head-only fine-tune: every parameter but the last layer's, the net's linear head, stops learning."""
    head = list(model.children())[-1]
    if not isinstance(head, nn.Linear):
        raise ValueError(f"{type(model).__name__} does not end in a linear head to train alone")
    model.requires_grad_(False)
    head.requires_grad_(True)


def train_mode(net: nn.Module, cfg: TrainConfig) -> None:
    """Dropout and batch norm as in training; in a head-only fine-tune batch norm keeps the statistics it has, so the
    frozen features are the ones the net is served with."""
    net.train()
    if cfg.head_only:
        for module in net.modules():
            if isinstance(module, nn.BatchNorm2d):  # the nets' only normalisation
                module.eval()


def optimizer_params(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    """Every parameter the optimizer holds, across its groups (with and without weight decay)."""
    return [p for group in optimizer.param_groups for p in group["params"]]


def loss_of(
    logits: torch.Tensor, y: torch.Tensor, cfg: TrainConfig, labelled: torch.Tensor | None = None
) -> torch.Tensor:
    """Cross-entropy on the digits; an image labelled NOT_A_DIGIT_LABEL is pulled towards even odds over the ten
    digits (its cross-entropy with the uniform distribution, weighted): outlier exposure, Hendrycks et al. 2019.
    `labelled` (bool, one per image): only these images' labels count; the others add nothing."""
    digit = y != NOT_A_DIGIT_LABEL
    on_digits = F.cross_entropy(logits, y.clamp(min=0), reduction="none", label_smoothing=cfg.label_smoothing)
    towards_even_odds = -F.log_softmax(logits, dim=1).mean(dim=1)
    per_image = torch.where(digit, on_digits, cfg.not_a_digit_weight * towards_even_odds)
    if labelled is not None:
        per_image = per_image * labelled
    return per_image.mean()


def forgetting_of(logits: torch.Tensor, start_logits: torch.Tensor) -> torch.Tensor:
    """How far the net's readings have drifted from the starting net's: their KL divergence at a raised temperature
    (learning without forgetting, Li & Hoiem 2016), scaled by its square as in distillation."""
    t = KEEP_READINGS_TEMPERATURE
    drift = F.kl_div(F.log_softmax(logits / t, dim=1), F.softmax(start_logits / t, dim=1), reduction="batchmean")
    return drift * t * t


def train_step(
    net: nn.Module,
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    lr: float,
    cfg: TrainConfig,
    remembered: Remembered | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One SGD step at learning rate `lr`; returns the loss and the logits. With `remembered`, the readings of the
    batch's kept images (MNIST's own digits) are also pulled towards the starting net's; with `cfg.readings_only`
    that pull is all they are taught (their labels add nothing)."""
    for group in optimizer.param_groups:
        group["lr"] = lr
    autocast = x.device.type == "cuda" if cfg.autocast is None else cfg.autocast
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=autocast):
        logits = net(x.contiguous(memory_format=torch.channels_last))
        labelled = ~remembered.kept if remembered is not None and cfg.readings_only else None
        loss = loss_of(logits.float(), y, cfg, labelled)
        if remembered is not None and remembered.kept.any():
            kept = remembered.kept
            with torch.no_grad():
                start_logits = remembered.net(x[kept].contiguous(memory_format=torch.channels_last)).float()
            loss = loss + cfg.keep_readings * forgetting_of(logits[kept].float(), start_logits) * kept.float().mean()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach(), logits


@dataclass
class Progress:
    """Where the run is, and the training loss and accuracy summed since the last event."""

    step: int
    steps_per_epoch: int
    total_steps: int
    images_per_step: int  # all processes together
    train_s: float  # training time so far, evaluation excluded
    lr: float
    loss_sum: torch.Tensor  # kept on the device: reading it each step would stall the GPU
    correct: torch.Tensor
    digits: torch.Tensor  # the images that were digits: accuracy counts only those
    seen: int = 0
    start_step: int = field(init=False)  # speed counts this process's own steps, not a resumed run's earlier ones
    start_s: float = field(init=False)

    def __post_init__(self) -> None:
        self.start_step, self.start_s = self.step, self.train_s

    def record(self, loss: torch.Tensor, logits: torch.Tensor, y: torch.Tensor, lr: float, seconds: float) -> None:
        self.loss_sum += loss * len(y)
        self.correct += (logits.argmax(1) == y).sum()
        self.digits += (y != NOT_A_DIGIT_LABEL).sum()
        self.seen, self.step = self.seen + len(y), self.step + 1
        self.train_s, self.lr = self.train_s + seconds, lr

    def event(self, kind: str, val: tuple[float, float] | None = None, readings: list[int] | None = None) -> TrainEvent:
        """Report the statistics since the last event, and start summing afresh."""
        rate = (self.step - self.start_step) * self.images_per_step / max(self.train_s - self.start_s, 1e-9)
        ev = TrainEvent(
            kind, self.step / self.steps_per_epoch, self.step, self.total_steps,
            loss=(self.loss_sum / max(self.seen, 1)).item(), train_acc=(self.correct / self.digits.clamp(min=1)).item(),
            lr=self.lr, images_per_s=rate,
            eta_s=(self.total_steps - self.step) * self.images_per_step / max(rate, 1e-9), train_s=self.train_s,
            images_seen=self.step * self.images_per_step,
            val_loss=val[0] if val else None, val_acc=val[1] if val else None, val_readings=readings,
        )
        self.loss_sum.zero_(), self.correct.zero_(), self.digits.zero_()
        self.seen = 0
        return ev


def kept_readings(idx: torch.Tensor, labels: torch.Tensor, own_count: int, flags_drawn: bool) -> torch.Tensor:
    """Which images of the batch the fine-tune keeps the starting net's readings of: MNIST's own digits, but not
    their 1s when flags are drawn on them (a flagged 1 is what the starting net never learnt to read as a 1)."""
    own = idx < own_count
    return own & (labels != 1) if flags_drawn else own


def train_epoch(
    net: nn.Module,
    optimizer: torch.optim.Optimizer,
    data: Splits,
    epoch: int,
    cfg: TrainConfig,
    shard: Shard,
    progress: Progress,
    should_stop: Callable[[], bool],
    start_net: nn.Module | None = None,
) -> Iterator[None]:
    """Train one epoch, yielding after each step (off the clock, for events); it ends early when should_stop().
    The order and the augmentation depend only on the seed and the epoch, so a resumed run repeats them.
    `start_net`: the net whose readings of MNIST's own digits the fine-tune keeps (`cfg.keep_readings`)."""
    gen = torch.Generator(device=data.train_images.device).manual_seed(cfg.seed * 100_003 + epoch)
    order = torch.randperm(len(data.train_images), generator=gen, device=gen.device)[shard.rank :: shard.world]
    augment = cfg.augment and epoch < cfg.epochs - cfg.clean_epochs
    flags_drawn = augment and cfg.flag_ones > 0
    train_mode(net, cfg)
    for b in range(progress.steps_per_epoch):
        if should_stop():
            return
        start = time.perf_counter()
        idx = order[b * shard.batch : (b + 1) * shard.batch]
        x, y = as_batch(data.train_images[idx]), data.train_labels[idx]
        if augment:
            if flags_drawn:
                x = add_flags(x, y, cfg.flag_ones, gen)
            if cfg.condensed > 0:
                among = idx >= data.own_count if cfg.condensed_on == "drawn" else None
                x = condensed(x, y, cfg.condensed, gen, among=among)
            if cfg.hollow_strokes > 0:
                x = hollow_strokes(x, cfg.hollow_strokes, gen)
            x = augment_batch(x, gen, AugmentConfig(shear=cfg.shear))
        lr = one_cycle_lr(progress.step, progress.total_steps, cfg.lr, cfg.warmup)
        remembered = None
        if start_net is not None:
            remembered = Remembered(start_net, kept_readings(idx, y, data.own_count, flags_drawn))
        loss, logits = train_step(net, optimizer, x, y, lr, cfg, remembered)
        progress.record(loss, logits, y, lr, time.perf_counter() - start)
        yield


def validate(
    model: nn.Module, data: Splits, progress: Progress, state: dict, best: dict, keep_last: bool = False
) -> TrainEvent:
    """Measure on the validation split; the weights become `best` when they beat every earlier check
    (or always, with `keep_last`: a run that watches test digits must choose nothing on them)."""
    logits = logits_of(model, data.val_images)
    val = loss_and_accuracy_of(logits, data.val_labels)
    ev = progress.event("eval", val, logits[:READINGS_REPORTED].argmax(1).tolist())
    if val[1] > state["best_val_acc"] or keep_last:
        state.update(best_val_acc=val[1], best_epoch=ev.epoch)
        best.clear()
        best.update({k: v.detach().clone() for k, v in model.state_dict().items()})
    return ev


def save_checkpoint(path: Path, model: nn.Module, best: dict, optimizer: torch.optim.Optimizer, state: dict) -> None:
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    tensors |= {f"best.{k}": v for k, v in best.items()}
    for i, p in enumerate(optimizer_params(optimizer)):
        if "momentum_buffer" in optimizer.state[p]:
            tensors[f"momentum.{i}"] = optimizer.state[p]["momentum_buffer"]
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    atomic_write_bytes(path, save_tensors(tensors, metadata={"state": json.dumps(state)}))


def load_checkpoint(path: Path, model: nn.Module, optimizer: torch.optim.Optimizer) -> tuple[dict, dict]:
    with safe_open(path, "pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}
        state = json.loads(f.metadata()["state"])
    device = next(model.parameters()).device
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    for i, p in enumerate(optimizer_params(optimizer)):
        if f"momentum.{i}" in tensors:
            optimizer.state[p]["momentum_buffer"] = tensors[f"momentum.{i}"].to(device)
    best = {k[5:]: v.to(device) for k, v in tensors.items() if k.startswith("best.")}
    return best, state


def same_run(saved: dict, wanted: dict) -> bool:
    """Whether a checkpoint can be resumed: everything but the machine's and the reporting's settings must match,
    so a run may resume elsewhere (the recipes choose bf16 by the CPU)."""
    ignore = {*MACHINE_SETTINGS, "event_every"}
    saved = {**saved, "model": model_name(saved.get("model"))}  # checkpoints of the net's former name resume too
    return {k: v for k, v in saved.items() if k not in ignore} == {k: v for k, v in wanted.items() if k not in ignore}


def resume(
    checkpoint: Path | None, model: nn.Module, optimizer: torch.optim.Optimizer, cfg: TrainConfig
) -> tuple[dict, dict]:
    """The best weights so far and the run's state: from `checkpoint` when it exists, else a fresh start."""
    if checkpoint is None or not Path(checkpoint).exists():
        return {}, {"epoch": 0, "best_val_acc": -1.0, "best_epoch": 0.0, "train_s": 0.0}
    best, state = load_checkpoint(Path(checkpoint), model, optimizer)
    if not same_run(state.get("config", {}), json.loads(json.dumps(asdict(cfg)))):  # as the checkpoint stored it
        raise ValueError(f"{checkpoint} was made with other settings; delete it or pass the same ones")
    return best, state


def starting_net(
    cfg: TrainConfig, initial_state: dict[str, torch.Tensor] | None, device: torch.device
) -> nn.Module | None:
    """A frozen copy of the fine-tune's starting net, when `cfg.keep_readings` asks to keep its readings."""
    if not cfg.keep_readings:
        return None
    if initial_state is None:
        raise ValueError("keeping the starting net's readings needs a starting net: a fine-tune")
    net = build_model(cfg.model)
    net.load_state_dict(initial_state)
    return net.to(device, memory_format=torch.channels_last).eval().requires_grad_(False)


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
    device = pick_device(cfg.device)
    torch.set_num_threads(cfg.threads or max(1, (os.cpu_count() or 1) // world))
    torch.manual_seed(cfg.seed)  # before building: it decides the initial weights
    emit = on_event if (on_event and rank == 0) else (lambda event: None)
    should_stop = should_stop or (lambda: False)

    if cfg.head_only and initial_state is None:
        raise ValueError("training the last layer only needs trained weights to start from: a fine-tune")
    if cfg.readings_only and not cfg.keep_readings:
        raise ValueError("teaching MNIST's digits by readings only needs readings to keep: set keep_readings")
    model = build_model(cfg.model)
    if initial_state is not None:
        model.load_state_dict(initial_state)
    if cfg.head_only:
        freeze_features(model)
    model = model.to(device, memory_format=torch.channels_last)
    optimizer = make_optimizer(model, cfg)
    start_net = starting_net(cfg, initial_state, device)
    data = replace(data, train_images=data.train_images.to(device), train_labels=data.train_labels.to(device))
    shard = Shard(rank, world, batch=max(1, cfg.batch_size // world))
    steps_per_epoch = len(data.train_images) // world // shard.batch
    if steps_per_epoch == 0:
        raise ValueError(f"{len(data.train_images)} training images are fewer than one batch of {cfg.batch_size}")
    best, state = resume(checkpoint, model, optimizer, cfg)
    net = DistributedDataParallel(model) if distributed else model
    zero = torch.zeros((), device=device)
    progress = Progress(
        state["epoch"] * steps_per_epoch, steps_per_epoch, steps_per_epoch * cfg.epochs, shard.batch * world,
        train_s=state["train_s"], lr=cfg.lr, loss_sum=zero.clone(), correct=zero.clone(), digits=zero.clone(),
    )

    history: list[TrainEvent] = []  # the validations
    stopped = False
    if cfg.watch_test and progress.step == 0:  # a lesson's curve starts where the class sees it start: at chance
        history.append(validate(model, data, progress, state, best, keep_last=True))
        emit(history[-1])
    for epoch in range(state["epoch"], cfg.epochs):
        for _ in train_epoch(net, optimizer, data, epoch, cfg, shard, progress, should_stop, start_net):
            if cfg.eval_every and progress.step % cfg.eval_every == 0:
                history.append(validate(model, data, progress, state, best, cfg.watch_test))
                emit(history[-1])
            elif progress.step % cfg.event_every == 0:
                emit(progress.event("step"))
        stopped = progress.step < (epoch + 1) * steps_per_epoch  # the epoch ended early: should_stop()
        if stopped:
            break
        if not cfg.eval_every or progress.step % cfg.eval_every:
            history.append(validate(model, data, progress, state, best, cfg.watch_test))
            emit(history[-1])
        state.update(epoch=epoch + 1, train_s=progress.train_s, config=asdict(cfg))
        if checkpoint is not None and rank == 0:
            save_checkpoint(Path(checkpoint), model, best, optimizer, state)
    if not best:  # stopped before the first validation: the current weights are all there is
        history.append(validate(model, data, progress, state, best, cfg.watch_test))
        emit(history[-1])
    model.load_state_dict(best)
    temperature = fit_temperature(logits_of(model, data.val_images), data.val_labels)
    emit(progress.event("done"))
    return TrainResult(
        model.eval(), state["best_val_acc"], state["best_epoch"], stopped, progress.train_s, history, temperature
    )


def run_metadata(cfg: TrainConfig, result: TrainResult, test_acc: float, mnist: Mnist, world_size: int = 1) -> dict:
    """What a saved model records about how it was made (the weight store's JSON sidecar)."""
    return {
        "architecture": cfg.model,
        "val_accuracy": result.best_val_acc,
        "test_accuracy": test_acc,
        "temperature": round(result.temperature, 5),
        "best_epoch": result.best_epoch,
        "stopped": result.stopped,
        "training": asdict(cfg) | {"world_size": world_size},
        "train_seconds": round(result.train_s, 1),
    } | provenance(mnist, cfg.device)


def provenance(mnist: Mnist, device: str = "auto") -> dict:
    """Where and when a saved model was made, and from which training data (part of its JSON sidecar)."""
    return {
        "machine": f"{platform.machine()} {os.cpu_count()} cores ({cpu_model() or 'CPU not known'}), "
                   f"{pick_device(device).type}",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data_hash": fingerprint(mnist.train_images, mnist.train_labels),
    }
