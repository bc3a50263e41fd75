"""Pictures that are not digits, for tests and benchmarks: letters as a student would draw or write them, and
screenshots of text.

A letter is made as MNIST's digits are (white on black, fitted into 20x20 of 28x28), so that `render.py` draws it
with the same pens, paper and chalk as the digits: letter_image("A", font) goes where an MNIST digit would.
"""

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_FOLDERS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation"))
FONT_NAMES = ("DejaVuSans.ttf", "DejaVuSerif.ttf", "LiberationSans-Regular.ttf", "LiberationSerif-Regular.ttf")
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Pack my box with five dozen liquor jugs, and",
    "then write the answers below in your notebook.",
    "Homework is due on Monday: read chapter two.",
    "Sphinx of black quartz, judge my vow, please.",
    "How vexingly quick daft zebras jump at noon!",
)
GLYPH_PX = 96  # letters are drawn this large, then fitted into MNIST's 20x20 box


def fonts() -> list[str | None]:
    """Installed DejaVu and Liberation fonts (Debian's fonts-dejavu-core, fonts-liberation); where none is, None:
    Pillow's own default font, which every install has."""
    found = [str(folder / name) for folder in FONT_FOLDERS for name in FONT_NAMES if (folder / name).exists()]
    return found or [None]


def font_of(path: str | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size) if path is None else ImageFont.truetype(path, size)


def letter_image(letter: str, font: str | None) -> np.ndarray:
    """The letter white on black, fitted into 20x20 and centred in 28x28, uint8: as MNIST shows a digit."""
    canvas = Image.new("L", (2 * GLYPH_PX, 2 * GLYPH_PX), 0)
    ImageDraw.Draw(canvas).text((GLYPH_PX // 2, GLYPH_PX // 4), letter, font=font_of(font, GLYPH_PX), fill=255)
    glyph = canvas.crop(canvas.getbbox())
    scale = 20 / max(glyph.size)
    glyph = glyph.resize((max(1, round(glyph.width * scale)), max(1, round(glyph.height * scale))), Image.LANCZOS)
    out = Image.new("L", (28, 28), 0)
    out.paste(glyph, ((28 - glyph.width) // 2, (28 - glyph.height) // 2))
    return np.asarray(out)


def letters_in_every_font(letters: str) -> np.ndarray:
    """`letters` in each installed font (fonts()), font by font, as letter_image draws them: N x 28 x 28 uint8."""
    return np.stack([letter_image(letter, font) for font in fonts() for letter in letters])


def text_screenshot(lines: int, font: str | None, size: int, rng: np.random.Generator) -> bytes:
    """A PNG screenshot of `lines` lines of dark text on a light page, `size` px type."""
    chosen = rng.choice(len(SENTENCES), size=lines, replace=lines > len(SENTENCES))
    face = font_of(font, size)
    width = round(size * 28 + rng.uniform(40, 200))
    paper = tuple(int(v) for v in rng.integers(235, 256, 3))
    page = Image.new("RGB", (width, round((lines + 1.5) * size * 1.6)), paper)
    draw = ImageDraw.Draw(page)
    ink = tuple(int(v) for v in rng.integers(0, 70, 3))
    for row, index in enumerate(chosen):
        draw.text((size, size + row * size * 1.6), SENTENCES[index], font=face, fill=ink)
    out = io.BytesIO()
    page.save(out, "PNG")
    return out.getvalue()
