"""The web app: Draw, Upload and Admin tabs.

Handlers are plain functions of an `AppContext` and the components' values, so tests call them
without a browser. `build_app` declares the components where they are laid out and wires them up.
The UI calls into the core (predict, versions, jobs); nothing imports the UI.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import gradio as gr
import numpy as np
from PIL import Image, ImageOps

from mnist_app.auth import AdminAuth
from mnist_app.jobs import TrainingJob
from mnist_app.predict import InvalidImageError, NoDigitError, NumberReading, Prediction, Predictor
from mnist_app.versions import ModelVersions

CANVAS_SIZE = 560  # 20x MNIST's 28 pixels
CANVAS_SHOWN = 480  # the canvas's height on screen, in CSS pixels
PEN_RADIUS = 14  # a felt-tip pen on the canvas: about 1.4 MNIST pixels wide once scaled down
SEEN_SCALE = 8  # the 28x28 input is shown 224 px wide, each pixel a sharp square
PHOTO_SHOWN = 1024  # uploads are shown (with their boxes) at most this many pixels wide or tall
START_HINT = "Draw a digit from 0 to 9: the prediction updates after each stroke."
UPLOAD_HINT = "Upload a photo of a digit or a number, take one with the webcam, or paste one."
CSS = """
#draw-seen img, #upload-crops img { image-rendering: pixelated; }
/* Our Clear button empties the canvas and keeps the pen; the Sketchpad's own one drops the pen. */
#canvas button[aria-label="Clear canvas"] { display: none; }
.hint { min-height: 2.5em; }
"""


@dataclass
class AppContext:
    predictor: Predictor  # replaced (never mutated) on deploy, so requests in flight keep a whole model
    auth: AdminAuth
    versions: ModelVersions
    job: TrainingJob
    serving: threading.Lock = field(default_factory=threading.Lock)  # held while the served model changes


def blank_paper() -> dict:
    """The canvas's value when nothing is drawn.

    Gradio 6's Sketchpad starts with no tool selected when its value is empty, and its own clear
    button drops the tool again, so a student's first stroke would draw nothing. With a background
    image the editor selects the brush as soon as it has loaded that image (on page load and each
    time the server sets it again), so a white sheet as the value is all the fix needs: no JS.
    """
    paper = np.full((CANVAS_SIZE, CANVAS_SIZE, 4), 255, np.uint8)
    return {"background": paper, "layers": [], "composite": None}


def label_value(prediction: Prediction) -> dict[str, float]:
    return {str(digit): p for digit, p in enumerate(prediction.probabilities)}


def pixelated(input28: np.ndarray, scale: int = SEEN_SCALE) -> np.ndarray:
    """The model's 28x28 input enlarged with square pixels, as uint8 gray."""
    image = np.round(np.clip(input28, 0, 1) * 255).astype(np.uint8)
    return image.repeat(scale, axis=0).repeat(scale, axis=1)


def doubt_hint(prediction: Prediction) -> str:
    if prediction.confident:
        return ""
    ranked = np.argsort(prediction.probabilities)[::-1]
    first, second = int(ranked[0]), int(ranked[1])
    return (
        f"**Not sure.** Maybe a {first} ({100 * prediction.probabilities[first]:.0f}%), "
        f"maybe a {second} ({100 * prediction.probabilities[second]:.0f}%). "
        "If it is not a digit, no answer is right."
    )


def show_drawing(ctx: AppContext, sketch: dict | None) -> tuple[dict | None, np.ndarray | None, str]:
    """Draw tab, after each stroke: the probabilities, what the model saw, and a hint when in doubt."""
    if sketch is None:
        return None, None, START_HINT
    try:
        prediction = ctx.predictor.predict(sketch)
    except NoDigitError:
        return None, None, START_HINT
    except (InvalidImageError, TypeError) as e:
        return None, None, f"**Cannot read the drawing:** {e}"
    return label_value(prediction), pixelated(prediction.input28), doubt_hint(prediction)


def clear_drawing() -> tuple[dict, None, None, str]:
    return blank_paper(), None, None, START_HINT


def predict_drawing(ctx: AppContext, sketch: dict | None) -> dict[str, float]:
    """API /predict_drawing: the Sketchpad's value in, the 10 digits' probabilities out."""
    return label_value(api_call(ctx.predictor.predict, sketch))


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


def api_call(read: Callable[[object], Any], image: object) -> Any:
    """Run a predictor method; bad input becomes a gr.Error whose message reaches the API caller."""
    if image is None:
        raise gr.Error("No image was sent")
    try:
        return read(image)
    except (NoDigitError, InvalidImageError, TypeError) as e:
        raise gr.Error(str(e)) from None


def upright_photo(path: str) -> tuple[Image.Image, float]:
    """The upload as the predictor saw it (EXIF rotation applied), shrunk for display, and the shrink factor."""
    with Image.open(path) as image:
        shown = ImageOps.exif_transpose(image).convert("RGB")
    full_width = shown.width
    shown.thumbnail((PHOTO_SHOWN, PHOTO_SHOWN))
    return shown, shown.width / full_width


