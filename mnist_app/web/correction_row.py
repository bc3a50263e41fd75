"""The row under each prediction where a student saves a correction: "Wrong? It is a 7", or, on the Draw tab,
confirms the reading with one tap: "Right!". During a lesson the wall shows which drawings were read right.

The handlers read the drawing or photo again (a few milliseconds) rather than trusting what the
page last showed, so the stored input is exactly what the served model sees for that picture.
"""

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

import gradio as gr
import numpy as np
from PIL import Image

from mnist_app.reading.decode import upright_preview
from mnist_app.reading.predict import InvalidImageError, NoDigitError, Prediction
from mnist_app.storage.corrections import CorrectionStore
from mnist_app.web.context import AppContext
from mnist_app.web.refusals import failed, refused
from mnist_app.web.wall_feed import answer_on_wall
from mnist_app.web.widgets import Drawn, a_digit

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
        raise refused("Pick the right digit (0 to 9) first, then save.")
    return digit


def store_of(ctx: AppContext) -> CorrectionStore:
    if ctx.corrections is None:
        raise refused("This server keeps no corrections.")
    return ctx.corrections


FRESH_START_JS = "() => ['', null]"  # CorrectionAnswer("") in the page: no note, no digit picked


class CorrectionAnswer(NamedTuple):
    """What Save shows: the thanks or why nothing was saved, and the digit choice (None: cleared for the next)."""

    note: str
    digit: Any = None


def save(
    ctx: AppContext, prediction: Prediction, digit: int, original: Image.Image | None, drawing: str | None = None,
) -> CorrectionAnswer:
    """`drawing`: the key of the drawing on the Draw tab's canvas, so that a lesson's wall shows the answer."""
    store = store_of(ctx)
    served = ctx.versions.served()
    try:
        lesson_id = answer_on_wall(ctx, drawing, digit)
        store.add(prediction.input28, digit, prediction.digit, served.id if served else "unknown", original, lesson_id)
    except (OSError, sqlite3.Error) as e:
        raise failed(f"Could not save the correction: {e}") from None
    agreed = " The model read it so too: thanks for confirming." if digit == prediction.digit else ""
    return CorrectionAnswer(f"Thanks: saved as {a_digit(digit)}.{agreed}")


def one_drawn_digit(ctx: AppContext, sketch: dict | None) -> Prediction:
    """The one digit on the canvas, read once; refused when nothing or a whole number is drawn."""
    try:
        reading = ctx.predictor.read_drawing(sketch)
    except (NoDigitError, InvalidImageError, TypeError):
        raise refused("Nothing is drawn: draw a digit, then say which it is.") from None
    if len(reading.digits) > 1:  # the whole number squeezed into one 28x28 would teach the model nothing
        raise refused("A correction is for one digit: Clear, draw the digit alone, then say which it is.")
    return reading.digits[0].prediction


def canvas_picture(sketch: dict | None) -> Image.Image | None:
    composite = sketch.get("composite") if isinstance(sketch, dict) else None
    return Image.fromarray(composite) if isinstance(composite, np.ndarray) else None


def correct_drawing(
    ctx: AppContext, sketch: dict | None, digit: object, drawing: str | None = None,
) -> CorrectionAnswer:
    """API /correct_drawing: the canvas and the digit it really is; saves a correction."""
    digit = wanted_digit(digit)
    return save(ctx, one_drawn_digit(ctx, sketch), digit, canvas_picture(sketch), drawing)


def confirm_drawing(ctx: AppContext, sketch: dict | None, drawing: str | None = None) -> CorrectionAnswer:
    """API /confirm_drawing: "Right!", the model read the canvas right; saved as a correction that agrees."""
    prediction = one_drawn_digit(ctx, sketch)
    return save(ctx, prediction, prediction.digit, canvas_picture(sketch), drawing)


def on_drawn(
    handler: Callable[..., CorrectionAnswer], ctx: AppContext, drawn: Drawn | None, *values: object,
) -> CorrectionAnswer:
    """A drawing's handler as the Draw tab's page calls it: with the Drawn it keeps of the drawing whose reading it
    shows, in place of the canvas's value (the canvas is no input of a server event: web/canvas_sending.py)."""
    return handler(ctx, None if drawn is None else drawn.sketch, *values)


def correct_upload(ctx: AppContext, image_path: str | None, digit: object, position: object = None) -> CorrectionAnswer:
    """API /correct_upload: a photo and what one of its digits really is; saves a correction. `position` is the
    digit's place in the number read, 1 for the leftmost; by default the main (largest) digit."""
    digit = wanted_digit(digit)
    if image_path is None:
        raise refused("Upload a photo first, then say which digit it shows.")
    try:
        reading = ctx.predictor.read_number(image_path)
        photo, scale = upright_preview(image_path)
    except (NoDigitError, InvalidImageError, TypeError, OSError):
        raise refused("No digit was found in this photo, so there is nothing to correct.") from None
    place = as_place(position, len(reading.digits))
    chosen = reading.main if place is None else reading.digits[place - 1]
    original = digit_crop(photo, tuple(round(v * scale) for v in chosen.box))
    return save(ctx, chosen.prediction, digit, original)


