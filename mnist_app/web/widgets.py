"""The pieces the Draw tab and the classroom view share: the canvas, its handlers, and how a prediction is shown
(the bars, the 28x28 the model saw, the hint when it is unsure)."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

import gradio as gr
import numpy as np

from mnist_app.reading.explain import close_runner_up, evidence_image, evidence_map
from mnist_app.reading.not_a_digit import NOT_A_DIGIT, drawing_doubt
from mnist_app.reading.predict import InvalidImageError, NoDigitError, NumberReading, Prediction
from mnist_app.web.accessibility import live_region, spoken_answer
from mnist_app.web.canvas_sending import CANVAS_CLASS, load_blank_sheets, sent_drawing, stroke_box
from mnist_app.web.context import AppContext
from mnist_app.web.refusals import refused
from mnist_app.web.wall_feed import WallSeat, put_on_wall

CANVAS_SIZE = 560  # 20x MNIST's 28 pixels
PEN_RADIUS = 14  # a felt-tip pen on the canvas: about 1.4 MNIST pixels wide once scaled down
SEEN_SCALE = 8  # the 28x28 input is shown 224 px wide, each pixel a sharp square
START_HINT = "Draw a digit from 0 to 9: the prediction updates after each stroke."
EXPLAIN_LABEL = "Explain: show which pixels decided"
# Clear swaps the sheet's white between these two (no eye tells them apart), so that the server can tell a drawing
# on the sheet before Clear from one on the new sheet: see `show_drawing`.
SHEET_WHITES = (255, 254)
EXPLAIN_ONE_DIGIT = "Explain reads one digit at a time: Clear and draw one digit."


@dataclass(frozen=True, eq=False)  # hashed by identity: Gradio hashes a State's value to see whether it changed
class Drawn:
    """The drawing last read on a canvas and what was read, for the views under the canvas (the number, the steps):
    kept in a State, they need not take the Sketchpad as an input, which the page would encode and upload again."""

    sketch: dict  # the Sketchpad's value
    reading: NumberReading

    @property
    def drawing(self) -> np.ndarray | None:
        """The canvas as the student sees it (None: the value had layers but no composite)."""
        composite = self.sketch.get("composite")
        return composite if isinstance(composite, np.ndarray) else None


class DrawingView(NamedTuple):
    """What a canvas's prediction shows, in the order of `follow_drawing`'s views, then what a screen reader
    announces and what was drawn (for the views under the canvas): nothing, until a digit is drawn."""

    label: dict[str, float] | None = None
    seen: np.ndarray | None = None
    hint: str = START_HINT
    spoken: str = ""
    drawn: Drawn | None = None


STALE = DrawingView(gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip())  # leaves the page as it is


class DrawingStates(NamedTuple):
    """The per-page states of a canvas's prediction (see `drawing_states`), for the views other modules add under
    a canvas."""

    sheet: gr.Number  # the white of the sheet on the canvas now (see SHEET_WHITES); hidden, set by Clear
    drawn: gr.State  # the Drawn, or None


def drawing_states() -> DrawingStates:
    """A fresh canvas's states: the first sheet's white, nothing read yet. The sheet is a hidden number, not a
    State, because its change loads the blank sheet into the canvas in the page (web/canvas_sending.py)."""
    return DrawingStates(gr.Number(SHEET_WHITES[0], visible="hidden", precision=0), gr.State())


class ViewUnder(NamedTuple):
    """A view under a canvas that each stroke's own request updates, so that a stroke costs one request: not a
    request of its own on a change of the Drawn state. `show(drawn, *values of inputs)` gives its outputs' values;
    `unchanged` leaves them as they are (for a late drawing, see `show_drawing`)."""

    inputs: list[gr.components.Component]
    outputs: list[gr.components.Component]
    show: Callable[..., tuple]
    unchanged: tuple


class ClearedCanvas(NamedTuple):
    """Clear's outputs: no prediction (`DrawingView`'s fields) and the new sheet's white, whose blank sheet the page
    then loads into the canvas."""

    label: None = None
    seen: None = None
    hint: str = START_HINT
    spoken: str = ""
    drawn: None = None
    sheet: int = SHEET_WHITES[0]


def blank_paper(white: int = SHEET_WHITES[0]) -> dict:
    """The canvas's value when nothing is drawn: a white sheet and one empty ink layer.

    The sheet: Gradio 6's Sketchpad starts with no tool selected when its value is empty, and its own clear
    button drops the tool again, so a student's first stroke would draw nothing. With a background image the
    editor selects the brush as soon as it has loaded that image (on page load and each time the server sets it).

    The empty layer: the Sketchpad's front end drops the first change after it mounts, taking it for the one that
    loading a value causes. Loading a background alone causes none (only loading layers does), so without a layer
    the dropped change was the student's first stroke, and it was never read. With one, loading it is the change
    that is dropped, and every stroke after it is read.
    """
    paper = np.full((CANVAS_SIZE, CANVAS_SIZE, 4), (white, white, white, 255), np.uint8)
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
        elem_classes=[CANVAS_CLASS],
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


def a_digit(digit: int) -> str:
    """"a 7", "an 8": the article as the digit is spoken."""
    return f"an {digit}" if digit == 8 else f"a {digit}"


def not_a_digit_hint(reason: str) -> str:
    """The plain answer for letters, text and scribbles. Its class hides the bars' headline digit (app.CSS)."""
    return f'<strong class="not-a-digit">{NOT_A_DIGIT}</strong>: {reason}.'


