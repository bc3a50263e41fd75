"""Digits in hands that are not MNIST's: handwriting fonts packaged by Debian and by fontsource (npm), and
scikit-learn's 13 writers, drawn the ways people give them to the app.

MNIST-rendered inputs (`render.py`) re-draw MNIST's own writers; these are other hands. Each hand is in exactly
one split: "dev" hands may be looked at, trained and tuned on; "report" hands only ever measure. scikit-learn's
digits are report-only. The split is fixed by the names of each family's hands, not by which fonts a machine has.

A digit becomes a 112x112 picture laid out as MNIST lays out its 28x28 (fit into the middle 80x80, the aspect
kept), so `render.render` can redraw it with any pen; `draw` adds the styles render.py lacks.
"""

import functools
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from mnist_app.synthesis import render

# Handwriting fonts of Google Fonts as fontsource packages them for npm (SIL Open Font License 1.1), a second family
# of hands: `npm install --prefix FONTSOURCE_DIR @fontsource/NAME@5` for each (benchmarks/other_hands.py). Its
# development hands are the measure of unseen hands (docs/training.md); `--font-digits` draws Debian's unless
# `--font-families` names this family too.
FONTSOURCE_DIR = Path(os.environ.get("MNIST_APP_FONTSOURCE", Path.home() / ".cache" / "mnist-app" / "fontsource"))
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), FONTSOURCE_DIR)
# hand -> font file name, from Debian's packages (apt-get install fonts-dkg-handwriting fonts-breip ...:
# see benchmarks/other_hands.py). A family is one hand: its bold and italic are the same writer.
FONTS = {
    "aoyagi-soseki": "aoyagi-soseki.ttf", "breip": "Breip.ttf", "bwht-build": "BecauseWeBuild-Regular.otf",
    "bwht-connect": "BecauseWeConnect-Regular.otf", "bwht-create": "BecauseWeCreate-Regular.otf",
    "bwht-learn": "BecauseWeLearn-Regular.otf", "bwht-mentor": "BecauseWeMentor-Regular.otf",
    "bwht-organize": "BecauseWeOrganize-Regular.otf", "comic-neue": "ComicNeue-Regular.otf",
    "dancing-script": "DancingScript-Regular.otf", "delphine": "Delphine.ttf", "dkg": "dkg.ttf",
    "ecolier": "Ecolier-court.ttf", "femkeklaver": "femkeklaver.ttf", "havana": "Havana-Regular.otf",
    "humor-sans": "Humor-Sans.ttf", "joscelyn": "Joscelyn-Regular.otf", "kaushan": "KaushanScript-Regular.otf",
    "kiloji": "kiloji.ttf", "klee": "KleeOne-Regular.ttf", "kristi": "Kristi.ttf",
    "leckerli": "LeckerliOne-Regular.ttf",
    "lobster": "lobster.otf", "purisa": "Purisa.otf", "rufscript": "Rufscript010.ttf", "seto": "setofont.ttf",
    "stevehand": "SteveHand.ttf", "tomsontalks": "TomsonTalks.ttf",
    "yusei-magic": "YuseiMagic-Regular.ttf",
}
# The fontsource family: the npm packages @fontsource/NAME, handwriting fonts chosen from a sheet of their digits.
FONTSOURCE = (
    "amatic-sc", "annie-use-your-telescope", "architects-daughter", "caveat", "caveat-brush", "cedarville-cursive",
    "coming-soon", "covered-by-your-grace", "crafty-girls", "dawning-of-a-new-day", "dekko", "delicious-handrawn",
    "delius", "edu-nsw-act-foundation", "edu-qld-beginner", "edu-sa-beginner", "edu-tas-beginner",
    "edu-vic-wa-nt-beginner", "fuzzy-bubbles", "gaegu", "gamja-flower", "give-you-glory", "gloria-hallelujah",
    "gluten", "gochi-hand", "grape-nuts", "handlee", "hi-melody", "homemade-apple", "indie-flower", "itim",
    "just-another-hand", "just-me-again-down-here", "kalam", "kiwi-maru", "la-belle-aurore", "loved-by-the-king",
    "mali", "mansalva", "mountains-of-christmas", "mynerve", "nerko-one", "neucha", "nothing-you-could-do",
    "oooh-baby", "over-the-rainbow", "pangolin", "patrick-hand", "permanent-marker", "playpen-sans", "rancho",
    "reenie-beanie", "rock-salt", "schoolbell", "sedgwick-ave", "shadows-into-light", "shadows-into-light-two",
    "short-stack", "sofadi-one", "square-peg", "sriracha", "sue-ellen-francisco", "swanky-and-moo-moo",
    "the-girl-next-door", "waiting-for-the-sunrise", "walter-turncoat", "yomogi", "zen-kurenaido", "zeyada",
)
FAMILIES = {"debian": FONTS, "fontsource": {name: f"{name}-latin-400-normal.woff" for name in FONTSOURCE}}
FONT_FILES = {hand: file for fonts in FAMILIES.values() for hand, file in fonts.items()}  # every family's hands
REPORT_SHARE = 1 / 3  # of each family's hands, drawn once by a seeded shuffle of their sorted names
STYLES = ("canvas", "white canvas", "glyph", "outlined", "photo", "chalk", "small on ruled paper")
SIDE = 112  # 4x MNIST's 28: the layout of an MNIST digit, sharp enough for hairline fonts