def as_place(position: object, digits: int) -> int | None:
    """The digit's place (1 = leftmost) the student chose, None for the main digit; refused if out of range."""
    if position is None or position == "":
        return None
    place = int(position) if isinstance(position, str) and position.isdigit() else position
    if isinstance(place, bool) or not isinstance(place, int) or not 1 <= place <= digits:
        raise refused(f"Choose which digit to correct: 1 to {digits}, counted from the left.")
    return place


def digit_crop(photo: Image.Image, box: tuple[int, int, int, int]) -> Image.Image:
    """The digit's box with a margin: the photo's part the admin needs to judge a correction."""
    x0, y0, x1, y1 = box
    margin = round(CROP_MARGIN * max(x1 - x0, y1 - y0))
    return photo.crop((max(0, x0 - margin), max(0, y0 - margin), x1 + margin, y1 + margin))


def answer_on_page(handler: Callable[..., CorrectionAnswer], *values: object) -> CorrectionAnswer:
    """Save, as the page calls it: a refusal is shown in the note beside the row and leaves the digit picked, so
    the row stays as it was (a raised error would put an "Error" badge over the choices)."""
    try:
        return handler(*values)
    except gr.Error as e:
        return CorrectionAnswer(f"**Not saved.** {e.message}", gr.skip())


@dataclass
class CorrectionRow:
    """The row's components. `which`: on the Upload tab, which digit of the number is corrected."""

    digit: gr.Radio
    save: gr.Button
    note: gr.Markdown
    which: gr.Radio | None = None


def correction_row(
    ctx: AppContext, source: gr.components.Component, handler: Callable, prefix: str, api_name: str,
    fresh_start: Sequence[Any] = (), pick_place: bool = False, drawing: gr.State | None = None,
    shown: gr.State | None = None,
) -> CorrectionRow:
    """The row under a prediction; `handler` gets the source's value, the picked digit and, with `pick_place`,
    which digit of a number the student corrects. The source's change and the `fresh_start` triggers (Clear)
    empty the note and the choice. With `drawing` (the Draw tab's key of the drawing on its canvas) the row has
    "Right!", and the page's Save and Right! pass the key on, so that a lesson's wall shows the answer. With
    `shown` (the Draw tab's Drawn state), the page's Save and Right! send the drawing whose reading the page shows
    in place of the source's value (`on_drawn`); the API still takes the source's value."""
    # The note sits above the choices: after Save, the student is looking at the row, and on a phone the space
    # below the row is off screen.
    note = gr.Markdown(elem_id=f"{prefix}-correct-note", elem_classes="correct-note")
    with gr.Column(elem_id=f"{prefix}-correction"):
        which = gr.Radio(
            [], label="Which digit?", visible=False, elem_id=f"{prefix}-correct-which",
        ) if pick_place else None
        digit = gr.Radio([(str(d), d) for d in range(10)], label="Wrong? It is a", elem_id=f"{prefix}-correct-digit")
        with gr.Row(elem_id=f"{prefix}-correct-buttons"):
            right = gr.Button(
                "Right!", size="sm", variant="primary", elem_id=f"{prefix}-correct-right",
            ) if drawing is not None else None
            save_button = gr.Button("Save correction", size="sm", elem_id=f"{prefix}-correct-save")
    key = [drawing] if drawing is not None else []  # a State: not a parameter of the API
    on_page, page_handler = (source, handler) if shown is None else (shown, partial(on_drawn, handler))
    inputs = [on_page, digit] + ([which] if which is not None else []) + key
    save_button.click(
        partial(answer_on_page, partial(page_handler, ctx)), inputs, [note, digit], api_visibility="private",
    )
    # The API takes the place as a number: the Radio only accepts the choices a page was given.
    place = [gr.Number(visible=False, precision=0, label="position")] if which is not None else []
    gr.on([], partial(handler, ctx), [source, digit, *place], [note, digit], api_name=api_name)
    if right is not None:
        page_confirm = confirm_drawing if shown is None else partial(on_drawn, confirm_drawing)
        right.click(
            partial(answer_on_page, partial(page_confirm, ctx)), [on_page, *key], [note, digit],
            api_visibility="private",
        )
        gr.on([], partial(confirm_drawing, ctx), source, [note, digit], api_name="confirm_drawing")
    # A new picture starts afresh: no stale thanks, no digit picked for the previous one. `input`, the student's own
    # change, not `change`: the canvas re-sends a stroke seconds later, and that wiped a thanks just shown (CI).
    # In the page alone: a request of its own would double what each stroke costs the server.
    gr.on(
        [source.input, *fresh_start], None, None, [note, digit], js=FRESH_START_JS, show_progress="hidden",
        api_visibility="private",
    )
    return CorrectionRow(digit, save_button, note, which)
