"""The Upload tab: a photo of a digit or a number, the digits found in it and what the model read."""

from functools import partial
from typing import Any, NamedTuple

import gradio as gr
import numpy as np

from mnist_app.reading.decode import upright_preview
from mnist_app.reading.predict import NoDigitError, NumberReading
from mnist_app.web.context import AppContext
from mnist_app.web.correction_row import correct_upload, correction_row
from mnist_app.web.widgets import api_call, doubt_hint, label_value, pixelated

UPLOAD_HINT = "Upload a photo of a digit or a number, take one with the webcam, or paste one."


class UploadView(NamedTuple):
    """The Upload tab's outputs, in the order `upload_tab` wires them: nothing read yet, by default."""

    found: tuple[Any, list] | None = None  # the photo and its digit boxes
    crops: list[tuple[np.ndarray, str]] | None = None
    label: dict[str, float] | None = None  # the main (largest) digit's probabilities
    hint: str = UPLOAD_HINT
    text: str = ""
    details: list[dict] | None = None


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
        return UploadView(hint=f"**Cannot read this image:** {e}")
    boxes = [
        (tuple(round(v * scale) for v in d.box), f"{i + 1}: {d.prediction.digit}")
        for i, d in enumerate(reading.digits)
    ]
    crops = [
        (pixelated(d.prediction.input28, 4), f"{d.prediction.digit} ({100 * max(d.prediction.probabilities):.0f}%)")
        for d in reading.digits
    ]
    main = reading.main.prediction
    doubtful = [str(i + 1) for i, d in enumerate(reading.digits) if not d.prediction.confident]
    hint = doubt_hint(main) or (f"**Not sure about digit {', '.join(doubtful)}.**" if doubtful else "")
    return UploadView((photo, boxes), crops, label_value(main), hint, reading.text, digit_results(reading))


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
            correction_row(ctx, photo, correct_upload, "upload", "correct_upload")
            crops = gr.Gallery(
                label="What the model sees, digit by digit", columns=6, height=160, elem_id="upload-crops",
            )
            with gr.Accordion("Per-digit results", open=False):
                details = gr.JSON(label="Digits, left to right: box (x0, y0, x1, y1) and probabilities")
    photo.change(
        partial(show_upload, ctx), photo, list(UploadView(found, crops, label, hint, text, details)),
        trigger_mode="always_last", api_visibility="private", concurrency_id="predict",
    )
    gr.on([], partial(predict_upload, ctx), photo, label, api_name="predict_upload", concurrency_id="predict")
    gr.on([], partial(read_number, ctx), photo, [text, details], api_name="read_number", concurrency_id="predict")
