"""Training in its own process, one run at a time for the whole server.

The child runs at low priority on one thread (unless the config asks for more) so that the
students' predictions in the server process stay fast. It sends each TrainEvent, then its
result, through a pipe; a watcher thread here collects them, and the pipe closing without a
result means the child died (kill -9, out of memory). The child only ever adds a version:
deploying stays the admin's decision, so a failed run can never touch the served model.

A warm job keeps the next child started, with torch imported and MNIST loaded, waiting for its
run: a lesson's ten seconds from click to finished cannot spend three of them starting up.
"""

import ctypes
import math
import multiprocessing
import os
import threading
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch

from mnist_app.storage.versions import ModelVersions, VersionInfo
from mnist_app.storage.weights import load_weights
from mnist_app.training.calibration import ConfidenceBin, confidence_bins
from mnist_app.training.data import (
    FILES,
    Mnist,
    MnistDataError,
    find_idx_file,
    load_mnist,
    resolve_data_dir,
    split_validation,
    watched_test_splits,
)
from mnist_app.training.engine import READINGS_REPORTED, TrainConfig, run_metadata, train
from mnist_app.training.evaluate import confusion_matrix, logits_of
from mnist_app.training.fine_tune import (
    FineTune,
    fine_tune_report,
    fine_tune_summary,
    with_corrections,
    with_fonts,
)
from mnist_app.training.lesson import warm_up
from mnist_app.training.models import MODELS

MISTAKES_SHOWN = 32


@dataclass
class RunResult:
    version: VersionInfo
    test_accuracy: float
    confusion: list[list[int]]  # rows: true digit, columns: predicted
    calibration: list[ConfidenceBin]  # the test readings by top probability: the reliability diagram
    mistakes: list[tuple[np.ndarray, int, int]]  # (28 x 28 uint8 image, true, predicted), most confident first
    fine_tune: dict[str, Any] | None = None  # a fine-tune's before and after (see fine_tune.fine_tune_report)
    stopped: bool = False  # stopped before its planned epochs

    def fine_tune_summary(self) -> str | None:
        """A fine-tune's before and after in words; None for a plain training."""
        if self.fine_tune is None:
            return None
        return fine_tune_summary(
            self.version.id, {**self.fine_tune, "test_accuracy": self.test_accuracy}, stopped=self.stopped,
        )


@dataclass
class JobStatus:
    state: str  # "idle", "running", "finished", "stopped" or "failed"
    events: list[dict[str, Any]] = field(default_factory=list)  # TrainEvents as dicts, for the curves
    message: str = ""
    result: RunResult | None = None
    watch_test: bool = False  # a lesson: the second curve is a test subset, not a validation split
    watched: tuple[np.ndarray, list[int]] | None = None  # a lesson's first watched digits (images, labels)


def checked_config(cfg: TrainConfig) -> TrainConfig:
    """The config with whole numbers where they belong; a clear ValueError for anything out of range."""
    if cfg.model not in MODELS:
        raise ValueError(f"Unknown architecture {cfg.model!r}: choose one of {', '.join(MODELS)}")
    for name, low, high in (("epochs", 1, 1000), ("batch_size", 1, 60_000)):
        value = getattr(cfg, name)
        whole = isinstance(value, (int, float)) and math.isfinite(value) and value == int(value)
        if not whole or not low <= value <= high:
            raise ValueError(f"{name.replace('_', ' ')} must be a whole number from {low} to {high}, not {value!r}")
    if not isinstance(cfg.lr, (int, float)) or not math.isfinite(cfg.lr) or not 0 < cfg.lr <= 10:
        raise ValueError(f"learning rate must be a number above 0 and at most 10, not {cfg.lr!r}")
    return replace(cfg, epochs=int(cfg.epochs), batch_size=int(cfg.batch_size), lr=float(cfg.lr))


