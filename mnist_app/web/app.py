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

from mnist_app.reading.decode import upright_preview
from mnist_app.reading.explain import evidence_image, evidence_map
from mnist_app.reading.predict import InvalidImageError, NoDigitError, NumberReading, Prediction, Predictor
from mnist_app.storage.corrections import CorrectionStore
from mnist_app.storage.versions import ModelVersions
from mnist_app.web.auth import AdminAuth
from mnist_app.web.correction_row import correct_drawing, correct_upload, correction_row
from mnist_app.web.jobs import TrainingJob

CANVAS_SIZE = 560  # 20x MNIST's 28 pixels
CANVAS_SHOWN = 480  # the canvas's height on screen, in CSS pixels
PEN_RADIUS = 14  # a felt-tip pen on the canvas: about 1.4 MNIST pixels wide once scaled down
SEEN_SCALE = 8  # the 28x28 input is shown 224 px wide, each pixel a sharp square
START_HINT = "Draw a digit from 0 to 9: the prediction updates after each stroke."
UPLOAD_HINT = "Upload a photo of a digit or a number, take one with the webcam, or paste one."
EXPLAIN_LABEL = "Explain: show which pixels decided"
CSS = """
#draw-seen img, #upload-crops img { image-rendering: pixelated; }
/* Our Clear button empties the canvas and keeps the pen; the Sketchpad's own one drops the pen. */
#canvas button[aria-label="Clear canvas"] { display: none; }
.hint { min-height: 2.5em; }
"""
# The classroom view (/classroom, mnist_app/web/classroom.py): readable from the back of a room.
CSS += """
#classroom-canvas button[aria-label="Clear canvas"] { display: none; }
#classroom-seen img { image-rendering: pixelated; }
#classroom-address p { font-size: 2rem; line-height: 1.3; text-align: center; }
#classroom-address strong { font-size: 3.2rem; font-family: var(--font-mono); }
#classroom-label [data-testid=label-output-value] { font-size: 9rem; line-height: 1; }
#classroom-label .label { font-size: 2.5rem; }
#classroom-label meter.bar { height: 1.2rem; }
#classroom-hint p, #classroom-clear { font-size: 1.6rem; }
"""
# Phones: the canvas fills the width; Clear and all ten bars fit a 390x844 screen below it. Touch needs
# no rule: PixiJS puts touch-action: none on its canvas, so a stroke there draws and never scrolls or zooms the page
# (tests/test_browser_phone.py checks it). Pan/zoom and the tool column (only the pen is needed; Clear and Undo stay)
# would be fingertip-sized targets over the sheet. A <style> in the page's head, not `CSS`: Gradio confines `CSS` to
# its content box, and inside @media keeps no copy reaching the page's padding outside that box.
HEAD = """<style>
@media (max-width: 600px) {
  .gradio-container { --layout-gap: 8px; }
  .gradio-container .main.app { padding: 8px 8px 0; }
  .prose h1 { font-size: 1.3rem; margin: 0; }
  .prose h1 + p { display: none; }
  .tab-container button { min-height: 44px; }
  .gradio-container .tabs .tab-wrapper { margin-bottom: 0; }
  #canvas { height: auto !important; aspect-ratio: 1 / 1.1; }  /* a little taller: the sheet clears Undo */
  #canvas .toolbar-wrap, #canvas .zoom-number, #canvas .separator, #canvas button[aria-label="Pan"],
  #canvas button[aria-label^="Zoom"] { display: none; }
  #canvas .top-panel button { min-width: 44px; min-height: 44px; }
  #clear { min-height: 48px; }
  #draw-hint, #draw-hint .hint { min-height: 0; }  /* below the canvas, so its growing moves no stroke */
  #draw-label .container { display: grid; grid: auto repeat(5, auto) / 1fr 1fr; grid-auto-flow: column; gap: 0 16px; }
  #draw-label .output-class { grid-area: 1 / 1 / 2 / 3; padding: 4px; }
  #draw-label .confidence-set { margin-bottom: 0; }
}
</style>"""


