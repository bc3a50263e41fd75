"""The Draw tab: a canvas, its prediction after each stroke, the correction row and the explanation; during a
lesson, a line saying that the drawings appear on the class screen."""

from functools import partial

import gradio as gr

from mnist_app.web import widgets
from mnist_app.web.accessibility import SEEN_ALT
from mnist_app.web.context import AppContext
from mnist_app.web.correction_row import correct_drawing, correction_row
from mnist_app.web.number_view import number_view
from mnist_app.web.steps_view import steps_view
from mnist_app.web.wall_feed import follow_lesson

CANVAS_SHOWN = 480  # the canvas's height on screen, in CSS pixels


def predict_drawing(ctx: AppContext, sketch: dict | None) -> dict[str, float]:
    """API /predict_drawing: the Sketchpad's value in, the 10 digits' probabilities out."""
    return widgets.label_value(widgets.api_call(ctx.predictor.predict, sketch))


def draw_tab(ctx: AppContext) -> None:
    # Three columns, so that the canvas, the answer and its bars, the 28x28 and Explain fit a 1280x800 screen; the
    # bars' box keeps its height while empty (app.CSS), so the first answer moves nothing.
    with gr.Row(elem_id="draw-row"):
        with gr.Column(scale=4):
            sketch = widgets.drawing_canvas("canvas", CANVAS_SHOWN)
            clear = gr.Button("Clear", variant="secondary", elem_id="clear")
            notice = gr.Markdown(visible=False, elem_id="draw-lesson-notice")
            seat = follow_lesson(ctx, notice, clear)  # a timer and states: nothing on screen
        with gr.Column(scale=3):
            hint = gr.Markdown(widgets.START_HINT, elem_id="draw-hint", elem_classes="hint")
            label = gr.Label(num_top_classes=10, label="Prediction", elem_id="draw-label")
        with gr.Column(scale=3):
            seen = gr.Image(
                label="What the model sees (28 x 28)", format="png", interactive=False,
                height=240, elem_id="draw-seen", buttons=[], alt_text=SEEN_ALT,
            )
            explain = gr.Checkbox(label=widgets.EXPLAIN_LABEL, elem_id="draw-explain")
            states = widgets.drawing_states()
            correction_row(
                ctx, sketch, correct_drawing, "draw", "correct_drawing", fresh_start=[clear.click],
                drawing=seat.drawing, shown=states.drawn,
            )
    under = (number_view(ctx, sketch), steps_view(ctx, states.drawn, "draw"))
    widgets.follow_drawing(ctx, sketch, explain, clear, (label, seen, hint), states, seat, under)
    gr.on(
        [], partial(predict_drawing, ctx), sketch, label, api_name="predict_drawing", concurrency_id="predict",
    )
