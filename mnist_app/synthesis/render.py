"""Synthetic real-world inputs made from MNIST digits: canvas strokes, phone photos, chalk.

The tests and the accuracy benchmark share these, so the pipeline is judged on inputs whose
true digit is known. Each digit is thinned to its centre line and redrawn with a chosen pen,
so the same handwriting can be a thin canvas line, a fat brush, a ballpoint or chalk.
Everything is deterministic given the numpy Generator passed in.
"""

import io
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SKELETON_SCALE = 4  # thin the digit at 4x MNIST's resolution: smooth centre lines
STYLES = ("canvas", "photo", "chalk")


def skeleton(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning: a one-pixel-wide centre line of a binary shape."""
    img = np.pad(mask.astype(np.uint8), 1)
    while True:
        changed = False
        for step in (0, 1):
            p = [img[:-2, 1:-1], img[:-2, 2:], img[1:-1, 2:], img[2:, 2:],
                 img[2:, 1:-1], img[2:, :-2], img[1:-1, :-2], img[:-2, :-2]]  # N, NE, E, SE, S, SW, W, NW
            neighbours = sum(q.astype(np.int32) for q in p)
            transitions = sum(((p[i] == 0) & (p[(i + 1) % 8] == 1)).astype(np.int32) for i in range(8))
            north, east, south, west = p[0], p[2], p[4], p[6]
            if step == 0:
                keep_shape = (north * east * south == 0) & (east * south * west == 0)
            else:
                keep_shape = (north * east * west == 0) & (north * south * west == 0)
            remove = (img[1:-1, 1:-1] == 1) & (neighbours >= 2) & (neighbours <= 6) & (transitions == 1) & keep_shape
            if remove.any():
                img[1:-1, 1:-1][remove] = 0
                changed = True
        if not changed:
            return img[1:-1, 1:-1].astype(bool)


def centre_line(digit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The digit's centre-line points (x, y) in a 28-unit square, and index pairs of neighbouring points."""
    size = 28 * SKELETON_SCALE
    image = Image.fromarray(np.asarray(digit, dtype=np.uint8)).resize((size, size), Image.BICUBIC)
    shape = np.asarray(image) > 110
    # Blobs (a loop written shut) have no centre line to speak of: keep their cores as filled area.
    core = np.asarray(Image.fromarray(shape).filter(ImageFilter.MinFilter(2 * SKELETON_SCALE + 3))) > 0
    ys, xs = np.nonzero(skeleton(shape) | core)
    index = -np.ones((size + 2, size + 2), np.int64)
    index[ys + 1, xs + 1] = np.arange(ys.size)
    pairs = []
    for dy, dx in ((0, 1), (1, -1), (1, 0), (1, 1)):
        other = index[ys + 1 + dy, xs + 1 + dx]
        found = other >= 0
        pairs.append(np.stack([np.flatnonzero(found), other[found]], 1))
    points = np.stack([xs, ys], 1).astype(np.float64) / SKELETON_SCALE
    return points, np.concatenate(pairs)


def stroke_mask(digit: np.ndarray, height: float, pen: float, angle_deg: float = 0.0) -> np.ndarray:
    """The digit redrawn `height` px tall with a round pen `pen` px wide, anti-aliased (float mask)."""
    points, pairs = centre_line(digit)
    if points.size == 0:
        raise ValueError("the digit has no strokes")
    supersample = 2
    scale = height / 20 * supersample  # MNIST digits are about 20 units tall
    turn = math.radians(angle_deg)
    rotation = np.array([[math.cos(turn), -math.sin(turn)], [math.sin(turn), math.cos(turn)]])
    xy = (points - points.mean(0)) @ rotation.T * scale
    margin = pen * supersample
    xy -= xy.min(0) - margin
    w, h = (np.ceil(xy.max(0) + margin)).astype(int) + 1
    image = Image.new("L", (int(w), int(h)), 0)
    draw = ImageDraw.Draw(image)
    width = max(1, round(pen * supersample))
    for a, b in pairs:
        draw.line([tuple(xy[a]), tuple(xy[b])], fill=255, width=width)
    r = width / 2
    for x, y in xy:
        draw.ellipse([x - r, y - r, x + r, y + r], fill=255)
    small = image.resize((max(1, int(w) // supersample), max(1, int(h) // supersample)), Image.BOX)
    return np.asarray(small, dtype=np.float32) / 255


def paste(target: np.ndarray, patch: np.ndarray, x: int, y: int) -> None:
    """Blend `patch` (ink coverage) into `target` (coverage) at (x, y), clipped to the target."""
    h, w = patch.shape
    ty0, tx0 = max(y, 0), max(x, 0)
    ty1, tx1 = min(y + h, target.shape[0]), min(x + w, target.shape[1])
    if ty1 > ty0 and tx1 > tx0:
        region = target[ty0:ty1, tx0:tx1]
        target[ty0:ty1, tx0:tx1] = np.maximum(region, patch[ty0 - y : ty1 - y, tx0 - x : tx1 - x])


def canvas(digit: np.ndarray, rng: np.random.Generator, size: int = 800) -> np.ndarray:
    """A browser canvas as Gradio's Sketchpad sends it: RGBA, transparent, black strokes.
    Thin or thick brush, small or large, anywhere on the canvas."""
    height = rng.uniform(0.2, 0.85) * size
    pen = rng.choice([rng.uniform(0.008, 0.02), rng.uniform(0.02, 0.06)]) * size
    mask = stroke_mask(digit, height, pen, rng.uniform(-8, 8))
    cover = np.zeros((size, size), np.float32)
    h, w = mask.shape
    x = int(rng.uniform(0, max(size - w, 0)))
    y = int(rng.uniform(0, max(size - h, 0)))
    paste(cover, mask, x, y)
    rgba = np.zeros((size, size, 4), np.uint8)
    rgba[..., 3] = np.round(cover * 255).astype(np.uint8)
    return rgba


def drawn_sheet(strokes: list[list[tuple[float, float]]], size: int = 560, pen: int = 14) -> dict:
    """The Sketchpad's value after drawing `strokes` (points 0..1 across and down the middle 0.8 of the sheet, as
    testing/browser.py draws them) with a black pen `pen` px wide on the app's white sheet."""
    sheet = Image.new("RGBA", (size, size), (255, 255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for stroke in strokes:
        points = [((0.1 + 0.8 * x) * size, (0.1 + 0.8 * y) * size) for x, y in stroke]
        draw.line(points, fill=(0, 0, 0, 255), width=pen, joint="curve")
        for x, y in (points[0], points[-1]):  # a round pen's ends
            draw.ellipse([x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2], fill=(0, 0, 0, 255))
    return {"background": None, "layers": [], "composite": np.asarray(sheet)}


def lighting_gradient(h: int, w: int, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Light falling off across the page, in a random direction (1 = full light)."""
    direction = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = (xx / w - 0.5) * math.cos(direction) + (yy / h - 0.5) * math.sin(direction)
    return 1 - strength * (ramp - ramp.min()) / max(float(ramp.max() - ramp.min()), 1e-6)


def ruled_lines(
    h: int, w: int, rng: np.random.Generator, angle_deg: float, spacing: float | None = None
) -> np.ndarray:
    """Notebook lines across the page, `spacing` px apart (else 6-12% of the height): coverage in [0, 1]."""
    spacing = spacing if spacing is not None else rng.uniform(0.06, 0.12) * h
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    along = yy - (xx - w / 2) * math.tan(math.radians(angle_deg)) + rng.uniform(0, spacing)
    distance = np.abs((along % spacing) - spacing / 2)
    thickness = max(1.0, 0.0025 * h)
    return np.clip(thickness / 2 + 0.5 - distance, 0, 1)


def to_jpeg(rgb: np.ndarray, rng: np.random.Generator, orientation: int = 1) -> bytes:
    """JPEG bytes; with an EXIF orientation other than 1 the pixels are stored turned, as phones do."""
    image = Image.fromarray(rgb)
    stored = {1: image, 3: image.rotate(180), 6: image.rotate(90, expand=True), 8: image.rotate(-90, expand=True)}
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    stored[orientation].save(out, "JPEG", quality=int(rng.integers(60, 92)), exif=exif.tobytes())
    return out.getvalue()


def photo(digit: np.ndarray, rng: np.random.Generator, size: tuple[int, int] = (1024, 768)) -> bytes:
    """A phone photo of a digit written on paper: tinted paper, uneven light, maybe ruled lines
    and blue ink, slight rotation, blur, sensor noise, a JPEG with an EXIF orientation."""
    w, h = size
    lines = ruled_lines(h, w, rng, rng.uniform(-4, 4)) if rng.random() < 0.5 else np.zeros((h, w), np.float32)
    return paper_photo([digit], rng, size, lines, np.zeros(0))


def paper_photo(digits: list[np.ndarray], rng: np.random.Generator, size: tuple[int, int],
                lines: np.ndarray, gaps: np.ndarray) -> bytes:
    """Digits written side by side (the gaps between them in digit heights; negative overlaps) and photographed."""
    w, h = size
    height = rng.uniform(0.25, 0.6) * h / max(1.0, 0.7 * len(digits))
    pen = rng.uniform(0.04, 0.09) * height
    angle = rng.uniform(-6, 6)
    masks = [stroke_mask(d, height * rng.uniform(0.9, 1.1), pen, angle) for d in digits]
    cover = np.zeros((h, w), np.float32)
    total = sum(m.shape[1] for m in masks) + gaps.sum() * height
    x = (w - total) / 2 + rng.uniform(-0.1, 0.1) * w
    y_mid = h / 2 + rng.uniform(-0.1, 0.1) * h
    for m, gap in zip(masks, [*gaps, 0.0], strict=True):
        y = y_mid - m.shape[0] / 2 + rng.uniform(-0.05, 0.05) * height
        paste(cover, m * rng.uniform(0.75, 1.0), int(x), int(y))
        x += m.shape[1] + gap * height
    paper = np.array([rng.uniform(215, 250), rng.uniform(205, 245), rng.uniform(185, 235)], np.float32)
    ink = np.array([30, 35, 150] if rng.random() < 0.4 else [35, 35, 40], np.float32) + rng.uniform(-15, 15, 3)
    line_colour = np.array([150, 170, 210], np.float32)
    rgb = paper * (1 - lines[..., None] * 0.8) + line_colour * lines[..., None] * 0.8
    rgb = rgb * (1 - cover[..., None]) + ink * cover[..., None]
    rgb *= lighting_gradient(h, w, rng, rng.uniform(0.1, 0.5))[..., None]
    rgb = blur_and_noise(rgb, rng, blur=rng.uniform(0, 1.5), noise=rng.uniform(2, 8))
    return to_jpeg(rgb, rng, int(rng.choice([1, 1, 3, 6, 8])))


def blur_and_noise(rgb: np.ndarray, rng: np.random.Generator, blur: float, noise: float) -> np.ndarray:
    image = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(blur))
    noisy = np.asarray(image, dtype=np.float32) + rng.normal(0, noise, (image.size[1], image.size[0], 1))
    return np.clip(noisy, 0, 255).astype(np.uint8)


def chalk(digit: np.ndarray, rng: np.random.Generator, size: tuple[int, int] = (960, 720)) -> bytes:
    """Chalk on a green or grey board: grainy light strokes, smudges of old chalk, uneven light."""
    w, h = size
    height = rng.uniform(0.3, 0.7) * h
    mask = stroke_mask(digit, height, rng.uniform(0.05, 0.1) * height, rng.uniform(-6, 6))
    cover = np.zeros((h, w), np.float32)
    paste(cover, mask, int((w - mask.shape[1]) / 2 + rng.uniform(-0.2, 0.2) * w),
          int((h - mask.shape[0]) / 2 + rng.uniform(-0.1, 0.1) * h))
    grain = np.clip(rng.normal(0.8, 0.35, (h, w)), 0, 1).astype(np.float32)
    smudge = np.asarray(Image.fromarray((rng.random((h // 40, w // 40)) * 255).astype(np.uint8))
                        .resize((w, h), Image.BICUBIC), dtype=np.float32) / 255 * rng.uniform(0.05, 0.2)
    board = np.array([40, 70, 55] if rng.random() < 0.5 else [55, 58, 60], np.float32) + rng.uniform(-10, 10, 3)
    chalk_colour = np.array([235, 235, 225], np.float32)
    amount = np.clip(cover * grain + smudge, 0, 1)[..., None]
    rgb = board * (1 - amount) + chalk_colour * amount
    rgb *= lighting_gradient(h, w, rng, rng.uniform(0.1, 0.4))[..., None]
    rgb = blur_and_noise(rgb, rng, blur=rng.uniform(0, 1.2), noise=rng.uniform(3, 8))
    return to_jpeg(rgb, rng)


def number_photo(digits: list[np.ndarray], rng: np.random.Generator, touching_pairs: int = 0,
                 size: tuple[int, int] = (1280, 720)) -> bytes:
    """Several digits written in a row on ruled paper; `touching_pairs` neighbours (chosen at random)
    overlap slightly, the others are apart."""
    w, h = size
    lines = ruled_lines(h, w, rng, rng.uniform(-2, 2))
    gaps = np.full(len(digits) - 1, rng.uniform(0.1, 0.3))
    gaps[rng.permutation(len(gaps))[:touching_pairs]] = -0.08
    return paper_photo(digits, rng, size, lines, gaps)


def render(style: str, digit: np.ndarray, rng: np.random.Generator) -> np.ndarray | bytes:
    """One input of the given style: the canvas as an RGBA array, photos and chalk as JPEG bytes."""
    if style == "canvas":
        return canvas(digit, rng)
    if style == "photo":
        return photo(digit, rng)
    if style == "chalk":
        return chalk(digit, rng)
    raise ValueError(f"unknown style {style!r}; choose one of {', '.join(STYLES)}")
