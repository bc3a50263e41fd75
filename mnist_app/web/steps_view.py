""""How the network sees it": under a canvas, in an accordion closed at first, the steps from the drawing to the
network's 28x28 as small pictures, with a switch for each step that can be left out and the probabilities the
network gives without it. Computed only while the accordion is open, from the drawing the canvas's prediction
last read (widgets.Drawn): a closed one costs a stroke next to nothing."""

from functools import partial
from typing import NamedTuple

import gradio as gr
import numpy as np

from mnist_app.reading.predict import InvalidImageError, NoDigitError
from mnist_app.reading.step_by_step import SKIPPABLE, Step
from mnist_app.web.context import AppContext
from mnist_app.web.widgets import Drawn, ViewUnder, label_value, pixelated

TITLE = "How the network sees it"
STEPS_HINT = (
    "The steps from your drawing to the 28 x 28 the network reads. Untick a step to see what the network makes of "
    "the drawing without it: draw a small digit in a corner and untick **Crop to the digit**."
)
THUMBNAIL = 168  # pixels a step's picture is enlarged to (at least), with square pixels


class StepsView(NamedTuple):
    """The step view's outputs, in the order `steps_view` wires them: no pictures until a digit is drawn."""

    pictures: list[tuple[np.ndarray, str]] | None = None
    label: dict[str, float] | None = None
    note: str = STEPS_HINT


UNCHANGED = StepsView(gr.skip(), gr.skip(), gr.skip())


def step_picture(step: Step) -> np.ndarray:
    """The step's picture as 8-bit gray, small ones enlarged with square pixels so that each pixel shows."""
    return pixelated(step.image, max(1, THUMBNAIL // max(step.image.shape)))


def caption(number: int, step: Step) -> str:
    return f"{number}. {step.title}" + (" (left out)" if step.skipped else "")


def show_steps(ctx: AppContext, drawn: Drawn | None, steps_on: list[str] | None, shown: bool) -> StepsView:
    """The steps for the drawing last read, with the steps not in `steps_on` left out; nothing changes while the
    view is closed (`shown` False)."""
    if not shown:
        return UNCHANGED
    if drawn is None:
        return StepsView()
    left_out = [key for key in SKIPPABLE if key not in (steps_on or [])]
    try:
        walked = ctx.predictor.steps(drawn.sketch, left_out)
    except NoDigitError:
        return StepsView()
    except (InvalidImageError, TypeError) as e:
        return StepsView(note=f"**Cannot read the drawing:** {e}")
    prediction = walked.prediction
    steps_used = f"Left out: {', '.join(SKIPPABLE[k] for k in left_out)}." if left_out else "With every step,"
    sure = max(prediction.probabilities)
    note = f"{steps_used} the network reads a **{prediction.digit}** ({100 * sure:.0f}%)."
    pictures = [(step_picture(step), caption(i + 1, step)) for i, step in enumerate(walked.steps)]
    return StepsView(pictures, label_value(prediction), note)


def steps_view(ctx: AppContext, drawn: gr.State, prefix: str) -> ViewUnder:
    """Laid out where it is called, for the canvas whose Drawn state is `drawn`; a stroke updates it through the
    canvas's own prediction (`widgets.follow_drawing`), opening it and its switches through requests of their own."""
    with gr.Accordion(TITLE, open=False, elem_id=f"{prefix}-steps") as accordion:
        note = gr.Markdown(STEPS_HINT, elem_id=f"{prefix}-steps-note")
        pictures = gr.Gallery(
            label="From the drawing to the 28 x 28, step by step", columns=6, height=240, object_fit="contain",
            allow_preview=False, elem_id=f"{prefix}-steps-pictures",
        )
        with gr.Row():
            steps_on = gr.CheckboxGroup(
                [(title, key) for key, title in SKIPPABLE.items()], value=list(SKIPPABLE), scale=2,
                label="Steps on", elem_id=f"{prefix}-steps-on",
            )
            label = gr.Label(num_top_classes=3, label="The network's reading with these steps", scale=1,
                             elem_id=f"{prefix}-steps-label")
    shown = gr.State(False)
    update = partial(show_steps, ctx)
    inputs, outputs = [drawn, steps_on, shown], list(StepsView(pictures, label, note))
    options = {"show_progress": "hidden", "api_visibility": "private", "concurrency_id": "predict"}
    accordion.expand(lambda: True, None, shown, **options).then(update, inputs, outputs, **options)
    accordion.collapse(lambda: False, None, shown, **options)
    steps_on.change(update, inputs, outputs, trigger_mode="always_last", **options)
    return ViewUnder([steps_on, shown], outputs, update, UNCHANGED)