def doubt_hint(prediction: Prediction) -> str:
    if prediction.confident:
        return ""
    reason = drawing_doubt(prediction)
    if reason:
        return not_a_digit_hint(reason)
    first, second = two_best(prediction)
    return (
        f"**Not sure.** Maybe {a_digit(first)} ({100 * prediction.probabilities[first]:.0f}%), "
        f"maybe {a_digit(second)} ({100 * prediction.probabilities[second]:.0f}%). "
        "If it is not a digit, no answer is right."
    )


def explain_legend(top: int, runner_up: int | None) -> str:
    """In words as well as colours: light against dark tells the two apart without seeing hue."""
    if runner_up is None:
        return (f"**Orange** (light): evidence for {top}. **Blue** (dark): ink against it. No other digit comes "
                f"close, so {top} alone.")
    return f"**Orange** (light): evidence for {top}. **Blue** (dark): evidence for {runner_up}."


def on_another_sheet(sketch: dict, sheet: int) -> bool:
    """Whether the drawing was made on a sheet that Clear has since replaced (see SHEET_WHITES)."""
    background = sketch.get("background")
    return isinstance(background, np.ndarray) and background.ndim == 3 and int(background[0, 0, 0]) != sheet


def show_drawing(
    ctx: AppContext, sketch: dict | None, explain: bool = False, sheet: int | None = None,
    drawing: str | None = None, lesson: int | None = None,
) -> DrawingView:
    """Draw tab and classroom view, after each stroke: the probabilities, what the model saw (with `explain`,
    tinted by which pixels decided between its two best guesses), and a hint when in doubt.

    `sheet` is the white of the sheet on the canvas now. The page may send a drawing late: Gradio's front end reads
    the canvas for a queued prediction before the request goes out, and a press of Clear can come in between. An
    answer for the sheet before Clear would put old bars over the cleared canvas, so it changes nothing.

    `drawing` and `lesson` (the Draw tab's WallSeat): the drawing also goes on the wall of the lesson the page
    announces, while that lesson runs."""
    if sketch is None:
        return DrawingView()
    if sheet is not None and on_another_sheet(sketch, sheet):
        return STALE
    predictor = ctx.predictor  # one model for the prediction and its explanation, even if a deploy swaps it
    try:
        reading = predictor.read_drawing(sketch)
    except NoDigitError:
        return DrawingView()
    except (InvalidImageError, TypeError) as e:
        return cannot_read(e)
    drawn = Drawn(sketch, reading)
    if len(reading.digits) > 1:
        return number_drawn(drawn, explain)
    prediction = reading.digits[0].prediction
    put_on_wall(ctx, sketch, prediction, drawing, lesson)
    spoken = spoken_answer(prediction)
    if not explain:
        return DrawingView(
            label_value(prediction), pixelated(prediction.input28), doubt_hint(prediction), spoken, drawn,
        )
    top, runner_up = prediction.digit, close_runner_up(prediction.probabilities)
    evidence = evidence_map(predictor.model, prediction.input28, top, runner_up)
    hint = "\n\n".join(line for line in (doubt_hint(prediction), explain_legend(top, runner_up)) if line)
    return DrawingView(
        label_value(prediction), pixelated(evidence_image(prediction.input28, evidence)), hint, spoken, drawn,
    )


def cannot_read(error: Exception) -> DrawingView:
    return DrawingView(hint=f"**Cannot read the drawing:** {error}")


def number_drawn(drawn: Drawn, explain: bool) -> DrawingView:
    """Several digits: the number as the headline, what the model saw of each digit side by side, and a hint when
    it is unsure of some of them."""
    predictions = [d.prediction for d in drawn.reading.digits]
    surest = float(np.prod([max(p.probabilities) for p in predictions]))  # of every digit at once
    doubtful = [str(i + 1) for i, p in enumerate(predictions) if not p.confident]
    hint = "\n\n".join(
        line for line in (
            f"**Not sure about digit {', '.join(doubtful)}.**" if doubtful else "",
            EXPLAIN_ONE_DIGIT if explain else "",
        ) if line
    )
    seen = pixelated(np.hstack([p.input28 for p in predictions]))
    spoken = f"{'Not sure: maybe ' if doubtful else ''}{drawn.reading.text}, {round(100 * surest)} percent"
    return DrawingView({drawn.reading.text: surest}, seen, hint, spoken, drawn)