@dataclass
class AppContext:
    predictor: Predictor  # replaced (never mutated) on deploy, so requests in flight keep a whole model
    auth: AdminAuth
    versions: ModelVersions
    job: TrainingJob
    serving: threading.Lock = field(default_factory=threading.Lock)  # held while the served model changes
    corrections: CorrectionStore | None = None  # None: this server keeps no corrections


def blank_paper() -> dict:
    """The canvas's value when nothing is drawn: a white sheet and one empty ink layer.

    The sheet: Gradio 6's Sketchpad starts with no tool selected when its value is empty, and its own clear
    button drops the tool again, so a student's first stroke would draw nothing. With a background image the
    editor selects the brush as soon as it has loaded that image (on page load and each time the server sets it).

    The empty layer: the Sketchpad's front end drops the first change after it mounts, taking it for the one that
    loading a value causes. Loading a background alone causes none (only loading layers does), so without a layer
    the dropped change was the student's first stroke, and it was never read. With one, loading it is the change
    that is dropped, and every stroke after it is read.
    """
    paper = np.full((CANVAS_SIZE, CANVAS_SIZE, 4), 255, np.uint8)
    no_ink = np.zeros((CANVAS_SIZE, CANVAS_SIZE, 4), np.uint8)
    return {"background": paper, "layers": [no_ink], "composite": None}


def drawing_canvas(elem_id: str, height: int | str) -> gr.Sketchpad:
    """The canvas of the Draw tab and the classroom view: a black felt-tip pen on a white sheet."""
    return gr.Sketchpad(
        value=blank_paper(),
        canvas_size=(CANVAS_SIZE, CANVAS_SIZE),
        height=height,
        brush=gr.Brush(default_size=PEN_RADIUS, colors=["#000000"], color_mode="fixed"),
        eraser=gr.Eraser(default_size=3 * PEN_RADIUS),
        layers=False,
        transforms=(),
        type="numpy",
        label="Canvas",
        elem_id=elem_id,
    )


def label_value(prediction: Prediction) -> dict[str, float]:
    return {str(digit): p for digit, p in enumerate(prediction.probabilities)}


def pixelated(input28: np.ndarray, scale: int = SEEN_SCALE) -> np.ndarray:
    """The model's 28x28 input (gray, or 28x28x3 RGB) in [0, 1] enlarged with square pixels, as uint8."""
    image = np.round(np.clip(input28, 0, 1) * 255).astype(np.uint8)
    return image.repeat(scale, axis=0).repeat(scale, axis=1)


def two_best(prediction: Prediction) -> tuple[int, int]:
    """The top digit and the runner-up."""
    ranked = np.argsort(prediction.probabilities)[::-1]
    return int(ranked[0]), int(ranked[1])


def doubt_hint(prediction: Prediction) -> str:
    if prediction.confident:
        return ""
    first, second = two_best(prediction)
    return (
        f"**Not sure.** Maybe a {first} ({100 * prediction.probabilities[first]:.0f}%), "
        f"maybe a {second} ({100 * prediction.probabilities[second]:.0f}%). "
        "If it is not a digit, no answer is right."
    )


def show_drawing(
    ctx: AppContext, sketch: dict | None, explain: bool = False,
) -> tuple[dict | None, np.ndarray | None, str]:
    """Draw tab and classroom view, after each stroke: the probabilities, what the model saw (with `explain`,
    tinted by which pixels decided between its two best guesses), and a hint when in doubt."""
    if sketch is None:
        return None, None, START_HINT
    predictor = ctx.predictor  # one model for the prediction and its explanation, even if a deploy swaps it
    try:
        prediction = predictor.predict(sketch)
    except NoDigitError:
        return None, None, START_HINT
    except (InvalidImageError, TypeError) as e:
        return None, None, f"**Cannot read the drawing:** {e}"
    if not explain:
        return label_value(prediction), pixelated(prediction.input28), doubt_hint(prediction)
    top, runner_up = two_best(prediction)
    evidence = evidence_map(predictor.model, prediction.input28, top, runner_up)
    legend = f"**Red:** evidence for {top}, **blue:** for {runner_up}."
    hint = "\n\n".join(line for line in (doubt_hint(prediction), legend) if line)
    return label_value(prediction), pixelated(evidence_image(prediction.input28, evidence)), hint


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