def show_upload(ctx: AppContext, image_path: str | None) -> tuple:
    """Upload tab: the photo with its digit boxes, each digit's 28x28 crop, the probabilities of the main
    (largest) digit, a hint, the number read and each digit's details."""
    nothing = (None, None, None)
    if image_path is None:
        return *nothing, UPLOAD_HINT, "", None
    try:
        reading = ctx.predictor.read_number(image_path)
        photo, scale = upright_photo(image_path)
    except NoDigitError as e:
        return *nothing, f"**{e}.** Try a closer photo: dark digits on light paper, in focus.", "", None
    except (ValueError, TypeError, OSError) as e:  # InvalidImageError is a ValueError
        return *nothing, f"**Cannot read this image:** {e}", "", None
    boxes = [
        (tuple(round(v * scale) for v in d.box), f"{i + 1}: {d.prediction.digit}")
        for i, d in enumerate(reading.digits)
    ]
    crops = [
        (pixelated(d.prediction.input28, 4), f"{d.prediction.digit} ({100 * max(d.prediction.probabilities):.0f}%)")
        for d in reading.digits
    ]
    main = max(reading.digits, key=lambda d: (d.box[2] - d.box[0]) * (d.box[3] - d.box[1])).prediction
    doubtful = [str(i + 1) for i, d in enumerate(reading.digits) if not d.prediction.confident]
    hint = doubt_hint(main) or (f"**Not sure about digit {', '.join(doubtful)}.**" if doubtful else "")
    return (photo, boxes), crops, label_value(main), hint, reading.text, digit_results(reading)


def build_app(ctx: AppContext) -> gr.Blocks:
    from mnist_app.ui_admin import admin_tab  # here, not at the top: ui_admin uses AppContext from this module

    with gr.Blocks(title="MNIST: draw a digit") as demo:
        gr.Markdown("# Handwritten digits\nDraw a digit or upload a photo, and watch the network read it.")
        with gr.Tabs():
            with gr.Tab("Draw", id="draw"):
                draw_tab(ctx)
            with gr.Tab("Upload", id="upload"):
                upload_tab(ctx)
            with gr.Tab("Admin", id="admin"):
                admin_tab(ctx)
    demo.queue(default_concurrency_limit=2)  # two CPU cores: more at once would only queue inside torch
    return demo


def draw_tab(ctx: AppContext) -> None:
    with gr.Row():
        with gr.Column(scale=3):
            sketch = gr.Sketchpad(
                value=blank_paper(),
                canvas_size=(CANVAS_SIZE, CANVAS_SIZE),
                height=CANVAS_SHOWN,
                brush=gr.Brush(default_size=PEN_RADIUS, colors=["#000000"], color_mode="fixed"),
                eraser=gr.Eraser(default_size=3 * PEN_RADIUS),
                layers=False,
                transforms=(),
                type="numpy",
                label="Canvas",
                elem_id="canvas",
            )
            clear = gr.Button("Clear", variant="secondary", elem_id="clear")
        with gr.Column(scale=2):
            hint = gr.Markdown(START_HINT, elem_id="draw-hint", elem_classes="hint")
            label = gr.Label(num_top_classes=10, label="Prediction", elem_id="draw-label")
            seen = gr.Image(
                label="What the model sees (28 x 28)", format="png", interactive=False,
                height=240, elem_id="draw-seen", buttons=[],
            )
    # `change`, not `input`: the Sketchpad fires `input` before it has uploaded the new stroke, so that event
    # carries the previous drawing; `change` comes once the canvas is uploaded. always_last: while one prediction
    # runs, later strokes wait as a single request with the newest drawing, so requests never pile up.
    sketch.change(
        partial(show_drawing, ctx), sketch, [label, seen, hint],
        trigger_mode="always_last", show_progress="hidden", api_visibility="private", concurrency_id="predict",
    )
    clear.click(clear_drawing, None, [sketch, label, seen, hint], show_progress="hidden", api_visibility="private")
    gr.on(
        [], partial(predict_drawing, ctx), sketch, label, api_name="predict_drawing", concurrency_id="predict",
    )


def upload_tab(ctx: AppContext) -> None:
    with gr.Row():
        with gr.Column():
            photo = gr.Image(
                sources=["upload", "webcam", "clipboard"], type="filepath", image_mode=None,
                label="Photo of a digit or a number", elem_id="upload-photo",
            )
            found = gr.AnnotatedImage(label="Digits found", elem_id="upload-found")
        with gr.Column():
            hint = gr.Markdown(UPLOAD_HINT, elem_id="upload-hint", elem_classes="hint")
            text = gr.Textbox(label="Number read", interactive=False, elem_id="upload-number")
            label = gr.Label(num_top_classes=10, label="Main digit (the largest)", elem_id="upload-label")
            crops = gr.Gallery(
                label="What the model sees, digit by digit", columns=6, height=160, elem_id="upload-crops",
            )
            with gr.Accordion("Per-digit results", open=False):
                details = gr.JSON(label="Digits, left to right: box (x0, y0, x1, y1) and probabilities")
    photo.change(
        partial(show_upload, ctx), photo, [found, crops, label, hint, text, details],
        trigger_mode="always_last", api_visibility="private", concurrency_id="predict",
    )
    gr.on([], partial(predict_upload, ctx), photo, label, api_name="predict_upload", concurrency_id="predict")
    gr.on([], partial(read_number, ctx), photo, [text, details], api_name="read_number", concurrency_id="predict")