def local_data_dir(data_dir: str | Path | None) -> Path | None:
    """The MNIST folder to train from, or None when nothing is set up and the child should download it.
    A folder that was named (argument or MNIST_DATA_DIR) must hold the files: say so before spawning."""
    try:
        folder = resolve_data_dir(data_dir, allow_download=False)
    except MnistDataError:
        return None
    missing = [stem for stem in FILES.values() if find_idx_file(folder, stem) is None]
    if missing:
        raise MnistDataError(
            f"MNIST data not found in {folder}: it lacks {', '.join(missing)}. Put the four IDX files there "
            "(gzipped or not, as from yann.lecun.com or torchvision), or set MNIST_DATA_DIR to a folder that has them."
        )
    return folder


def duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def watched_name(watch_test: bool) -> str:
    """What the second curve measures, in words."""
    return "test accuracy (1,000 digits)" if watch_test else "validation accuracy"


def progress_message(event: dict[str, Any], epochs: int, stopping: bool = False, watch_test: bool = False) -> str:
    if event["kind"] == "done":
        done = "Stopped" if stopping else "Training done"
        return f"{done}: measuring accuracy on the test set and saving the model..."
    text = f"epoch {event['epoch']:.1f}/{epochs}, {event['images_per_s']:,.0f} img/s, ETA {duration(event['eta_s'])}"
    if event["val_acc"] is not None:
        text += f", {watched_name(watch_test)} {100 * event['val_acc']:.2f}%"
    return text


def test_report(
    model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, temperature: float
) -> dict[str, Any]:
    """Accuracy, confusion matrix, how honest the probabilities are, and the test digits the model got most
    confidently wrong."""
    probabilities = (logits_of(model, images) / temperature).softmax(1)
    confidence, predicted = probabilities.max(1)
    wrong = (predicted != labels).nonzero().flatten()
    worst = wrong[confidence[wrong].argsort(descending=True)][:MISTAKES_SHOWN]
    return {
        "test_accuracy": (predicted == labels).float().mean().item(),
        "confusion": confusion_matrix(predicted.numpy(), labels.numpy()).tolist(),
        "calibration": confidence_bins(probabilities.numpy(), labels.numpy()),
        "mistakes": [(images[i].numpy().copy(), int(labels[i]), int(predicted[i])) for i in worst.tolist()],
    }


