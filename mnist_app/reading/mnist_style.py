"""Turn any picture of a handwritten digit into what an MNIST model expects.

MNIST digits are white ink on black, fitted into a 20x20 box, centred by centre of mass in
28x28, with anti-aliased strokes 2-3 px wide. A browser canvas, a phone photo or chalk on a
board is none of that; each step below removes one difference:
decode (reading/decode.py) -> ink map (polarity, lighting, ruled lines, texture)
-> the digit's components (segment) -> crop, stroke width, 20x20 box, centre of mass.
"""

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from mnist_app.reading.decode import EMPTY_CANVAS as EMPTY_CANVAS  # the errors and messages are part of this API
from mnist_app.reading.decode import WORK_SIZE, NoDigitError, Picture, load_part, load_picture
from mnist_app.reading.decode import InvalidImageError as InvalidImageError
from mnist_app.reading.segment import (
    Component,
    Region,
    digit_groups,
    find_components,
    group_around,
    ink_runs,
    is_flat,
    join_runs,
    main_components,
    region_of,
    spans,
)

NUMBER_WORK_SIZE = 512  # a number's digits are each a fraction of the picture: analyse it finer
BACKGROUND_SIZE = 40  # long side of the lighting estimate: strokes vanish at this scale, shadows stay
BOX = 20  # MNIST fits each digit into 20x20 ...
SIDE = 28  # ... and places it by its centre of mass in 28x28
MASS_CENTRE = (14.0, 14.0)  # MNIST's mean centre of mass (row, column), measured on its test set
DETAIL = 4  # stroke width is normalised at DETAIL times the final scale, then averaged down
PEN_MARGIN = DETAIL * 3  # normalising the pen pads the strokes by this much: room for them to grow
STROKE_WIDTH = 10.5  # MNIST's median stroke width at that scale (about 2.6 px in 28x28), as stroke_width measures it
NARROWEST_LOOPED = 0.5  # width over height: MNIST's 0, 6, 8 and 9 are narrower only 1 time in 20
COUNTER = (2 * DETAIL) ** 2  # a hole in the ink this big at that scale (2x2 px in 28x28) is a loop or a 4's triangle
# A hole at least BAND_LENGTH times as long as it is wide, and BAND_WIDTH times as wide as the pen around it, is the
# inside of an outlined ("bubble") digit's stroke, not a loop. On the development split's hands (2026-12-05, all but
# femkeklaver, whose glyphs are outlines themselves): 0 of their 1,031 loops, and 166 of the 176 holes of their
# outlined 1, 2, 3, 5 and 7, are such bands.
BAND_LENGTH = 6
BAND_WIDTH = 1.5
SMALL_DIGIT = 0.19  # of the working size: a photo's digit smaller than this is looked at again, closer
CLEAR_TAIL = 1.5  # one tail of the gray levels this many times as far from the median as the other: that is the ink
STRONG = 0.5  # ink level that is surely a stroke
FAINT = 0.25  # pale ink: a stroke where it joins one (a broad nib's hairlines), a ruled line where it lines up
LINE_SLOPES = np.tan(np.radians(np.arange(-6, 6.1, 0.25)))  # ruled lines of a page held a little askew


@dataclass(frozen=True)
class Ink:
    """Where the ink is: 1 on strokes, 0 on paper or board, at working size."""

    level: np.ndarray  # H x W float32 in [0, 1]
    scale: float  # original pixels per working pixel
    from_canvas: bool
    origin: tuple[float, float] = (0.0, 0.0)  # the working image's corner in the original's pixels


# ---------------------------------------------------------------- ink


def find_ink(picture: Picture) -> Ink:
    """Polarity, even lighting, no ruled lines or paper texture: 1 on strokes, 0 elsewhere."""
    gray = picture.gray
    if picture.blank:
        raise NoDigitError("The image is blank: no digit found")
    if picture.from_canvas:  # the coverage itself: no paper, no light, no noise to account for
        coverage = 1 - gray
        return Ink(coverage / max(float(coverage.max()), 1e-6), picture.scale, from_canvas=True)
    if dark_ink(gray):
        paper = lighting(gray, dark_ink=True)
        contrast = (paper - gray) / np.maximum(paper, 0.05)  # dividing evens out light falling off across the page
    else:
        board = lighting(gray, dark_ink=False)
        contrast = (gray - board) / np.maximum(board, 0.05)
    return Ink(remove_ruled_lines(stretch_contrast(contrast)), picture.scale, from_canvas=False, origin=picture.origin)


