"""The pipeline step by step (Predictor.steps), and drawings of numbers and of digits in strokes that do not touch
(Predictor.read_drawing)."""

import numpy as np
import pytest

from mnist_app.reading.step_by_step import SKIPPABLE
from mnist_app.synthesis.render import drawn_sheet
from mnist_app.testing.browser import APART, ONE_STROKE, moved, number

# A small 2, up and to the left of the middle of the sheet.
OFF_CENTRE_TWO = drawn_sheet(moved(ONE_STROKE["2"], 0.3, (0.25, 0.25)), pen=10)


def mass_centre(image: np.ndarray) -> np.ndarray:
    rows, cols = np.mgrid[: image.shape[0], : image.shape[1]]
    return np.array([(rows * image).sum(), (cols * image).sum()]) / image.sum()


def test_an_off_centre_digit_is_read_with_the_crop_and_misread_without_it(predictor):
    with_every_step = predictor.steps(OFF_CENTRE_TWO).prediction
    assert with_every_step.digit == 2 and with_every_step.confident
    no_crop = predictor.steps(OFF_CENTRE_TWO, ["crop"]).prediction
    assert no_crop.digit != 2 and no_crop.probabilities[2] < with_every_step.probabilities[2] / 10
    assert predictor.steps(OFF_CENTRE_TWO, list(SKIPPABLE)).prediction.digit != 2


@pytest.mark.parametrize("digit", "02567")
def test_a_hairline_digit_is_read_surer_with_the_pen_made_like_mnists(predictor, digit):
    hairline = drawn_sheet(moved(ONE_STROKE[digit], 0.5, (0.25, 0.25)), pen=3)
    with_pen, without_pen = (predictor.steps(hairline, skip).prediction for skip in ([], ["pen"]))
    assert with_pen.digit == int(digit)
    # Honest probabilities sit near 1 for a clear digit, so compare the odds against it: at least twice as high.
    assert 1 - without_pen.probabilities[int(digit)] > 2 * (1 - with_pen.probabilities[int(digit)])


def test_the_centre_of_mass_step_moves_the_digit_towards_the_middle(predictor):
    """Without the crop the sheet's corner holds the digit; placing by centre of mass pulls it towards the middle."""
    by_mass, in_the_box_middle = (predictor.steps(OFF_CENTRE_TWO, skip) for skip in (["crop"], ["crop", "mass"]))
    offset = [np.abs(mass_centre(w.steps[-1].image) - 14).sum() for w in (by_mass, in_the_box_middle)]
    assert offset[0] < offset[1] - 2
    assert by_mass.prediction.probabilities != in_the_box_middle.prediction.probabilities


def test_the_steps_go_from_the_picture_to_the_28x28_that_predict_gives(predictor):
    walked = predictor.steps(OFF_CENTRE_TWO)
    assert [s.title for s in walked.steps] == [
        "The drawing or photo", "The ink found", SKIPPABLE["crop"], SKIPPABLE["pen"], "Fitted into 20 x 20",
        "Centre of mass (28 x 28)",
    ]
    assert not any(s.skipped for s in walked.steps)
    picture, ink, crop, _, box, input28 = (s.image for s in walked.steps)
    assert crop.size < ink.size / 20  # the small digit, not the sheet
    assert max(box.shape) == 20 and input28.shape == (28, 28)
    predicted = predictor.predict(OFF_CENTRE_TWO)
    assert np.array_equal(input28, predicted.input28)
    assert walked.prediction.probabilities == pytest.approx(predicted.probabilities)


def test_a_step_left_out_is_marked_and_passes_its_picture_on(predictor):
    walked = predictor.steps(OFF_CENTRE_TWO, ["crop", "mass"])
    assert [s.skipped for s in walked.steps] == [False, False, True, False, False, True]
    ink, crop = walked.steps[1].image, walked.steps[2].image
    assert crop.shape == ink.shape  # the whole sheet goes on
    box, input28 = walked.steps[4].image, walked.steps[5].image
    top, left = (28 - box.shape[0]) // 2, (28 - box.shape[1]) // 2
    assert np.array_equal(input28[top : top + box.shape[0], left : left + box.shape[1]], box)  # in the middle


def test_an_unknown_step_is_refused_with_the_ones_there_are(predictor):
    with pytest.raises(ValueError, match="crop, pen, mass"):
        predictor.steps(OFF_CENTRE_TWO, ["blur"])


@pytest.mark.parametrize("digit", sorted(APART))
def test_a_digit_in_strokes_that_do_not_touch_is_one_digit(predictor, digit):
    sheet = drawn_sheet(APART[digit])
    reading = predictor.read_drawing(sheet)
    assert reading.text == digit
    assert reading.digits[0].prediction.probabilities == pytest.approx(predictor.predict(sheet).probabilities)


@pytest.mark.parametrize("text", ["42", "10", "17", "2026"])
def test_a_number_drawn_on_the_canvas_is_read_digit_by_digit(predictor, text):
    reading = predictor.read_drawing(drawn_sheet(number(text)))
    assert reading.text == text
    boxes = [d.box for d in reading.digits]
    assert all(a[2] <= b[0] for a, b in zip(boxes, boxes[1:], strict=False))  # side by side, left to right
    assert all(0 <= x0 < x1 <= 560 and 0 <= y0 < y1 <= 560 for x0, y0, x1, y1 in boxes)


def test_one_digit_drawn_is_read_as_predict_reads_it(predictor):
    for digit, strokes in ONE_STROKE.items():
        sheet = drawn_sheet(strokes)
        reading, predicted = predictor.read_drawing(sheet), predictor.predict(sheet)
        assert reading.text == digit == str(predicted.digit)
        assert reading.digits[0].prediction.probabilities == predicted.probabilities
