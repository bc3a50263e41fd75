"""Hostile input, generated: whatever arrives, the pipeline answers or raises a documented error.

Documented: NoDigitError and InvalidImageError (both ValueError) for input of a right type, TypeError
for a wrong type. Anything else (an IndexError deep in preprocessing, a crash in Pillow) would reach
a student as a server error, so it fails here.
"""

import io
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from mnist_app.reading.mnist_style import prepare_digit
from mnist_app.reading.predict import InvalidImageError, NoDigitError, Prediction, Predictor

DOCUMENTED = (NoDigitError, InvalidImageError)
# derandomize: CI sees the same examples on every run (a failure is reproducible, never a flake); to search
# further, run with a larger max_examples and derandomize=False.
FUZZ = settings(
    max_examples=150, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
MODES = ["1", "L", "P", "RGB", "RGBA", "RGBa", "LA", "La", "PA", "I", "I;16", "F", "CMYK", "YCbCr", "LAB", "HSV"]
FORMATS = ["PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP"]


def assert_well_formed(prediction: Prediction) -> None:
    assert 0 <= prediction.digit <= 9 and len(prediction.probabilities) == 10
    assert all(math.isfinite(p) and 0 <= p <= 1 for p in prediction.probabilities)
    assert sum(prediction.probabilities) == pytest.approx(1, abs=1e-4)
    assert prediction.input28.shape == (28, 28) and 0 <= prediction.input28.min() <= prediction.input28.max() <= 1


def read_or_refuse(predictor: Predictor, source: object) -> None:
    """Predict and read the number; only the documented errors may come out."""
    try:
        assert_well_formed(predictor.predict(source))
    except DOCUMENTED:
        pass
    try:
        reading = predictor.read_number(source)
    except DOCUMENTED:
        return
    assert reading.text == "".join(str(d.prediction.digit) for d in reading.digits) and reading.digits
    for digit in reading.digits:
        assert_well_formed(digit.prediction)


small_sides = st.integers(0, 48)
arrays = hnp.arrays(
    dtype=st.sampled_from([np.uint8, np.int8, np.int16, np.int64, np.uint16, np.float16, np.float32, np.float64,
                           np.bool_, np.complex64]),
    shape=st.one_of(
        st.tuples(small_sides, small_sides),
        st.tuples(small_sides, small_sides, st.sampled_from([1, 2, 3, 4, 5])),
        hnp.array_shapes(min_dims=0, max_dims=4, max_side=6),
    ),
)


@FUZZ
@given(array=arrays)
def test_any_numpy_array(predictor, array):
    read_or_refuse(predictor, array)


@st.composite
def pil_images(draw) -> Image.Image:
    mode = draw(st.sampled_from(MODES))
    size = (draw(st.integers(1, 64)), draw(st.integers(1, 64)))
    needed = len(Image.new(mode, size).tobytes())
    data = draw(st.binary(min_size=needed, max_size=needed) | st.just(bytes(needed)) | st.just(b"\xff" * needed))
    return Image.frombytes(mode, size, data)


@FUZZ
@given(image=pil_images())
def test_any_pillow_image_in_any_mode(predictor, image):
    read_or_refuse(predictor, image)


@FUZZ
@given(data=st.binary(max_size=2000))
def test_any_bytes(predictor, data):
    read_or_refuse(predictor, data)


@st.composite
def damaged_files(draw) -> bytes:
    """A real image file of some format, maybe truncated and with some bytes overwritten."""
    pixels = draw(hnp.arrays(np.uint8, st.tuples(st.integers(1, 48), st.integers(1, 48), st.just(4))))
    image = Image.fromarray(pixels).convert(draw(st.sampled_from(["L", "LA", "RGB", "RGBA", "P", "1", "I;16"])))
    fmt = draw(st.sampled_from(FORMATS))
    if fmt in ("JPEG", "GIF", "BMP", "WEBP") and image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    data = bytearray(buffer.getvalue())
    data = data[: draw(st.integers(0, len(data)))]
    for _ in range(draw(st.integers(0, 8))):
        if data:
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


@FUZZ
@given(data=damaged_files())
def test_image_files_truncated_or_with_flipped_bytes(predictor, data, tmp_path_factory):
    read_or_refuse(predictor, data)
    path = tmp_path_factory.mktemp("fuzz") / "upload.png"
    path.write_bytes(data)
    read_or_refuse(predictor, str(path))


sketch_parts = st.one_of(st.none(), arrays, pil_images(), st.binary(max_size=100))


@FUZZ
@given(
    value=st.fixed_dictionaries(
        {}, optional={"background": sketch_parts, "layers": st.one_of(st.none(), st.lists(sketch_parts, max_size=3)),
                      "composite": sketch_parts},
    )
)
def test_any_sketchpad_value_made_of_images_arrays_and_bytes(predictor, value):
    read_or_refuse(predictor, value)


wrong_types = st.one_of(
    st.none(), st.integers(), st.floats(), st.booleans(), st.lists(st.integers(), max_size=3),
    st.tuples(st.integers()), st.sets(st.integers(), max_size=2), st.just(object()), st.just(Ellipsis),
)


@FUZZ
@given(value=wrong_types)
def test_wrong_types_raise_type_error(predictor, value):
    with pytest.raises(TypeError):
        predictor.predict(value)
    with pytest.raises(TypeError):
        predictor.read_number(value)


@FUZZ
@given(text=st.text(max_size=40))
def test_any_text_is_read_as_a_path_that_is_missing_or_not_an_image(text):
    try:
        prepare_digit(text)
    except DOCUMENTED:
        pass
