"""The Draw tab's number view and the "How the network sees it" view, through their handlers (no browser)."""

import gradio as gr
import numpy as np
import pytest

from mnist_app.reading.step_by_step import SKIPPABLE
from mnist_app.synthesis.render import drawn_sheet
from mnist_app.testing.browser import APART, ONE_STROKE, moved, number
from mnist_app.testing.drawings import top_digit
from mnist_app.web import correction_row, number_view, steps_view, widgets
from mnist_app.web.app import build_app


def test_a_number_drawn_shows_the_number_each_digit_boxed_and_its_bars(ctx):
    view = widgets.show_drawing(ctx, drawn_sheet(number("42")))
    assert view.label == {"42": pytest.approx(view.label["42"])} and 0.5 < view.label["42"] <= 1
    assert view.seen.shape == (28 * widgets.SEEN_SCALE, 2 * 28 * widgets.SEEN_SCALE)  # both digits, side by side
    shown = number_view.show_number(view.drawn)
    assert shown.shown.visible and shown.text == "42"
    drawing, boxes = shown.found
    assert drawing.shape[:2] == (560, 560) and [name for _, name in boxes] == ["1: 4", "2: 2"]
    (left, _, left_end, _), (right, _, _, _) = (box for box, _ in boxes)
    assert left < left_end <= right  # the 4's box, then the 2's
    assert [d["digit"] for d in shown.details] == [4, 2] and all(len(d["probabilities"]) == 10 for d in shown.details)


@pytest.mark.parametrize("digit", sorted(APART))
def test_a_digit_in_strokes_apart_shows_as_one_digit_with_no_number_view(ctx, digit):
    label, *_, drawn = widgets.show_drawing(ctx, drawn_sheet(APART[digit]))
    assert top_digit(label) == int(digit) and len(label) == 10
    assert number_view.show_number(drawn) == number_view.show_number(None) == number_view.NumberView()
    assert not number_view.NumberView().shown.visible


def test_explain_on_a_number_says_it_reads_one_digit_at_a_time(ctx):
    view = widgets.show_drawing(ctx, drawn_sheet(number("42")), explain=True)
    assert widgets.EXPLAIN_ONE_DIGIT in view.hint and list(view.label) == ["42"]


def test_read_drawing_gives_the_number_and_each_digit_as_read_number_does(ctx):
    text, digits = number_view.read_drawing(ctx, drawn_sheet(number("42")))
    assert text == "42" and [d["digit"] for d in digits] == [4, 2]
    assert set(digits[0]) == {"digit", "confidence", "confident", "box", "probabilities"}
    assert number_view.read_drawing(ctx, drawn_sheet(APART["7"]))[0] == "7"
    with pytest.raises(gr.Error, match="empty"):
        number_view.read_drawing(ctx, widgets.blank_paper())


def last_read(ctx, sketch: dict) -> widgets.Drawn:
    """What the canvas's prediction keeps for the views under the canvas, after reading `sketch`."""
    return widgets.show_drawing(ctx, sketch).drawn


def test_the_steps_view_shows_each_step_in_order_and_the_reading_with_those_steps(ctx):
    off_centre = last_read(ctx, drawn_sheet(moved(ONE_STROKE["2"], 0.3, (0.25, 0.25)), pen=10))
    every_step = steps_view.show_steps(ctx, off_centre, list(SKIPPABLE), shown=True)
    captions = [caption for _, caption in every_step.pictures]
    assert captions[0] == "1. The drawing or photo" and captions[-1] == "6. Centre of mass (28 x 28)"
    assert all(picture.dtype == np.uint8 and min(picture.shape) >= 28 for picture, _ in every_step.pictures)
    assert top_digit(every_step.label) == 2 and "With every step" in every_step.note
    no_crop = steps_view.show_steps(ctx, off_centre, ["pen", "mass"], shown=True)
    assert "3. Crop to the digit (left out)" in [caption for _, caption in no_crop.pictures]
    assert no_crop.label["2"] < every_step.label["2"] / 10
    assert "Left out: Crop to the digit." in no_crop.note and "reads a **2**" not in no_crop.note


def test_the_closed_steps_view_does_no_work_and_an_empty_canvas_shows_nothing(ctx):
    drawn = last_read(ctx, drawn_sheet(ONE_STROKE["3"]))
    assert steps_view.show_steps(ctx, drawn, list(SKIPPABLE), shown=False) == steps_view.UNCHANGED
    assert last_read(ctx, widgets.blank_paper()) is None and widgets.clear_drawing().drawn is None
    assert steps_view.show_steps(ctx, None, list(SKIPPABLE), shown=True) == steps_view.StepsView()


def test_a_correction_of_a_number_drawn_is_refused_and_nothing_is_saved(ctx):
    with pytest.raises(gr.Error, match="one digit"):
        correction_row.correct_drawing(ctx, drawn_sheet(number("42")), 4)
    assert ctx.corrections.count() == 0
    message, _ = correction_row.correct_drawing(ctx, drawn_sheet(APART["4"]), 9)  # one digit in strokes apart
    assert "saved as a 9" in message and ctx.corrections.count() == 1


def test_the_draw_tab_and_the_classroom_view_have_the_steps_closed_at_first(ctx):
    components = {c["props"].get("elem_id"): c for c in build_app(ctx).config["components"]}
    for page in ("draw", "classroom"):
        accordion = components[f"{page}-steps"]
        assert accordion["type"] == "accordion" and accordion["props"]["open"] is False
        assert accordion["props"]["label"] == steps_view.TITLE
        assert components[f"{page}-steps-on"]["props"]["value"] == list(SKIPPABLE)  # every step on at first
