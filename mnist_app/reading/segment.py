"""Where the digits are: connected ink components, grouped into digits, cut where digits touch.

Components come from runs of ink in each row, joined where runs in neighbouring rows touch:
plain numpy, vectorised, no scipy needed.
"""

from dataclasses import dataclass

import numpy as np

NARROWEST = 0.08  # a digit's (a 1's) least width, in digit heights
SHORTEST = 0.25  # a piece of ink shorter than this share of the digit height is not a digit


@dataclass(frozen=True, eq=False)
class Component:
    """One 8-connected blob of ink; the box is in working pixels, end exclusive."""

    x0: int
    y0: int
    x1: int
    y1: int
    area: int
    mass: float  # summed ink level: faint specks weigh little
    rows: np.ndarray  # the row, start and end (exclusive) of each run that makes it up
    starts: np.ndarray
    ends: np.ndarray

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0


def ink_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row, start and exclusive end of every horizontal run of True, in reading order."""
    h, w = mask.shape
    padded = np.zeros((h, w + 2), np.int8)
    padded[:, 1:-1] = mask
    rows, columns = np.nonzero(np.diff(padded, axis=1))  # in each row: a start, its end, the next start...
    return rows[::2], columns[::2], columns[1::2]


def spans(first: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """first[k], first[k] + 1, ..., first[k] + counts[k] - 1 for every k, concatenated."""
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(first, counts) + offsets


def join_runs(rows: np.ndarray, starts: np.ndarray, ends: np.ndarray, width: int) -> np.ndarray:
    """Label runs that touch (8-connectivity) in neighbouring rows alike; returns each run's label."""
    stride = width + 2  # keys row * stride + column sort all runs in reading order
    # The runs of the row above touching run j are a contiguous range: ending at or after j's start,
    # starting at or before j's end.
    first = np.searchsorted(rows * stride + ends, (rows - 1) * stride + starts, side="left")
    last = np.searchsorted(rows * stride + starts, (rows - 1) * stride + ends, side="right")
    counts = np.maximum(last - first, 0)
    below, above = np.repeat(np.arange(rows.size), counts), spans(first, counts)
    labels = np.arange(rows.size)
    while True:  # spread the smallest label along touching runs, jumping along chains of labels
        joined = np.minimum(labels[below], labels[above])
        spread = labels.copy()
        np.minimum.at(spread, below, joined)
        np.minimum.at(spread, above, joined)
        spread = spread[spread]
        if np.array_equal(spread, labels):
            return labels
        labels = spread


def find_components(mask: np.ndarray, level: np.ndarray) -> list[Component]:
    """The 8-connected components of `mask`, each weighed by the ink `level` it covers."""
    rows, starts, ends = ink_runs(mask)
    if rows.size == 0:
        return []
    roots = join_runs(rows, starts, ends, mask.shape[1])
    row_sums = np.zeros((mask.shape[0], mask.shape[1] + 1), np.float32)
    np.cumsum(level, axis=1, out=row_sums[:, 1:])
    run_mass = row_sums[rows, ends] - row_sums[rows, starts]
    order = np.argsort(roots, kind="stable")
    boundaries = np.flatnonzero(np.diff(roots[order])) + 1
    components = []
    for runs in np.split(order, boundaries):
        r, s, e = rows[runs], starts[runs], ends[runs]
        components.append(
            Component(
                x0=int(s.min()), y0=int(r.min()), x1=int(e.max()), y1=int(r.max()) + 1,
                area=int((e - s).sum()), mass=float(run_mass[runs].sum()), rows=r, starts=s, ends=e,
            )
        )
    return components


@dataclass(frozen=True)
class Region:
    """The ink of one digit (or a candidate piece of one): a mask over its box, in working pixels."""

    mask: np.ndarray  # bool, the box's height x width
    x0: int
    y0: int

    @property
    def box(self) -> tuple[int, int, int, int]:
        return self.x0, self.y0, self.x0 + self.mask.shape[1], self.y0 + self.mask.shape[0]

    @property
    def width(self) -> int:
        return self.mask.shape[1]

    @property
    def height(self) -> int:
        return self.mask.shape[0]


def region_of(components: list[Component]) -> Region:
    x0, y0 = min(c.x0 for c in components), min(c.y0 for c in components)
    x1, y1 = max(c.x1 for c in components), max(c.y1 for c in components)
    mask = np.zeros((y1 - y0) * (x1 - x0), bool)
    for c in components:
        mask[spans((c.rows - y0) * (x1 - x0) + c.starts - x0, c.ends - c.starts)] = True
    return Region(mask.reshape(y1 - y0, x1 - x0), x0, y0)


def trimmed(mask: np.ndarray, x0: int, y0: int) -> Region | None:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return Region(mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1], x0 + int(cols[0]), y0 + int(rows[0]))