def show_upload(ctx: AppContext, image_path: str | None) -> tuple:
    """Upload tab: the photo with its digit boxes, each digit's 28x28 crop, the probabilities of the main
    (largest) digit, a hint, the number read and each digit's details."""
    nothing = (None, None, None)
    if image_path is None:
        return *nothing, UPLOAD_HINT, "", None
    try:
        reading = ctx.predictor.read_number(image_path)
        photo, scale = upright_preview(image_path)
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
    main = reading.main.prediction
    doubtful = [str(i + 1) for i, d in enumerate(reading.digits) if not d.prediction.confident]
    hint = doubt_hint(main) or (f"**Not sure about digit {', '.join(doubtful)}.**" if doubtful else "")
    return (photo, boxes), crops, label_value(main), hint, reading.text, digit_results(reading)


def build_app(ctx: AppContext) -> gr.Blocks:
    from mnist_app.web.admin_tab import admin_tab  # here, not at the top: ui_admin uses AppContext from this module
    from mnist_app.web.classroom import CLASSROOM_PATH, classroom_page  # likewise

    with gr.Blocks(title="MNIST: draw a digit") as demo:
        gr.Markdown("# Handwritten digits\nDraw a digit or upload a photo, and watch the network read it.")
        with gr.Tabs():
            with gr.Tab("Draw", id="draw"):
                draw_tab(ctx)
            with gr.Tab("Upload", id="upload"):
                upload_tab(ctx)
            with gr.Tab("Admin", id="admin"):
                admin_tab(ctx)
    with demo.route("Classroom", CLASSROOM_PATH):
        classroom_page(ctx, demo)
    demo.queue(default_concurrency_limit=2)  # two CPU cores: more at once would only queue inside torch
    return demo


def draw_tab(ctx: AppContext) -> None:
    with gr.Row():
        with gr.Column(scale=3):
            sketch = drawing_canvas("canvas", CANVAS_SHOWN)
            clear = gr.Button("Clear", variant="secondary", elem_id="clear")
        with gr.Column(scale=2):
            hint = gr.Markdown(START_HINT, elem_id="draw-hint", elem_classes="hint")
            label = gr.Label(num_top_classes=10, label="Prediction", elem_id="draw-label")
            correction_row(ctx, sketch, correct_drawing, "draw", "correct_drawing")
            seen = gr.Image(
                label="What the model sees (28 x 28)", format="png", interactive=False,
                height=240, elem_id="draw-seen", buttons=[],
            )
            explain = gr.Checkbox(label=EXPLAIN_LABEL, elem_id="draw-explain")
    follow_drawing(ctx, sketch, explain, clear, (label, seen, hint))
    gr.on(
        [], partial(predict_drawing, ctx), sketch, label, api_name="predict_drawing", concurrency_id="predict",
    )


def follow_drawing(
    ctx: AppContext, sketch: gr.Sketchpad, explain: gr.Checkbox, clear: gr.Button,
    views: tuple[gr.Label, gr.Image, gr.Markdown],
) -> None:
    """Wire a canvas to its prediction, its "what the model sees" image and its hint (Draw tab, classroom view)."""
    # `change`, not `input`: the Sketchpad fires `input` before it has uploaded the new stroke, so that event
    # carries the previous drawing; `change` comes once the canvas is uploaded. always_last: while one prediction
    # runs, later strokes wait as a single request with the newest drawing, so requests never pile up.
    for trigger in (sketch.change, explain.change):
        trigger(
            partial(show_drawing, ctx), [sketch, explain], list(views),
            trigger_mode="always_last", show_progress="hidden", api_visibility="private", concurrency_id="predict",
        )
    clear.click(clear_drawing, None, [sketch, *views], show_progress="hidden", api_visibility="private")


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
        partial(show_upload, ctx), photo, [found, crops, label, hint, text, details],
        trigger_mode="always_last", api_visibility="private", concurrency_id="predict",
    )
    gr.on([], partial(predict_upload, ctx), photo, label, api_name="predict_upload", concurrency_id="predict")
    gr.on([], partial(read_number, ctx), photo, [text, details], api_name="read_number", concurrency_id="predict")