def dark_ink(gray: np.ndarray) -> bool:
    """Whether the strokes are darker than the paper or board. Paper or board is most of the picture and ink the far
    tail of its gray levels: dark ink if the darkest pixels lie further from the median than the brightest. When both
    tails reach about as far, light falling off across the page spreads the gray levels more than a small digit
    does, and the ink is the polarity that stands out more from the background around it."""
    darkest, median, brightest = np.percentile(gray[::2, ::2], [0.5, 50, 99.5])
    below, above = median - darkest, brightest - median
    if max(below, above) >= CLEAR_TAIL * min(below, above):
        return bool(below >= above)
    return peak(lighting(gray, dark_ink=True) - gray) >= peak(gray - lighting(gray, dark_ink=False))


def peak(values: np.ndarray) -> float:
    """The strongest of every fourth pixel but for a few hot ones (a tiny image has fewer pixels)."""
    sample = values[::2, ::2].ravel()
    hot = min(5, sample.size)
    return float(np.partition(sample, -hot)[-hot])


def lighting(gray: np.ndarray, dark_ink: bool) -> np.ndarray:
    """The paper's (or board's) own brightness under the strokes: a closing (opening for light ink)
    at low resolution wipes out anything as narrow as a stroke and keeps the slow change of light."""
    h, w = gray.shape
    factor = max(1, max(h, w) // BACKGROUND_SIZE)
    small = Image.fromarray(gray).reduce(factor) if factor > 1 else Image.fromarray(gray)
    small = small.filter(ImageFilter.MedianFilter(3))
    wipe, restore = (ImageFilter.MaxFilter(9), ImageFilter.MinFilter(9))
    small = small.filter(wipe).filter(restore) if dark_ink else small.filter(restore).filter(wipe)
    return np.asarray(small.resize((w, h), Image.BILINEAR), dtype=np.float32)


def stretch_contrast(contrast: np.ndarray) -> np.ndarray:
    """Map the paper's noise floor to 0 and the strokes' typical contrast to 1."""
    strongest = peak(contrast)  # not the very highest: a few hot pixels are not ink
    if strongest < 0.1:
        raise NoDigitError("No digit found: the image has no clear strokes")
    sample = contrast[::2, ::2].ravel()  # every fourth pixel: the same statistics, four times cheaper
    stroke = float(np.median(sample[sample > 0.4 * strongest]))
    noise = 1.4826 * float(np.median(np.abs(sample - np.median(sample))))
    floor = min(max(4 * noise, 0.25 * stroke), 0.6 * stroke)
    return np.clip((contrast - floor) / (0.9 * stroke - floor), 0, 1).astype(np.float32)


def remove_ruled_lines(level: np.ndarray) -> np.ndarray:
    """Wipe notebook lines: rows of ink, along the page's slight tilt, that span most of the width.
    Where a stroke crosses a line (ink just above and just below it), the stroke is kept."""
    h, w = level.shape
    ink = level > STRONG
    ys, xs = np.nonzero(level > FAINT)  # a pale line is ink only in parts: look for lines in fainter ink too
    if ys.size < 0.6 * w:
        return level
    tilted_rows = [ys - np.round((xs - w / 2) * slope).astype(np.int64) for slope in LINE_SLOPES]
    counts = [np.bincount(rows - rows.min()) for rows in tilted_rows]
    best = int(np.argmax([np.square(c, dtype=np.float64).sum() for c in counts]))  # the slope that stacks most
    rows = tilted_rows[best] - tilted_rows[best].min()
    # A line a little off the slope tried, or thicker than a pixel, spreads over neighbouring rows: a thin band
    # of rows each well filled is one line when together they span most of the width.
    filled = counts[best] >= 0.2 * w
    edges = np.flatnonzero(np.diff(np.r_[0, filled.astype(np.int8), 0]))
    band_of_row = np.cumsum(np.diff(np.r_[0, filled.astype(np.int8)]) > 0) * filled - 1  # -1: in no band
    band = band_of_row[rows]
    inside = band >= 0
    across = np.bincount(np.unique(band[inside] * w + xs[inside]) // w, minlength=edges.size // 2)  # columns covered
    thin = edges[1::2] - edges[::2] <= max(3, 0.02 * h)  # a printed line, not a digit's bar
    lines = thin & (across >= 0.6 * w)
    is_line_row = np.zeros_like(filled)
    for start, end in zip(edges[::2][lines], edges[1::2][lines], strict=True):
        is_line_row[max(start - 1, 0) : end + 1] = True  # and the line's frayed edge, a row either side
    thickness = (edges[1::2] - edges[::2])[lines]
    # Ruled paper has several thin lines; one wide band alone is more likely a digit's bar in a tight crop.
    if thickness.size < 2 and not (thickness.size == 1 and thickness[0] <= 0.02 * h):
        return level
    line = np.zeros_like(ink)
    on_line = is_line_row[rows]
    line[ys[on_line], xs[on_line]] = True
    reach = 2 + int(thickness.max())
    crossed = near_vertically(ink & ~line, reach)
    return np.where(line & ~crossed, 0, level).astype(np.float32)


def near_vertically(mask: np.ndarray, reach: int) -> np.ndarray:
    """True where `mask` has a pixel within `reach` rows above and also within `reach` rows below."""
    h = mask.shape[0]
    counts = np.zeros((h + 2 * reach + 1, mask.shape[1]), np.int32)
    np.cumsum(mask, axis=0, out=counts[reach + 1 : reach + 1 + h])
    counts[reach + 1 + h :] = counts[reach + h]
    y = np.arange(h) + reach + 1  # counts[y] holds the rows up to and including this one
    above = counts[y - 1] - counts[y - 1 - reach]
    below = counts[y + reach] - counts[y]
    return (above > 0) & (below > 0)


# ---------------------------------------------------------------- the digit


def grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Dilate by `pixels` in every direction: alternating 3x3 cross and square steps trace an octagon,
    close enough to a round pen."""
    out = mask.copy()
    for step in range(pixels):
        vertical = out.copy()
        vertical[1:] |= out[:-1]
        vertical[:-1] |= out[1:]
        source = vertical if step % 2 else out
        horizontal = source.copy()
        horizontal[:, 1:] |= source[:, :-1]
        horizontal[:, :-1] |= source[:, 1:]
        out = horizontal | vertical
    return out


def ink_mask(level: np.ndarray, from_canvas: bool, soft_edge: int = 0) -> np.ndarray:
    """Where the strokes are. On paper or a board: levels above STRONG, and the fainter ones down to FAINT that touch
    them (hysteresis). A broad-nib or brush digit's hairlines (the bar of a 4, the loop of a 6) come out faint once
    the picture is shrunk; cut at STRONG alone they would be lost and the digit read as its thick strokes. Faint ink
    within `soft_edge` pixels of a strong stroke is that stroke's soft edge, not a hairline, and is left out:
    measured with it, every pen would seem wider (the gap this leaves at a hairline's root, the pen's growing
    closes). The canvas's pen has one width: it has no hairlines, and its soft edges would close a fine pen's narrow
    loops, so a canvas is cut at STRONG alone."""
    strong = level > STRONG
    if from_canvas:
        return strong
    faint = level > FAINT
    rows, starts, ends = ink_runs(faint)
    if rows.size == 0:
        return strong
    labels = join_runs(rows, starts, ends, level.shape[1])
    strong_runs = np.zeros((level.shape[0], level.shape[1] + 1), np.int32)
    np.cumsum(strong, axis=1, out=strong_runs[:, 1:])
    kept = np.isin(labels, labels[strong_runs[rows, ends] > strong_runs[rows, starts]])
    mask = np.zeros(level.shape, bool)
    lengths = ends[kept] - starts[kept]
    mask[np.repeat(rows[kept], lengths), spans(starts[kept], lengths)] = True
    return strong | (mask & ~grow(strong, soft_edge)) if soft_edge else mask


def max_pool(image: np.ndarray, factor: int) -> np.ndarray:
    """Shrink by keeping each block's strongest ink: a hairline survives, where averaging would fade it."""
    if factor == 1:
        return image
    h, w = image.shape
    padded = np.pad(image, ((0, -h % factor), (0, -w % factor)))
    return padded.reshape(padded.shape[0] // factor, factor, -1, factor).max(axis=(1, 3))


def resize_long_side(image: np.ndarray, long_side: int) -> np.ndarray:
    h, w = image.shape
    factor = long_side / max(h, w)
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return np.asarray(Image.fromarray(image).resize(size, Image.BILINEAR if factor > 1 else Image.BOX))


def stroke_width(mask: np.ndarray) -> float:
    """Area over half the outline: eroding by one pixel removes about two pixels per unit of stroke length."""
    area = int(mask.sum())
    eroded = int((~grow(~np.pad(mask, 1), 1)).sum())
    return 2 * area / max(area - eroded, 1)


def enclosed_paper(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The paper's runs (row, start, end), the label of each, and each label's area: 0 for the paper around the
    ink, so what has an area is a hole in the ink."""
    h, w = mask.shape
    rows, starts, ends = ink_runs(~mask)
    labels = join_runs(rows, starts, ends, w)
    area = np.bincount(labels, weights=ends - starts)
    area[labels[(rows == 0) | (rows == h - 1) | (starts == 0) | (ends == w)]] = 0
    return rows, starts, ends, labels, area


def counters(mask: np.ndarray) -> int:
    """The holes in the ink (the loops of 0, 6, 8, 9, the triangle of a 4) big enough to see in 28x28."""
    return int((enclosed_paper(mask)[4] >= COUNTER).sum())


def fill_outlines(mask: np.ndarray) -> np.ndarray:
    """An outlined ("bubble") digit's strokes filled in, its real loops kept: the outline of a 1 is a long narrow
    ring that the pen, grown to MNIST's width, would turn into a hollow bar read as 0. The most elongated holes are
    filled first: inside a filled ring the pen is as wide as the stroke was, and the real loop of a 0 is no band of
    it."""
    closed = grow(mask, 1)  # a 1-px outline joins only corner to corner: 8-connected paper would leak through
    rows, starts, ends, labels, area = enclosed_paper(closed)
    lengths = ends - starts
    holes = []  # (length over width, width, the hole)
    for label in np.flatnonzero(area >= COUNTER):
        runs = labels == label
        hole = np.zeros_like(mask)
        hole[np.repeat(rows[runs], lengths[runs]), spans(starts[runs], lengths[runs])] = True
        width = stroke_width(hole)
        holes.append((area[label] / width**2, width, hole))
    for elongation, width, hole in sorted(holes, key=lambda h: -h[0]):
        if elongation >= BAND_LENGTH and width >= BAND_WIDTH * stroke_width(mask):
            mask = mask | grow(hole, 1)
    return mask


def grow_keeping_counters(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Grow the pen by up to `pixels`, stopping short of closing a counter: the narrow loops of a slanted 8 written
    with a fine pen would fill in and read as a 1."""
    grown = grow(mask, pixels)
    holes = counters(mask)
    while holes and pixels > 0 and counters(grown) < holes:
        pixels -= 1
        grown = grow(mask, pixels)
    return grown


def widen_narrow_loops(mask: np.ndarray) -> np.ndarray:
    """A digit with counters, narrower than MNIST's looped digits, widened to their narrowest: fitted as it is, its
    loops would be a pixel wide and blur shut."""
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if rows.size == 0:  # too faint to keep: fit_box says so
        return mask
    height, width = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    if width >= NARROWEST_LOOPED * height or not counters(mask):
        return mask
    crop = Image.fromarray(mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
    return np.asarray(crop.resize((round(NARROWEST_LOOPED * height), int(height)), Image.NEAREST))


def normalise_stroke_width(mask: np.ndarray) -> np.ndarray:
    """Thin canvas lines and fat brush strokes both become MNIST's pen, on a padded canvas; thin lines' counters stay
    open."""
    mask = np.pad(mask, PEN_MARGIN)
    change = round((STROKE_WIDTH - stroke_width(mask)) / 2)
    if change > 0:
        mask = grow_keeping_counters(mask, min(change, PEN_MARGIN))
    elif change < 0:
        mask = ~grow(~mask, min(-change, PEN_MARGIN))
    return mask


def fit_box(mask: np.ndarray, crop: bool = True) -> np.ndarray:
    """Area-average the stroke mask (cropped to its strokes, unless `crop` is False) into a box whose long side is
    20 px: MNIST's anti-aliasing."""
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        raise NoDigitError("No digit found: the strokes are too faint")
    soft = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).filter(ImageFilter.GaussianBlur(DETAIL / 2)))
    if crop:
        soft = soft[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    return np.clip(resize_long_side(soft.astype(np.float32) / 255, BOX), 0, 1)


def place_by_mass(box: np.ndarray) -> np.ndarray:
    """Put the box into 28x28 so its centre of mass lands where MNIST's does."""
    h, w = box.shape
    total = float(box.sum())
    cy = float((box.sum(axis=1) * np.arange(h)).sum() / total)
    cx = float((box.sum(axis=0) * np.arange(w)).sum() / total)
    top = int(np.clip(round(MASS_CENTRE[0] - cy), 0, SIDE - h))
    left = int(np.clip(round(MASS_CENTRE[1] - cx), 0, SIDE - w))
    out = np.zeros((SIDE, SIDE), np.float32)
    out[top : top + h, left : left + w] = box
    return out


def region_ink(ink: Ink, region: Region) -> np.ndarray:
    """The ink levels over the region's box, zero outside its strokes."""
    x0, y0, x1, y1 = region.box
    return np.where(grow(region.mask, 1), ink.level[y0:y1, x0:x1], 0).astype(np.float32)


def detailed_strokes(crop: np.ndarray, from_canvas: bool) -> np.ndarray:
    """The strokes as a mask whose long side is DETAIL times the 20x20 box's."""
    detail = resize_long_side(max_pool(crop, max(1, max(crop.shape) // (BOX * DETAIL))), BOX * DETAIL)
    return ink_mask(detail, from_canvas, soft_edge=1)


def to_mnist(ink: Ink, region: Region) -> np.ndarray:
    """Crop the region, fill an outlined digit's strokes, widen a narrow looped digit, normalise the pen (keeping
    counters open), fit into 20x20 and centre by mass in 28x28."""
    strokes = fill_outlines(detailed_strokes(region_ink(ink, region), ink.from_canvas))
    return place_by_mass(fit_box(normalise_stroke_width(widen_narrow_loops(strokes))))


def original_box(ink: Ink, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """A working-pixel box in the original image's pixels (after EXIF rotation), end exclusive."""
    x0, y0, x1, y1 = box
    ox, oy = ink.origin
    return (int(ox + x0 * ink.scale), int(oy + y0 * ink.scale),
            int(np.ceil(ox + x1 * ink.scale)), int(np.ceil(oy + y1 * ink.scale)))


def main_ink(source: object, work_size: int = WORK_SIZE) -> tuple[Ink, list[Component]]:
    """The ink map and its components that may be (parts of) digits."""
    return ink_components(find_ink(load_picture(source, work_size)))


def ink_components(ink: Ink) -> tuple[Ink, list[Component]]:
    """The ink map and its components that may be (parts of) digits."""
    components = find_components(ink_mask(ink.level, ink.from_canvas), ink.level)
    if not components:
        raise NoDigitError("No digit found in the image")
    return ink, main_components(components, ink.level.shape[1], ink.level.shape[0], ink.from_canvas)


def closer_look(source: object, ink: Ink, box: tuple[int, int, int, int], work_size: int) -> Ink | None:
    """A photo's digits seen closer when they came out small at working size (a digit on a notebook page shot
    from arm's length): the ink of the part around `box`, decoded again at full scale. None when they are large
    enough, on a canvas, or when the picture has no finer pixels."""
    x0, y0, x1, y1 = box
    size = max(x1 - x0, y1 - y0)
    if ink.from_canvas or isinstance(source, dict) or size >= SMALL_DIGIT * work_size or ink.scale < 1.5:
        return None
    h, w = ink.level.shape
    part = (max(x0 - size, 0), max(y0 - size, 0), min(x1 + size, w), min(y1 + size, h))
    try:
        return find_ink(load_part(source, original_box(ink, part), work_size))
    except NoDigitError:
        return None


def ink_regions(source: object) -> tuple[Ink, list[Region]]:
    """The ink map and each separate digit in it, left to right (touching digits are still one region)."""
    ink, components = main_ink(source, NUMBER_WORK_SIZE)
    groups = digit_groups(components)
    closer = closer_look(source, ink, region_of([c for g in groups for c in g]).box, NUMBER_WORK_SIZE)
    if closer is not None:
        ink, components = ink_components(closer)
        groups = digit_groups(components)
    return ink, [region_of(g) for g in groups]


def prepare_digit(source: object) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The 28x28 float image the model should see for the one digit in `source`, and its box."""
    ink, region = find_digit(source, *main_ink(source))
    return to_mnist(ink, region), original_box(ink, region.box)


def find_digit(source: object, ink: Ink, components: list[Component]) -> tuple[Ink, Region]:
    """The one digit among the components of `source`'s ink, seen closer if it came out small."""
    region = digit_region(ink, components)
    closer = closer_look(source, ink, region.box, WORK_SIZE)
    if closer is None:
        return ink, region
    ink, components = ink_components(closer)
    return ink, digit_region(ink, components)


def digit_region(ink: Ink, components: list[Component]) -> Region:
    """The one digit: on a canvas all that is drawn, on paper the main ink and what lies close to it (specks further
    off are not the digit)."""
    if not ink.from_canvas:  # grown from the heaviest stroke that may be a digit, not from a piece of a ruled line
        components = group_around(max(components, key=lambda c: (not is_flat(c), c.mass)), components)
    return region_of(components)
