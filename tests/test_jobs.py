"""Training runs in a spawned process: each test here that starts one pays a few seconds of imports."""

import json
import math
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from mnist_app.storage.versions import SHIPPED, ModelVersions
from mnist_app.testing.mnist_files import write_mnist
from mnist_app.training.data import MnistDataError
from mnist_app.training.engine import TrainConfig
from mnist_app.training.lesson import LESSON
from mnist_app.training.models import build_model
from mnist_app.web.jobs import TrainingJob

N_TEST = 200


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return write_mnist(tmp_path_factory.mktemp("mnist"), n_train=600, n_test=N_TEST)


def quick_config(epochs: int) -> TrainConfig:
    # 540 training images in batches of 32: 16 steps an epoch, an event every 4.
    return TrainConfig(model="fast", epochs=epochs, batch_size=32, lr=0.05, augment=False, event_every=4)


def wait_until(condition, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def snapshot(versions: ModelVersions) -> dict:
    """Everything an admin could notice about the served model and the saved versions."""
    files = {p.name: p.read_bytes() for p in versions.root.iterdir()} if versions.root.exists() else {}
    return {"served": versions.served_path(), "ids": [v.id for v in versions.list()], "files": files}


def test_a_run_reports_progress_and_saves_its_model_as_a_version_without_deploying_it(versions, data_dir):
    job = TrainingJob(versions, data_dir)
    assert job.status().state == "idle"
    job.start(quick_config(epochs=1))
    assert job.status().state == "running"
    wait_until(lambda: job.status().state != "running")

    status = job.status()
    assert status.state == "finished", status.message
    kinds = [e["kind"] for e in status.events]
    assert "step" in kinds and kinds[-2:] == ["eval", "done"]
    assert all(0 <= e["loss"] < 10 and e["total_steps"] == 16 for e in status.events)
    assert status.events[-2]["val_acc"] is not None

    result = status.result
    assert "Finished" in status.message and result.version.id in status.message
    confusion = np.array(result.confusion)
    assert confusion.shape == (10, 10) and confusion.sum() == N_TEST
    assert result.test_accuracy == pytest.approx(confusion.trace() / N_TEST)
    assert len(result.mistakes) == min(32, N_TEST - confusion.trace())
    for image, true, predicted in result.mistakes:
        assert image.shape == (28, 28) and image.dtype == np.uint8 and true != predicted
    assert sum(b.count for b in result.calibration) == N_TEST  # the reliability diagram covers every test digit

    listed = {v.id: v for v in versions.list()}
    assert not listed[result.version.id].served and listed[SHIPPED].served
    assert listed[result.version.id].test_accuracy == pytest.approx(result.test_accuracy)
    meta = json.loads(result.version.path.with_suffix(".json").read_text())
    assert meta["stopped"] is False and meta["training"]["epochs"] == 1 and meta["training"]["threads"] == 1
    assert 0.05 <= meta["temperature"] <= 20  # fitted on the validation split; the Predictor divides by it


def test_concurrent_starts_give_exactly_one_run_and_kill_9_fails_it_leaving_the_served_model_alone(
    versions, data_dir
):
    served = versions.add(build_model("fast"), {"architecture": "fast"})
    versions.deploy(served.id)
    before = snapshot(versions)
    job = TrainingJob(versions, data_dir)
    barrier = threading.Barrier(4)
    outcomes = []

    def press_start() -> None:
        barrier.wait()
        try:
            job.start(quick_config(epochs=500))
            outcomes.append("started")
        except RuntimeError as e:
            outcomes.append(str(e))

    presses = [threading.Thread(target=press_start) for _ in range(4)]
    for t in presses:
        t.start()
    for t in presses:
        t.join()
    assert sorted(outcomes) == ["A training is already running"] * 3 + ["started"]

    wait_until(lambda: len(job.status().events) > 0)
    os.kill(job.pid, signal.SIGKILL)
    wait_until(lambda: job.status().state != "running")
    status = job.status()
    assert status.state == "failed" and "died" in status.message and "-9" in status.message
    assert status.result is None and status.events
    assert snapshot(versions) == before


def test_stop_ends_the_run_and_keeps_the_model_it_has(versions, data_dir):
    job = TrainingJob(versions, data_dir)
    job.start(quick_config(epochs=500))
    wait_until(lambda: len(job.status().events) > 0)
    job.stop()
    wait_until(lambda: job.status().state != "running")
    status = job.status()
    assert status.state == "stopped" and status.result is not None, status.message
    assert status.events[-1]["kind"] == "done" and status.events[-1]["epoch"] < 10
    meta = json.loads(status.result.version.path.with_suffix(".json").read_text())
    assert meta["stopped"] is True
    assert status.result.version.id in [v.id for v in versions.list()]
    assert versions.served_path() == versions.shipped


def test_stop_while_still_loading_ends_the_run_at_once_and_saves_nothing(versions, data_dir):
    job = TrainingJob(versions, data_dir)
    job.start(quick_config(epochs=500))
    job.stop()
    wait_until(lambda: job.status().state != "running", timeout_s=30)
    status = job.status()
    assert status.state == "stopped" and "nothing was saved" in status.message
    assert [v.id for v in versions.list()] == [SHIPPED]


@pytest.mark.parametrize("via_environment", [False, True])
def test_missing_data_is_a_clear_message_before_anything_starts(versions, tmp_path, monkeypatch, via_environment):
    empty = tmp_path / "empty"
    empty.mkdir()
    if via_environment:
        monkeypatch.setenv("MNIST_DATA_DIR", str(empty))
    job = TrainingJob(versions, None if via_environment else empty)
    with pytest.raises(MnistDataError, match="MNIST data not found.*MNIST_DATA_DIR"):
        job.start(quick_config(epochs=1))
    assert job.status().state == "idle" and job.pid is None


@pytest.mark.parametrize(
    "change, complaint",
    [
        ({"model": "resnet9000"}, "Unknown architecture"),
        ({"epochs": 0}, "epochs"),
        ({"epochs": 2.5}, "epochs"),
        ({"batch_size": "64"}, "batch size"),
        ({"lr": math.nan}, "learning rate"),
        ({"lr": -0.1}, "learning rate"),
    ],
)
def test_settings_out_of_range_are_refused_before_anything_starts(versions, data_dir, change, complaint):
    job = TrainingJob(versions, data_dir)
    with pytest.raises(ValueError, match=complaint):
        job.start(TrainConfig(**{"model": "fast", **change}))
    assert job.status().state == "idle" and job.pid is None


def test_a_warm_job_trains_the_lesson_on_a_process_already_waiting_and_keeps_one_waiting(versions, data_dir):
    cold = TrainingJob(versions, data_dir)
    assert not cold.wait_ready(0)  # only a warm job keeps a process waiting (the app's is warm)
    job = TrainingJob(versions, data_dir, warm=True)
    assert job.wait_ready(120)  # started, MNIST loaded and warmed up before anyone pressed a button
    job.start(LESSON)
    wait_until(lambda: job.status().state != "running")
    status = job.status()
    assert status.state == "finished" and status.watch_test, status.message
    evals = [e for e in status.events if e["kind"] == "eval"]
    assert evals and all(e["images_seen"] == e["step"] * LESSON.batch_size for e in evals)
    meta = json.loads(status.result.version.path.with_suffix(".json").read_text())
    assert meta["architecture"] == "lesson" and meta["training"]["watch_test"] is True
    assert meta["val_accuracy"] == evals[-1]["val_acc"]  # the last weights kept: nothing chosen on test digits
    images, labels = status.watched  # the ten digits the Admin tab shows as the network reads them: 0 to 9
    assert labels == list(range(10)) and images.shape == (10, 28, 28)
    assert all(len(e["val_readings"]) == 10 for e in evals)
    assert job.wait_ready(120)  # and the next lesson's process is waiting again
