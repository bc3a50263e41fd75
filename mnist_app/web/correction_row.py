"""The row under each prediction where a student saves a correction: "Wrong? It is a 7", or, on the Draw tab,
confirms the reading with one tap: "Right!". During a lesson the wall shows which drawings were read right.

The handlers read the drawing or photo again (a few milliseconds) rather than trusting what the
page last showed, so the stored input is exactly what the served model sees for that picture.
"""

import sqlite3
from collections.abc import Callable
from functools import partial

import gradio as gr
import numpy as np
from PIL import Image

from mnist_app.reading.decode import upright_preview
from mnist_app.reading.predict import InvalidImageError, NoDigitError, Prediction
from mnist_app.storage.corrections import CorrectionStore
from mnist_app.web.context import AppContext
from mnist_app.web.wall_feed import answer_on_wall

CROP_MARGIN = 0.25  # of the digit's box on each side, in the thumbnail of an upload


def as_digit(value: object) -> int | None:
    """0-9 given as a number or as a string of digits; None for anything else."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 9:
        return None
    return value


def wanted_digit(value: object) -> int:
    """The digit the student picked."""
    digit = as_digit(value.strip() if isinstance(value, str) else value)
    if digit is None:
        raise gr.Error("Pick the right digit (0 to 9) first, then save.")
    return digit


def store_of(ctx: AppContext) -> CorrectionStore:
    if ctx.corrections is None:
        raise gr.Error("This server keeps no corrections.")
    return ctx.corrections


def save(
    ctx: AppContext, prediction: Prediction, digit: int, original: Image.Image | None, drawing: str | None = None,
) -> tuple[str, None]:
    """`drawing`: the key of the drawing on the Draw tab's canvas, so that a lesson's wall shows the answer."""
    store = store_of(ctx)
    served = ctx.versions.served()
    try:
        lesson_id = answer_on_wall(ctx, drawing, digit)
        store.add(prediction.input28, digit, prediction.digit, served.id if served else "unknown", original, lesson_id)
    except (OSError, sqlite3.Error) as e:
        raise gr.Error(f"Could not save the correction: {e}") from None
    agreed = " The model read it so too: thanks for confirming." if digit == prediction.digit else ""
    return f"Thanks: saved as a {digit}.{agreed}", None


def correct_drawing(
    ctx: AppContext, sketch: dict | None, digit: object, drawing: str | None = None,
) -> tuple[str, None]:
    """API /correct_drawing: the canvas and the digit it really is; saves a correction."""
    digit = wanted_digit(digit)
    try:
        prediction = ctx.predictor.predict(sketch)
    except (NoDigitError, InvalidImageError, TypeError):
        raise gr.Error("Nothing is drawn: draw a digit, then say which it is.") from None
    composite = sketch.get("composite") if isinstance(sketch, dict) else None
    original = Image.fromarray(composite) if isinstance(composite, np.ndarray) else None
    return save(ctx, prediction, digit, original, drawing)


def confirm_drawing(ctx: AppContext, sketch: dict | None, drawing: str | None = None) -> tuple[str, None]:
    """API /confirm_drawing: "Right!", the model read the canvas right; saved as a correction that agrees."""
    try:
        digit = ctx.predictor.predict(sketch).digit
    except (NoDigitError, InvalidImageError, TypeError):
        raise gr.Error("Nothing is drawn: draw a digit first.") from None
    return correct_drawing(ctx, sketch, digit, drawing)


def correct_upload(ctx: AppContext, image_path: str | None, digit: object) -> tuple[str, None]:
    """API /correct_upload: a photo and what its main (largest) digit really is; saves a correction."""
    digit = wanted_digit(digit)
    if image_path is None:
        raise gr.Error("Upload a photo first, then say which digit it shows.")
    try:
        reading = ctx.predictor.read_number(image_path)
        main = reading.main
        photo, scale = upright_preview(image_path)
        original = digit_crop(photo, tuple(round(v * scale) for v in main.box))
    except (NoDigitError, InvalidImageError, TypeError, OSError):
        raise gr.Error("No digit was found in this photo, so there is nothing to correct.") from None
    return save(ctx, main.prediction, digit, original)


def digit_crop(photo: Image.Image, box: tuple[int, int, int, int]) -> Image.Image:
    """The digit's box with a margin: the photo's part the admin needs to judge a correction."""
    x0, y0, x1, y1 = box
    margin = round(CROP_MARGIN * max(x1 - x0, y1 - y0))
    return photo.crop((max(0, x0 - margin), max(0, y0 - margin), x1 + margin, y1 + margin))


def correction_row(
    ctx: AppContext, source: gr.components.Component, handler: Callable, prefix: str, api_name: str,
    drawing: gr.State | None = None,
) -> None:
    """The row under a prediction; `handler` gets the source's value and the picked digit. With `drawing` (the Draw
    tab's key of the drawing on its canvas) the row has "Right!", and both handlers get the key."""
    with gr.Row(equal_height=True, elem_id=f"{prefix}-correction"):
        if drawing is not None:
            right = gr.Button("Right!", scale=1, size="sm", variant="primary", elem_id=f"{prefix}-correct-right")
        digit = gr.Radio(
            [(str(d), d) for d in range(10)], label="Wrong? It is a", scale=4, elem_id=f"{prefix}-correct-digit",
        )
        button = gr.Button("Save correction", scale=1, size="sm", elem_id=f"{prefix}-correct-save")
    note = gr.Markdown(elem_id=f"{prefix}-correct-note")
    key = [] if drawing is None else [drawing]  # a State: not a parameter of the API
    button.click(partial(handler, ctx), [source, digit, *key], [note, digit], api_name=api_name)
    if drawing is not None:
        right.click(partial(confirm_drawing, ctx), [source, drawing], [note, digit], api_name="confirm_drawing")
    # A new picture starts afresh: no stale thanks, no digit picked for the previous one.
    source.change(lambda: ("", None), None, [note, digit], show_progress="hidden", api_visibility="private")
