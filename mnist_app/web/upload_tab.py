"""The Upload tab: a photo of a digit or a number, the digits found in it and what the model read."""

from functools import partial
from typing import Any, NamedTuple

import gradio as gr
import numpy as np

from mnist_app.reading.decode import upright_preview
from mnist_app.reading.not_a_digit import number_doubt
from mnist_app.reading.predict import NoDigitError, NumberReading
from mnist_app.web.context import AppContext
from mnist_app.web.correction_row import correct_upload, correction_row
from mnist_app.web.widgets import api_call, doubt_hint, label_value, not_a_digit_hint, pixelated

UPLOAD_HINT = "Upload a photo of a digit or a number, take one with the webcam, or paste one."
# A file the browser cannot show (a text file named .png) left a broken-image icon in the upload box; the hint says
# what is wrong with it, so the box shows nothing instead. `error` does not bubble: it is caught on its way down.
HEAD = """<script>
document.addEventListener('error', event => {
  if (event.target.tagName === 'IMG' && event.target.closest('#upload-photo')) event.target.style.visibility = 'hidden';
}, true);
</script>"""
TABLE_COLUMNS = ["digit", "read as", "probability %", "sure", "box (x0, y0, x1, y1)"]
NO_CHOICE = gr.update(choices=[], value=None, visible=False)  # nothing to choose between: one digit or none


class UploadView(NamedTuple):
    """The Upload tab's outputs, in the order `upload_tab` wires them: nothing read yet, by default."""

    found: tuple[Any, list] | None = None  # the photo and its digit boxes
    crops: list[tuple[np.ndarray, str]] | None = None
    label: dict[str, float] | None = None  # the main (largest) digit's probabilities
    hint: str = UPLOAD_HINT
    text: str = ""
    details: list[list] | None = None  # a row a digit: TABLE_COLUMNS
    which: Any = NO_CHOICE  # which digit of a number the correction row corrects


def predict_upload(ctx: AppContext, image_path: str | None) -> dict[str, float]:
    """API /predict_upload: one image file in, the main digit's 10 probabilities out."""
    return label_value(api_call(ctx.predictor.predict, image_path))


def read_number(ctx: AppContext, image_path: str | None) -> tuple[str, list[dict]]:
    """API /read_number: one image file in, the number and each digit's box and probabilities out."""
    reading = api_call(ctx.predictor.read_number, image_path)
    return reading.text, digit_results(reading)


def digit_results(reading: NumberReading) -> list[dict]:
    return [
        {
            "digit": d.prediction.digit,
            "confidence": max(d.prediction.probabilities),
            "confident": d.prediction.confident,
            "box": list(d.box),
            "probabilities": d.prediction.probabilities,
        }
        for d in reading.digits
    ]


def details_table(reading: NumberReading) -> list[list]:
    """Per-digit results as a person reads them: place, digit, probability in whole percent, box."""
    return [
        [i + 1, d.prediction.digit, round(100 * max(d.prediction.probabilities)), "yes" if d.prediction.confident
         else "no", ", ".join(str(v) for v in d.box)]
        for i, d in enumerate(reading.digits)
    ]


def place_choice(reading: NumberReading) -> dict:
    """For a number: which of its digits the student corrects, the main (largest) one picked at first."""
    if len(reading.digits) < 2:
        return NO_CHOICE
    return gr.update(
        choices=[(f"{i + 1}: {d.prediction.digit}", i + 1) for i, d in enumerate(reading.digits)],
        value=reading.digits.index(reading.main) + 1, visible=True,
    )


def sentence(message: str) -> str:
    return message if message.endswith((".", "!", "?")) else message + "."


