"""Under the Draw tab's canvas when a number is drawn: the number read, each digit's box on the drawing and each
digit's bars, as the Upload tab shows a photo's digits. Hidden while the drawing is one digit."""

from functools import partial
from typing import Any, NamedTuple

import gradio as gr

from mnist_app.web.context import AppContext
from mnist_app.web.upload_tab import digit_results
from mnist_app.web.widgets import Drawn, ViewUnder, api_call


class NumberView(NamedTuple):
    """The number view's outputs, in the order `number_view` wires them. By default hidden, the rest left as it
    is: a new value for the details would re-render the per-digit bars, a request of its own after every stroke."""

    shown: Any = gr.Column(visible=False)  # the view's column, shown or hidden
    text: Any = gr.skip()
    found: Any = gr.skip()  # the drawing and its digit boxes
    details: Any = gr.skip()  # each digit's box and probabilities


def read_drawing(ctx: AppContext, sketch: dict | None) -> tuple[str, list[dict]]:
    """API /read_drawing: the Sketchpad's value in; the number and each digit's box and probabilities out, as
    /read_number gives them for a photo. One digit, however many strokes it took, is a number of one digit."""
    reading = api_call(ctx.predictor.read_drawing, sketch)
    return reading.text, digit_results(reading)


def show_number(drawn: Drawn | None) -> NumberView:
    """Shown for several digits; hidden for one, or none."""
    if drawn is None or len(drawn.reading.digits) < 2:
        return NumberView()
    boxes = [(d.box, f"{i + 1}: {d.prediction.digit}") for i, d in enumerate(drawn.reading.digits)]
    found = (drawn.drawing, boxes) if drawn.drawing is not None else None
    return NumberView(gr.Column(visible=True), drawn.reading.text, found, digit_results(drawn.reading))


def number_view(ctx: AppContext, sketch: gr.Sketchpad) -> ViewUnder:
    """Laid out where it is called; updated by the canvas's own prediction (`widgets.follow_drawing`)."""
    with gr.Column(visible=False, elem_id="draw-number-view") as shown:
        text = gr.Textbox(label="Number read", interactive=False, elem_id="draw-number")
        with gr.Row():
            found = gr.AnnotatedImage(label="Digits found", height=280, elem_id="draw-found")
            with gr.Column():
                with gr.Accordion("Per-digit results", open=False):
                    details = gr.JSON(label="Digits, left to right: box (x0, y0, x1, y1) and probabilities")

                @gr.render(inputs=details)
                def digit_bars(digits: list[dict] | None) -> None:
                    with gr.Row(elem_id="draw-digit-bars"):
                        for i, digit in enumerate(digits or []):
                            gr.Label(
                                {str(d): p for d, p in enumerate(digit["probabilities"])}, num_top_classes=3,
                                label=f"Digit {i + 1}", min_width=140,
                            )

    gr.on([], partial(read_drawing, ctx), sketch, [text, details], api_name="read_drawing", concurrency_id="predict")
    return ViewUnder([], list(NumberView(shown, text, found, details)), show_number, NumberView(gr.skip()))
