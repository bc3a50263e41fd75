"""Decode whatever a user hands in into gray levels at working size.

Accepts a PIL image in any mode, a numpy array, a file path, bytes or Gradio's Sketchpad
value. Applies EXIF orientation, treats transparency as background, and decodes only what is
needed: the size is checked from the header before any pixel is decoded, and JPEGs decode at
reduced scale (draft mode), which is most of the time a 12 MP photo would cost.
"""

import io
import os
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 50_000_000  # refused before decoding: a 12 MP phone photo is far below, a bomb far above
WORK_SIZE = 256  # long side one digit is analysed at: detail enough for a 20x20 digit, cheap to process
PREVIEW_PX = 1024  # uploads are shown, and corrections cropped, from a copy at most this wide or tall
FULL_SCALE = 1 << 30  # a working size no picture reaches: decode every pixel
EMPTY_CANVAS = "The canvas is empty: draw a digit first"


class InvalidImageError(ValueError):
    """The input is not a usable image: unreadable, truncated, empty, missing or too large."""


class NoDigitError(ValueError):
    """The image is readable but shows nothing that could be a digit."""


@dataclass(frozen=True)
class Picture:
    """A decoded image as float gray levels in [0, 1], reduced to working size."""

    gray: np.ndarray  # H x W float32
    scale: float  # original pixels per working pixel
    from_canvas: bool  # had real transparency: strokes on nothing, no paper to clean up
    origin: tuple[float, float] = (0.0, 0.0)  # where the working image's corner lies in the original's pixels

    @property
    def blank(self) -> bool:
        return float(self.gray.max() - self.gray.min()) < 0.04


def load_picture(source: object, work_size: int = WORK_SIZE) -> Picture:
    """Accept a PIL image, a numpy array, a path, bytes or a Gradio Sketchpad dict."""
    if isinstance(source, dict):
        return sketchpad_picture(source, work_size)
    return picture_from_image(*open_image(source, work_size), work_size)


def load_part(source: object, box: tuple[int, int, int, int], work_size: int = WORK_SIZE) -> Picture:
    """The part `box` (upright original pixels, end exclusive) of a picture at working size: a small digit seen
    closer, so the picture is decoded again, at full scale."""
    x0, y0, x1, y1 = box
    part_long_side = max(x1 - x0, y1 - y0)
    image, full_long_side = open_image(source, FULL_SCALE)
    if image.getexif().get(0x0112, 1) != 1:
        image = ImageOps.exif_transpose(image)
    factor = max(image.size) / full_long_side  # decoded pixels per original pixel
    part = image.crop((round(x0 * factor), round(y0 * factor), round(x1 * factor), round(y1 * factor)))
    return replace(picture_from_image(part, part_long_side, work_size), origin=(float(x0), float(y0)))


def open_image(source: object, work_size: int = WORK_SIZE) -> tuple[Image.Image, int]:
    """The image, maybe decoded at reduced scale, and the long side it has at full scale."""
    if isinstance(source, Image.Image):
        check_pixel_count(source.size)
        try:
            source.load()  # an image opened lazily by the caller may still hold undecoded, broken data
        except (OSError, SyntaxError, ValueError, EOFError) as e:
            raise InvalidImageError(f"The image is damaged or truncated and cannot be decoded ({e})") from None
        return source, max(source.size)
    if isinstance(source, np.ndarray):
        image = image_from_array(source)
        return image, max(image.size)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return decode(io.BytesIO(bytes(source)), "The uploaded data", work_size)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise InvalidImageError(f"No image file at {path}")
        with path.open("rb") as f:
            return decode(f, f"The file {path.name}", work_size)
    raise TypeError(
        f"Expected a PIL image, a numpy array, a file path, bytes or a Sketchpad dict, not {type(source).__name__}"
    )


def check_pixel_count(size: tuple[int, int]) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise InvalidImageError("The image is empty (zero pixels)")
    if width * height > MAX_PIXELS:
        raise InvalidImageError(
            f"The image is too large ({width}x{height} pixels); the limit is {MAX_PIXELS // 1_000_000} megapixels"
        )