def cut_candidates(region: Region, digit_height: int, most: int = 12) -> list[int]:
    """Columns where two touching digits may meet: the thinnest local minima of the ink per column,
    kept apart from each other and from the region's sides by a narrow digit's width (a 1)."""
    ink = np.convolve(region.mask.sum(axis=0).astype(np.float32), np.ones(3) / 3, mode="same")
    apart = max(1, round(NARROWEST * digit_height))
    minima = [c for c in range(apart, region.width - apart) if ink[c] <= ink[c - 1] and ink[c] <= ink[c + 1]]
    chosen: list[int] = []
    for column in sorted(minima, key=lambda c: ink[c]):
        if all(abs(column - c) >= apart for c in chosen):
            chosen.append(column)
        if len(chosen) == most:
            break
    return sorted(chosen)


def piece_between(region: Region, start: int, end: int, digit_height: int) -> Region | None:
    """The region's ink from column `start` to `end`, trimmed; None if too short to be a digit."""
    piece = trimmed(region.mask[:, start:end], region.x0 + start, region.y0)
    return piece if piece is not None and piece.height >= SHORTEST * digit_height else None


def is_page_edge(c: Component, width: int, height: int) -> bool:
    """The paper's edge, the table or a shadow beyond it: a filled area lying along the image's border,
    a long thin line across the page, or a sliver along the border. A digit cropped tightly touches the border only
    at points."""
    along_top = (c.ends - c.starts)[c.rows == 0].sum() / width
    along_bottom = (c.ends - c.starts)[c.rows == height - 1].sum() / width
    along_left, along_right = np.sum(c.starts == 0) / height, np.sum(c.ends == width) / height
    filled = c.area / (c.width * c.height)
    along_border = max(along_top, along_bottom, along_left, along_right) >= 0.5 and filled >= 0.5
    long_line = c.width > 0.6 * width and c.height < 0.15 * height
    # a sliver of the page's edge or shadow: most of its length runs along the border, and it is flat
    sliver = (max(along_top, along_bottom) * width >= 0.5 * c.width and c.height <= 0.05 * height) or (
        max(along_left, along_right) * height >= 0.5 * c.height and c.width <= 0.05 * width)
    return bool(along_border or long_line or sliver)


def is_flat(c: Component) -> bool:
    """Four times as wide as it is tall: a piece of a ruled line, or a digit's bar written apart; never a whole
    digit."""
    return c.width >= 4 * c.height


def main_components(components: list[Component], width: int, height: int, on_canvas: bool) -> list[Component]:
    """Components that may be (parts of) digits: no specks, no page edges or long lines."""
    largest = max(c.mass for c in components)
    kept = [c for c in components if c.mass >= 0.04 * largest]
    if on_canvas:  # a canvas has no page edges, and a stroke along its border was drawn on purpose
        return kept
    return [c for c in kept if not is_page_edge(c, width, height)] or kept


def group_around(anchor: Component, components: list[Component]) -> list[Component]:
    """Strokes of one digit need not touch (the bar of a 5): take in those close to the growing box."""
    group = [anchor]
    while True:
        x0, y0 = min(c.x0 for c in group), min(c.y0 for c in group)
        x1, y1 = max(c.x1 for c in group), max(c.y1 for c in group)
        reach = 0.6 * max(x1 - x0, y1 - y0)
        near = [
            c
            for c in components
            if c not in group and c.x0 < x1 + reach and c.x1 > x0 - reach and c.y0 < y1 + reach and c.y1 > y0 - reach
        ]
        if not near:
            return group
        group += near


def digit_groups(components: list[Component]) -> list[list[Component]]:
    """Left to right. Components stacked above one another (the bar of a 5) belong to one digit; a
    stroke much shorter than the digits (a 5's stem written apart) joins its digit if it is close by,
    and is left out (a dot, a dash) if not."""
    groups: list[list[Component]] = []
    for c in sorted(components, key=lambda c: c.x0):
        if groups:
            x0, x1 = min(g.x0 for g in groups[-1]), max(g.x1 for g in groups[-1])
            if min(x1, c.x1) - max(x0, c.x0) > 0.5 * min(c.width, x1 - x0):
                groups[-1].append(c)
                continue
        groups.append([c])
    tallest = max(height(g) for g in groups)
    for short in sorted((g for g in groups if height(g) < 0.6 * tallest), key=height):
        others = [g for g in groups if g is not short]
        nearest = min(others, key=lambda g: horizontal_gap(short, g), default=None)
        if nearest is not None and horizontal_gap(short, nearest) <= 0.25 * tallest:
            nearest.extend(short)
            groups.remove(short)
        elif height(short) < 0.4 * tallest:
            groups.remove(short)
    return groups


def height(group: list[Component]) -> int:
    return max(c.y1 for c in group) - min(c.y0 for c in group)


def horizontal_gap(a: list[Component], b: list[Component]) -> int:
    """Columns of paper between two groups' boxes (0 where they overlap)."""
    return max(min(c.x0 for c in b) - max(c.x1 for c in a), min(c.x0 for c in a) - max(c.x1 for c in b), 0)
