"""The way from a picture to the network's 28x28, one picture per step, with any of the steps that can be left
out skipped: what the step-by-step view ("How the network sees it") shows. `mnist_style.prepare_digit` runs the
same steps without keeping the pictures between them, so the normal path pays nothing for this one.
"""

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from mnist_app.reading.decode import load_picture
from mnist_app.reading.mnist_style import (
    PEN_MARGIN,
    SIDE,
    detailed_strokes,
    fill_outlines,
    find_digit,
    find_ink,
    fit_box,
    ink_components,
    normalise_stroke_width,
    place_by_mass,
    region_ink,
    widen_narrow_loops,
)
from mnist_app.reading.segment import Region

# The steps that can be left out, and what each one is called on the page.
SKIPPABLE = {"crop": "Crop to the digit", "pen": "Pen width like MNIST's", "mass": "Centre of mass"}


@dataclass(frozen=True)
class Step:
    title: str
    image: np.ndarray  # float32 in [0, 1]: the picture as gray levels, after it the ink in white on black
    skipped: bool = False  # the step was left out: its picture is what came into it


@dataclass(frozen=True)
class Walk:
    steps: list[Step]  # in order, from the picture to the 28x28
    input28: np.ndarray  # the last step's picture: what the network is given


def walk(source: object, skip: Collection[str] = ()) -> Walk:
    """Every step's picture for the one digit in `source`, leaving out the steps named in `skip` (SKIPPABLE's
    keys). Without the crop the whole picture goes on, so the digit keeps its size and place in it; without the
    pen the strokes keep their drawn width (and an outline stays hollow); without the centre of mass the 20x20 box
    goes in the middle."""
    unknown = set(skip) - SKIPPABLE.keys()
    if unknown:
        raise ValueError(f"No step called {', '.join(sorted(unknown))}; these can be skipped: {', '.join(SKIPPABLE)}")
    picture = load_picture(source)
    ink, region = find_digit(source, *ink_components(find_ink(picture)))
    crop = region_ink(ink, whole_picture(ink.level.shape, region) if "crop" in skip else region)
    strokes = detailed_strokes(crop, ink.from_canvas)
    pen = strokes
    if "pen" not in skip:  # a narrow looped digit is widened here too, but not the whole picture (it would crop it)
        filled = fill_outlines(strokes)
        pen = normalise_stroke_width(filled if "crop" in skip else widen_narrow_loops(filled))
        if "crop" in skip:  # the margin the pen was given would shrink the picture around the digit
            pen = pen[PEN_MARGIN:-PEN_MARGIN, PEN_MARGIN:-PEN_MARGIN]
    box = fit_box(pen, crop="crop" not in skip)
    input28 = in_the_middle(box) if "mass" in skip else place_by_mass(box)
    return Walk(
        [
            Step("The drawing or photo", picture.gray),
            Step("The ink found", ink.level),
            Step(SKIPPABLE["crop"], crop, "crop" in skip),
            Step(SKIPPABLE["pen"], pen.astype(np.float32), "pen" in skip),
            Step("Fitted into 20 x 20", box),
            Step("Centre of mass (28 x 28)", input28, "mass" in skip),
        ],
        input28,
    )


def whole_picture(shape: tuple[int, int], region: Region) -> Region:
    """The digit's strokes in a box as large as the whole picture."""
    mask = np.zeros(shape, bool)
    x0, y0, x1, y1 = region.box
    mask[y0:y1, x0:x1] = region.mask
    return Region(mask, 0, 0)


def in_the_middle(box: np.ndarray) -> np.ndarray:
    """The box in the middle of a 28x28, wherever its ink's centre of mass lies."""
    h, w = box.shape
    top, left = (SIDE - h) // 2, (SIDE - w) // 2
    out = np.zeros((SIDE, SIDE), np.float32)
    out[top : top + h, left : left + w] = box
    return out