def family_of(hand: str) -> str:
    """'debian' or 'fontsource': where the hand's font comes from."""
    for family, fonts in FAMILIES.items():
        if hand in fonts:
            return family
    raise KeyError(f"no hand is named {hand!r}")


def split_of(hand: str) -> str:
    """'report' or 'dev': fixed for every hand of FAMILIES by its family's names, whatever is installed."""
    names = sorted(FAMILIES[family_of(hand)])
    report = set(np.array(names)[np.random.default_rng(0).permutation(len(names))[: round(len(names) * REPORT_SHARE)]])
    return "report" if hand in report else "dev"


@functools.cache
def font_path(hand: str) -> Path | None:
    for folder in FONT_DIRS:
        found = sorted(folder.rglob(FONT_FILES[hand])) if folder.is_dir() else []
        if found:
            return found[0]
    return None


def in_split(hand: str, split: str) -> bool:
    """Whether `hand` is one of FAMILIES' hands and in `split`."""
    return hand in FONT_FILES and split_of(hand) == split


def installed_hands(split: str, family: str = "debian") -> list[str]:
    return [h for h in sorted(FAMILIES[family]) if in_split(h, split) and font_path(h) is not None]


def mnist_layout(ink: np.ndarray) -> np.ndarray:
    """Ink (any size, 0-255) cropped and fit into the middle 80x80 of a 112x112 square, aspect kept, as MNIST
    fits its digits into 20x20 of 28x28."""
    rows, cols = np.flatnonzero(ink.max(1) > 40), np.flatnonzero(ink.max(0) > 40)
    if rows.size == 0:
        raise ValueError("no ink")
    crop = Image.fromarray(ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.uint8))
    scale = 80 / max(crop.size)
    crop = crop.resize((max(1, round(crop.width * scale)), max(1, round(crop.height * scale))), Image.LANCZOS)
    square = Image.new("L", (SIDE, SIDE), 0)
    square.paste(crop, ((SIDE - crop.width) // 2, (SIDE - crop.height) // 2))
    return np.asarray(square)


def glyph(hand: str, text: str, rng: np.random.Generator, size: int = 200) -> np.ndarray:
    """The hand's glyph(s) for `text`, white on black, with a seeded slant and squeeze (one writer is never the
    same twice), laid out as MNIST's digits are."""
    font = ImageFont.truetype(str(font_path(hand)), size)
    image = Image.new("L", (size * 3, size * 2), 0)
    ImageDraw.Draw(image).text((size // 2, size // 4), text, font=font, fill=255)
    shear, squeeze = rng.uniform(-0.25, 0.25), rng.uniform(0.85, 1.15)
    image = image.transform(image.size, Image.AFFINE, (squeeze, shear, -shear * size, 0, 1, 0), Image.BICUBIC)
    return mnist_layout(np.asarray(image))


def sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 digits (the UCI test part: 13 writers, 8x8, 0-16), upsampled to 32x32 as their
    bitmaps were drawn, then laid out as MNIST's digits: N x 112 x 112 uint8 and the labels."""
    from sklearn.datasets import load_digits  # a benchmark-only dependency (pip install scikit-learn)

    data = load_digits()
    images = []
    for small in data.images:
        big = Image.fromarray((small * 255 / 16).astype(np.uint8)).resize((32, 32), Image.BICUBIC)
        images.append(mnist_layout(np.asarray(big)))
    return np.stack(images), data.target.astype(np.uint8)


def on_white(rgba: np.ndarray) -> np.ndarray:
    """A transparent canvas flattened onto white, as a drawing app exports it: RGB uint8."""
    alpha = rgba[..., 3:4].astype(np.float32) / 255
    return np.round(255 * (1 - alpha) + rgba[..., :3] * alpha).astype(np.uint8)


def filled_glyph(digit: np.ndarray, rng: np.random.Generator, size: int = 800) -> np.ndarray:
    """The digit's own filled shape (not redrawn with a pen), black on a white canvas, anywhere, any size."""
    height = int(rng.uniform(0.25, 0.8) * size)
    shape = Image.fromarray(digit).resize((height, height), Image.BICUBIC)
    sheet = np.full((size, size), 255, np.uint8)
    x, y = (int(rng.uniform(0, size - height)) for _ in range(2))
    sheet[y : y + height, x : x + height] = 255 - np.asarray(shape)
    return np.stack([sheet] * 3, -1)


def outlined(digit: np.ndarray, rng: np.random.Generator, size: int = 800) -> np.ndarray:
    """A "bubble" digit: the outline drawn around a fat stroke, not the stroke itself, on a white canvas."""
    height = rng.uniform(0.35, 0.8) * size
    stroke = render.stroke_mask(digit, height, rng.uniform(0.07, 0.12) * height, rng.uniform(-8, 8))
    pen = max(3, int(rng.uniform(0.006, 0.015) * size)) | 1
    mask = Image.fromarray(np.pad((stroke > 0.5).astype(np.uint8) * 255, pen))
    outline = np.asarray(mask.filter(ImageFilter.MaxFilter(pen)), np.float32) - np.asarray(mask, np.float32)
    cover = np.zeros((size, size), np.float32)
    render.paste(cover, np.clip(outline / 255, 0, 1), int(rng.uniform(0, max(size - outline.shape[1], 0))),
                 int(rng.uniform(0, max(size - outline.shape[0], 0))))
    return np.stack([np.round(255 * (1 - cover)).astype(np.uint8)] * 3, -1)


def small_on_ruled_paper(digit: np.ndarray, rng: np.random.Generator, size: tuple[int, int] = (1024, 768)) -> bytes:
    """A small digit written between the lines of a notebook page, photographed from arm's length."""
    w, h = size
    spacing = rng.uniform(0.06, 0.1) * h
    lines = render.ruled_lines(h, w, rng, rng.uniform(-2, 2), spacing=spacing)
    height = spacing * rng.uniform(0.6, 0.85)
    mask = render.stroke_mask(digit, height, rng.uniform(0.06, 0.12) * height, rng.uniform(-6, 6))
    cover = np.zeros((h, w), np.float32)
    render.paste(cover, mask * rng.uniform(0.75, 1.0), int(rng.uniform(0.15, 0.8) * w), int(rng.uniform(0.2, 0.75) * h))
    paper = np.array([rng.uniform(225, 250), rng.uniform(220, 245), rng.uniform(200, 235)], np.float32)
    ink = np.array([30, 35, 150] if rng.random() < 0.4 else [35, 35, 40], np.float32)
    rgb = paper * (1 - lines[..., None] * 0.8) + np.array([150, 170, 210], np.float32) * lines[..., None] * 0.8
    rgb = rgb * (1 - cover[..., None]) + ink * cover[..., None]
    rgb *= render.lighting_gradient(h, w, rng, rng.uniform(0.1, 0.4))[..., None]
    return render.to_jpeg(render.blur_and_noise(rgb, rng, rng.uniform(0, 1.0), rng.uniform(2, 6)), rng)


def draw(style: str, digit: np.ndarray, rng: np.random.Generator) -> np.ndarray | bytes:
    """One input of `style` (see STYLES) showing `digit`, a 112x112 MNIST-laid-out picture."""
    if style in render.STYLES:
        return render.render(style, digit, rng)
    if style == "white canvas":
        return on_white(render.canvas(digit, rng))
    if style == "glyph":
        return filled_glyph(digit, rng)
    if style == "outlined":
        return outlined(digit, rng)
    if style == "small on ruled paper":
        return small_on_ruled_paper(digit, rng)
    raise ValueError(f"unknown style {style!r}; choose one of {', '.join(STYLES)}")


def scribble(rng: np.random.Generator, size: int = 800) -> np.ndarray:
    """Not a digit: a seeded zigzag of 5-12 points with a random pen, on a transparent canvas (RGBA)."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    points = [tuple(rng.uniform(0.12, 0.88, 2) * size) for _ in range(int(rng.integers(5, 13)))]
    ImageDraw.Draw(image).line(points, fill=(0, 0, 0, 255), width=int(rng.uniform(0.012, 0.05) * size),
                               joint="curve")
    return np.asarray(image)