def run_training(
    cfg: TrainConfig,
    data_dir: Path | None,
    versions_root: Path,
    send: Callable[[tuple[str, Any]], None],
    should_stop: Callable[[], bool],
    fine_tune: FineTune | None = None,
    mnist: Mnist | None = None,
) -> dict[str, Any] | None:
    """The child's work: train (or fine-tune), test, save a version. None when stopped before the first step.
    `mnist`: the data, when the child loaded it while it waited; else it is loaded from `data_dir` now."""
    mnist = mnist or load_mnist(data_dir)
    if cfg.watch_test:
        splits = watched_test_splits(mnist)
        shown = slice(READINGS_REPORTED)  # the Admin tab shows them as the network reads them
        send(("watched", (splits.val_images[shown].numpy(), splits.val_labels[shown].tolist())))
    else:
        splits = split_validation(mnist.train_images, mnist.train_labels, min(5000, len(mnist.train_images) // 10))
    cfg = replace(cfg, threads=cfg.threads or 1)
    base, repeat, font_images = None, 0, None
    if fine_tune is not None:
        base, _ = load_weights(fine_tune.base_path)
        splits, repeat = with_corrections(splits, fine_tune)
        splits, font_images = with_fonts(splits, cfg)
    result = train(
        cfg, splits, on_event=lambda ev: send(("event", asdict(ev))), should_stop=should_stop,
        initial_state=None if base is None else base.state_dict(),
    )
    if result.history[-1].step == 0:
        return None
    report = test_report(result.model, mnist.test_images, mnist.test_labels, result.temperature)
    meta = run_metadata(cfg, result, report["test_accuracy"], mnist)
    if fine_tune is not None:
        report["fine_tune"] = fine_tune_report(base, result.model, mnist, fine_tune, repeat, font_images)
        meta |= report["fine_tune"]
    try:
        version = ModelVersions(versions_root).add(result.model, meta)
    except OSError as e:
        raise OSError(f"Could not save the model ({e}). The served model is unchanged.") from e
    return {**report, "version": version, "stopped": result.stopped}


@dataclass
class Order:
    """The run a waiting child is given."""

    cfg: TrainConfig
    data_dir: Path | None
    versions_root: Path
    fine_tune: FineTune | None = None


def preload(data_dir: Path | None) -> Mnist | None:
    """MNIST, loaded while the child waits for its run; None when it is not on this machine (the run downloads it)."""
    try:
        return None if data_dir is None else load_mnist(data_dir, allow_download=False)
    except MnistDataError:
        return None  # the run loads it again and reports why it cannot


def train_in_child(orders: Connection, pipe: Connection, stop_flag: ctypes.c_byte, data_dir: Path | None) -> None:
    """Import torch and load MNIST from `data_dir`, wait for an Order, run it, send the outcome through `pipe`."""
    if hasattr(os, "nice"):
        os.nice(10)
    server = os.getppid()
    mnist = preload(data_dir)
    if not orders.poll():  # waiting (a warm job): spend the wait on what the run would otherwise start with
        warm_up()
    pipe.send(("ready", None))
    try:
        order = orders.recv()
    except (EOFError, OSError):  # the server ended, or dropped this waiting child
        return

    def should_stop() -> bool:
        return bool(stop_flag.value) or os.getppid() != server  # also stop when the server died under us

    loaded = mnist if order.data_dir == data_dir else None
    try:
        outcome = ("result", run_training(
            order.cfg, order.data_dir, order.versions_root, pipe.send, should_stop, order.fine_tune, loaded,
        ))
    except MnistDataError as e:
        outcome = ("error", str(e))
    except Exception as e:
        traceback.print_exc()
        outcome = ("error", str(e) if isinstance(e, (OSError, ValueError)) else f"Training failed: {e!r}")
    pipe.send(outcome)
    pipe.close()


class Child(NamedTuple):
    """A started training process and its pipes: it waits for an Order, then sends events and its outcome."""

    process: multiprocessing.process.BaseProcess
    orders: Connection
    events: Connection
    stop_flag: ctypes.c_byte


class TrainingJob:
    def __init__(self, versions: ModelVersions, data_dir: str | Path | None = None, warm: bool = False) -> None:
        """`warm`: keep the next run's process started, MNIST loaded (the app does; tests start theirs on demand)."""
        self.versions = versions
        self.data_dir = data_dir
        self.warm = warm
        self._context = multiprocessing.get_context("spawn")  # fork would copy the server's threads and locks
        self._lock = threading.Lock()
        self._status = JobStatus("idle", message="No training has run since the app started.")
        self._process: multiprocessing.process.BaseProcess | None = None
        self._stop_flag: ctypes.c_byte | None = None
        self._epochs = 0
        self._terminated = False
        self._waiting: Child | None = None
        if warm:
            with self._lock:
                self._keep_one_waiting()

    @property
    def pid(self) -> int | None:
        """The training process's id while one exists, for diagnosis."""
        return self._process.pid if self._process is not None else None

    def _spawn(self) -> Child:
        try:
            data_dir = local_data_dir(self.data_dir)
        except MnistDataError:
            data_dir = None  # start() says why
        orders_reader, orders = self._context.Pipe(duplex=False)
        reader, writer = self._context.Pipe(duplex=False)
        stop_flag = self._context.RawValue("b", 0)  # no lock: a child killed mid-read cannot leave one held
        process = self._context.Process(
            target=train_in_child, args=(orders_reader, writer, stop_flag, data_dir), name="mnist-training",
            daemon=True,
        )
        process.start()
        writer.close()  # only the child writes: its death closes the pipe, which is how we notice it
        orders_reader.close()
        return Child(process, orders, reader, stop_flag)

    def _keep_one_waiting(self) -> None:
        """With the lock held: a warm job starts the next run's process now, unless one is waiting already."""
        if self.warm and (self._waiting is None or not self._waiting.process.is_alive()):
            self._waiting = self._spawn()

    def wait_ready(self, timeout_s: float) -> bool:
        """Whether a warm job's waiting process has loaded MNIST and warmed up, waiting at most `timeout_s`."""
        with self._lock:
            waiting = self._waiting if self._status.state != "running" else None
        return waiting is not None and waiting.events.poll(timeout_s)

    def start(self, cfg: TrainConfig, fine_tune: FineTune | None = None) -> None:
        """Train `cfg` from scratch, or with `fine_tune`, from a saved model on MNIST plus corrections."""
        with self._lock:
            if self._status.state == "running":
                raise RuntimeError("A training is already running")
            cfg = checked_config(cfg)
            data_dir = local_data_dir(self.data_dir)
            self._keep_one_waiting()
            child, self._waiting = self._waiting or self._spawn(), None
            child.orders.send(Order(cfg, data_dir, self.versions.root, fine_tune))
            child.orders.close()
            self._process, self._stop_flag, self._terminated = child.process, child.stop_flag, False
            self._epochs = cfg.epochs
            loading = "Starting: loading MNIST" + ("" if data_dir else " (downloading it first)") + "..."
            self._status = JobStatus("running", message=loading, watch_test=cfg.watch_test)
            watcher = threading.Thread(
                target=self._watch, args=(child.process, child.events), name="training-watcher", daemon=True,
            )
            watcher.start()

    def stop(self) -> None:
        """Ask the run to stop after the current step; it keeps its best checkpoint so far.
        Before the first step there is nothing to keep, so a run still loading data is ended at once."""
        with self._lock:
            if self._status.state != "running":
                return
            self._stop_flag.value = 1
            self._status.message = "Stopping after the current step..."
            if not self._status.events:
                self._terminated = True
                self._process.terminate()

    def status(self) -> JobStatus:
        with self._lock:
            return replace(self._status, events=list(self._status.events))

    def _watch(self, process: multiprocessing.process.BaseProcess, reader: Connection) -> None:
        outcome = None
        with reader:
            while outcome is None:
                try:
                    kind, payload = reader.recv()
                except (EOFError, OSError):
                    break
                if kind == "ready":  # sent while it waited: see wait_ready
                    continue
                if kind == "watched":
                    with self._lock:
                        self._status.watched = payload
                    continue
                if kind == "event":
                    with self._lock:
                        self._status.events.append(payload)
                        stopping = bool(self._stop_flag.value)
                        if not stopping or payload["kind"] == "done":  # a stop takes effect: say what comes next
                            self._status.message = progress_message(
                                payload, self._epochs, stopping, self._status.watch_test
                            )
                else:
                    outcome = (kind, payload)
        if outcome is not None:  # the result is what the admin waits for; the process takes a second more to exit
            with self._lock:
                self._finish(self._final_status(outcome, None))
                self._keep_one_waiting()
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
            process.join()
        with self._lock:
            if outcome is None:
                self._finish(self._final_status(None, process.exitcode))
            self._keep_one_waiting()

    def _finish(self, final: JobStatus) -> None:
        """With the lock held: the run's final status, still saying what its curves watched."""
        self._status = replace(final, watch_test=self._status.watch_test, watched=self._status.watched)

    def _final_status(self, outcome: tuple[str, Any] | None, exitcode: int | None) -> JobStatus:
        events = self._status.events
        if outcome is None and self._terminated:
            return JobStatus("stopped", events, "Stopped before training began: nothing was saved.")
        if outcome is None:
            return JobStatus(
                "failed", events, f"Training process died (exit code {exitcode}). The served model is unchanged."
            )
        kind, payload = outcome
        if kind == "error":
            return JobStatus("failed", events, payload)
        if payload is None:
            return JobStatus("stopped", events, "Stopped before the first training step: nothing was saved.")
        result = RunResult(
            payload["version"], payload["test_accuracy"], payload["confusion"], payload["calibration"],
            payload["mistakes"], payload.get("fine_tune"), payload["stopped"],
        )
        accuracy = f"test accuracy {100 * result.test_accuracy:.2f}%, saved as version {result.version.id}"
        if payload["stopped"]:
            return JobStatus("stopped", events, f"Stopped; best checkpoint so far: {accuracy}.", result)
        if result.fine_tune is not None:
            return JobStatus("finished", events, result.fine_tune_summary(), result)
        return JobStatus("finished", events, f"Finished: {accuracy}. Deploy it to serve it.", result)