def show_upload(ctx: AppContext, image_path: str | None) -> UploadView:
    """Upload tab: the photo with its digit boxes, each digit's 28x28 crop, the probabilities of the main
    (largest) digit, a hint, the number read and each digit's details."""
    if image_path is None:
        return UploadView()
    try:
        reading = ctx.predictor.read_number(image_path)
        photo, scale = upright_preview(image_path)
    except NoDigitError as e:
        return UploadView(hint=f"**{e}.** Try a closer photo: dark digits on light paper, in focus.")
    except (ValueError, TypeError, OSError) as e:  # InvalidImageError is a ValueError
        return UploadView(hint=f"**Cannot read this image:** {sentence(str(e))}")
    boxes = [
        (tuple(round(v * scale) for v in d.box), f"{i + 1}: {d.prediction.digit}")
        for i, d in enumerate(reading.digits)
    ]
    crops = [
        (pixelated(d.prediction.input28, 4), f"{d.prediction.digit} ({100 * max(d.prediction.probabilities):.0f}%)")
        for d in reading.digits
    ]
    main = reading.main.prediction
    found = (photo, boxes)
    not_digits = number_doubt(image_path, reading)
    if not_digits:
        return UploadView(found, crops, label_value(main), not_a_digit_hint(not_digits), "", details_table(reading))
    doubtful = [str(i + 1) for i, d in enumerate(reading.digits) if not d.prediction.confident]
    hint = doubt_hint(main) or (f"**Not sure about digit {', '.join(doubtful)}.**" if doubtful else "")
    return UploadView(
        found, crops, label_value(main), hint, reading.text, details_table(reading), place_choice(reading),
    )


def hand_over_unopened(photo: gr.Image) -> gr.Image:
    """gr.Image opens an upload with Pillow before the handler runs, so a file that is not an image failed there with
    a long message naming the server's temp folder. Handed over unopened, the predictor's decoder says clearly what
    is wrong, and checks the pixel count before decoding anything. Set on the instance, not in a subclass: Gradio
    writes a .pyi stub beside any module that subclasses a component."""

    def preprocess(payload: Any) -> Any:
        if payload is not None and payload.path is not None and not (payload.url or "").startswith("data:"):
            return str(payload.path)  # Gradio has already checked that the path is in its upload folder
        return gr.Image.preprocess(photo, payload)

    photo.preprocess = preprocess
    return photo


def upload_tab(ctx: AppContext) -> None:
    with gr.Row():
        with gr.Column():
            photo = hand_over_unopened(gr.Image(
                sources=["upload", "webcam", "clipboard"], type="filepath", image_mode=None,
                label="Photo of a digit or a number", elem_id="upload-photo",
            ))
            found = gr.AnnotatedImage(label="Digits found", elem_id="upload-found")
        with gr.Column():
            hint = gr.Markdown(UPLOAD_HINT, elem_id="upload-hint", elem_classes="hint")
            text = gr.Textbox(label="Number read", interactive=False, elem_id="upload-number")
            label = gr.Label(num_top_classes=10, label="Main digit (the largest)", elem_id="upload-label")
            correction = correction_row(ctx, photo, correct_upload, "upload", "correct_upload", pick_place=True)
            crops = gr.Gallery(
                label="What the model sees, digit by digit", columns=6, height=160, object_fit="contain",
                allow_preview=False, elem_id="upload-crops",
            )
            with gr.Accordion("Per-digit results", open=False):
                details = gr.Dataframe(
                    headers=TABLE_COLUMNS, interactive=False, label="Digits, left to right", elem_id="upload-details",
                )
            digits_json = gr.JSON(visible=False)  # /read_number's per-digit results, for scripts
    views = UploadView(found, crops, label, hint, text, details, correction.which)
    photo.change(
        partial(show_upload, ctx), photo, list(views), trigger_mode="always_last", api_visibility="private",
        concurrency_id="predict",
    )
    gr.on([], partial(predict_upload, ctx), photo, label, api_name="predict_upload", concurrency_id="predict")
    gr.on(
        [], partial(read_number, ctx), photo, [text, digits_json], api_name="read_number", concurrency_id="predict",
    )