def clear_drawing(sheet: int = SHEET_WHITES[0]) -> ClearedCanvas:
    """A blank sheet of the other white (see SHEET_WHITES), and no prediction."""
    white = SHEET_WHITES[1] if sheet == SHEET_WHITES[0] else SHEET_WHITES[0]
    return ClearedCanvas(sheet=white)


def views_under(under: list[ViewUnder], drawn: Drawn | None, values: tuple) -> list:
    """The values of the views under a canvas for `drawn`; `values` are their inputs' values, view after view."""
    shown = []
    for extra in under:
        mine, values = values[: len(extra.inputs)], values[len(extra.inputs):]
        shown += extra.show(drawn, *mine)
    return shown


def read_stroke(
    ctx: AppContext, canvas: gr.Sketchpad, under: list[ViewUnder], seated: bool, stroke_id: str | None,
    explain: bool, sheet: int, drawn: Drawn | None, *values: Any,
) -> tuple:
    """After each stroke, in one request: `show_drawing`'s view, then each view under the canvas, in the order of
    `follow_drawing`'s outputs. The drawing is the one `canvas` sent under `stroke_id`, or, when that was read
    already (the Explain box changed), the one read last. `values`: the seat's drawing and lesson when `seated`,
    then the views' inputs."""
    seat, values = (values[:2], values[2:]) if seated else ((), values)
    try:
        sketch = sent_drawing(canvas, stroke_id) or (drawn.sketch if drawn is not None else None)
    except InvalidImageError as e:
        return (*cannot_read(e), *views_under(under, None, values))
    view = show_drawing(ctx, sketch, explain, sheet, *seat)
    if view is STALE:
        return (*view, *(value for extra in under for value in extra.unchanged))
    return (*view, *views_under(under, view.drawn, values))


def clear_canvas(under: list[ViewUnder], sheet: int, *values: Any) -> tuple:
    """Clear: `clear_drawing`, then the views under the canvas as for no drawing."""
    return (*clear_drawing(sheet), *views_under(under, None, values))


def follow_drawing(
    ctx: AppContext, sketch: gr.Sketchpad, explain: gr.Checkbox, clear: gr.Button,
    views: tuple[gr.Label, gr.Image, gr.Markdown], states: DrawingStates, seat: WallSeat | None = None,
    under: tuple[ViewUnder, ...] = (),
) -> None:
    """Wire a canvas to its prediction, its "what the model sees" image and its hint (Draw tab, classroom view),
    to the views `under` it, and to a line a screen reader announces, laid out here: it takes no room on screen.
    With a `seat`, its drawings also go on a running lesson's wall."""
    # The canvas is never an input or output of a server event (web/canvas_sending.py): a stroke reaches the server
    # as the id its images were sent under, and Clear's blank sheet is loaded in the page. The canvas's `change`,
    # not `input`, passes the id on: the Sketchpad fires `input` before it has sent the new stroke. always_last:
    # while one prediction runs, later strokes wait as a single request with the newest drawing, so requests never
    # pile up. One event for the stroke and the Explain box, so that their answers come back in order: as two, a
    # stroke's answer without the explanation could arrive after the box's and put back the plain view under a
    # ticked box.
    spoken = live_region(f"{sketch.elem_id}-spoken")
    stroke = stroke_box(sketch)
    load_blank_sheets(states.sheet, sketch, {white: blank_paper(white) for white in SHEET_WHITES})
    outputs = [*views, spoken, states.drawn]
    under_inputs = [c for extra in under for c in extra.inputs]
    under_outputs = [c for extra in under for c in extra.outputs]
    gr.on(
        [stroke.change, explain.change], partial(read_stroke, ctx, sketch, list(under), seat is not None),
        [stroke, explain, states.sheet, states.drawn, *(seat or ()), *under_inputs], [*outputs, *under_outputs],
        trigger_mode="always_last", show_progress="hidden", api_visibility="private", concurrency_id="predict",
    )
    clear.click(
        partial(clear_canvas, list(under)), [states.sheet, *under_inputs],
        [*outputs, states.sheet, *under_outputs], show_progress="hidden", api_visibility="private",
    )


def api_call(read: Callable[[object], Any], image: object) -> Any:
    """Run a predictor method; bad input becomes a gr.Error whose message reaches the API caller."""
    if image is None:
        raise refused("No image was sent")
    try:
        return read(image)
    except (NoDigitError, InvalidImageError, TypeError) as e:
        raise refused(str(e)) from None