def decode(stream: io.IOBase, what: str, work_size: int) -> tuple[Image.Image, int]:
    """Decode only what is needed: the size is checked from the header, JPEGs decode at reduced scale."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(stream)
            check_pixel_count(image.size)
            full_long_side = max(image.size)
            image.draft("RGB", draft_size(image.size, work_size))
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidImageError(f"{what} is too large to decode safely (a decompression bomb?)") from None
    except UnidentifiedImageError:
        raise InvalidImageError(f"{what} is not an image format we can read") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as e:
        if isinstance(e, InvalidImageError):
            raise
        raise InvalidImageError(f"{what} is damaged or truncated and cannot be decoded") from None
    return image, full_long_side


def upright_preview(path: str | os.PathLike, longest: int = PREVIEW_PX) -> tuple[Image.Image, float]:
    """A photo file as the predictor saw it (EXIF rotation applied), at most `longest` pixels wide or tall,
    and its size against the full photo. JPEGs decode at reduced scale: no second full decode."""
    with Image.open(path) as image:
        check_pixel_count(image.size)
        sideways = image.getexif().get(0x0112, 1) in (5, 6, 7, 8)  # EXIF orientations that turn by 90 degrees
        full_width = image.height if sideways else image.width
        image.draft("RGB", (longest, longest))
        shown = ImageOps.exif_transpose(image)
        if shown.mode in ("RGBA", "LA", "PA") or "transparency" in shown.info:  # see-through shows as paper
            shown = Image.alpha_composite(Image.new("RGBA", shown.size, "white"), shown.convert("RGBA"))
        shown = shown.convert("RGB")
    shown.thumbnail((longest, longest))
    return shown, shown.width / full_width


def draft_size(size: tuple[int, int], work_size: int) -> tuple[int, int]:
    """The smallest JPEG draft size whose long side still reaches the working size."""
    long_side = max(size)
    factor = next((f for f in (8, 4, 2) if long_side // f >= work_size), 1)
    return size[0] // factor, size[1] // factor


def image_from_array(array: np.ndarray) -> Image.Image:
    if array.size == 0:
        raise InvalidImageError("The image array is empty")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise InvalidImageError(f"Expected an HxW, HxWx3 or HxWx4 array, got shape {array.shape}")
    check_pixel_count((array.shape[1], array.shape[0]))
    if array.dtype == np.uint8:
        pass
    elif array.dtype == np.bool_:
        array = array.astype(np.uint8) * 255
    elif np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all() or array.min() < 0 or array.max() > 1:
            raise InvalidImageError("A float image array must hold values in [0, 1]")
        array = np.round(array * 255).astype(np.uint8)
    elif np.issubdtype(array.dtype, np.integer):
        if array.min() < 0 or array.max() > 255:
            raise InvalidImageError("An integer image array must hold values in 0..255")
        array = array.astype(np.uint8)
    else:
        raise InvalidImageError(f"Cannot read an image array of type {array.dtype}")
    return Image.fromarray(np.ascontiguousarray(array))


def sketchpad_picture(value: dict, work_size: int) -> Picture:
    """Gradio's Sketchpad value: `composite` if present, else the background with the layers on top."""
    composite = value.get("composite")
    if composite is None:
        parts = [p for p in [value.get("background"), *(value.get("layers") or [])] if p is not None]
        if not parts:
            raise NoDigitError(EMPTY_CANVAS)
        images = [converted(open_image(p)[0], "RGBA") for p in parts]
        composite = Image.new("RGBA", images[0].size, (0, 0, 0, 0))
        for layer in images:
            composite.alpha_composite(layer.resize(composite.size) if layer.size != composite.size else layer)
    try:
        picture = picture_from_image(*open_image(composite), work_size)
    except NoDigitError:
        raise NoDigitError(EMPTY_CANVAS) from None
    if picture.blank:
        raise NoDigitError(EMPTY_CANVAS)
    return picture


def picture_from_image(image: Image.Image, full_long_side: int, work_size: int) -> Picture:
    """Upright, reduced to working size, transparency flattened, any mode to gray levels in [0, 1]."""
    if image.getexif().get(0x0112, 1) != 1:  # EXIF orientation: phones store photos sideways
        image = ImageOps.exif_transpose(image)
    factor = max(1, round(max(image.size) / work_size))
    scale = full_long_side / -(-max(image.size) // factor)  # reduce() rounds its size up
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        return Picture(gray_levels(high_depth_to_gray(image), factor), scale, from_canvas=False)
    if image.mode in ("LA", "PA", "La", "RGBA", "RGBa") or "transparency" in image.info:
        if image.mode not in ("LA", "RGBA"):
            image = converted(image, "LA" if image.mode == "La" else "RGBA")
        opacity = gray_levels(image.getchannel("A"), factor)
        if opacity.max() == 0:
            raise NoDigitError("The image is fully transparent: there is nothing to read")
        if opacity.min() < 1 and opacity.mean() < 0.5:  # strokes on a transparent canvas: what is drawn is ink
            return Picture(1 - opacity, scale, from_canvas=True)
        gray = gray_levels(converted(image, "L"), factor)  # a picture with transparent margins: put it on white
        return Picture(gray * opacity + 1 - opacity, scale, from_canvas=False)
    return Picture(gray_levels(converted(image, "L"), factor), scale, from_canvas=False)


def converted(image: Image.Image, mode: str) -> Image.Image:
    """Pillow converts most modes to most others, but not all (LAB to L, for one): refuse those clearly."""
    try:
        return image.convert(mode)
    except ValueError:
        raise InvalidImageError(f"Cannot read an image in Pillow's {image.mode} mode: save it as RGB") from None


def gray_levels(band: Image.Image, factor: int) -> np.ndarray:
    """An 8-bit band, shrunk by averaging factor x factor blocks, as floats in [0, 1]."""
    return np.asarray(band.reduce(factor) if factor > 1 else band, dtype=np.float32) / 255


def high_depth_to_gray(image: Image.Image) -> Image.Image:
    """16-bit and 32-bit images: stretch their own range to 8 bits (Pillow's convert would clip)."""
    values = np.asarray(image)
    # Checked before widening: casting a signalling NaN warns.
    if not np.isfinite(values).all():
        raise InvalidImageError("The image holds values that are not finite numbers")
    values = values.astype(np.float64)  # float32 would overflow subtracting the extremes
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return Image.new("L", image.size, 0)
    return Image.fromarray(np.round((values - low) / (high - low) * 255).astype(np.uint8))
