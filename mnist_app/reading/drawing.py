"""Which strokes on a canvas make one digit. `segment.digit_groups` joins strokes stacked above one another and
short strokes close to a digit; a digit written with a gap between two tall strokes (a 4 whose upright does not
meet its bar) still comes out as two groups. Two neighbouring groups close enough to be one digit are read both
ways, and kept as one where the network is surer of the one digit than of the two.
"""

from collections.abc import Callable

import numpy as np

from mnist_app.reading.segment import Component, Region, digit_groups, height, horizontal_gap, region_of

JOIN_GAP = 0.2  # groups further apart than this (in digit heights) are separate digits, however they read
WIDEST_JOINED = 0.9  # ... and so are two whose joined box is wider than this share of its height ("42")


def may_be_one_digit(left: list[Component], right: list[Component], tallest: int) -> bool:
    joined = left + right
    width = max(c.x1 for c in joined) - min(c.x0 for c in joined)
    return horizontal_gap(left, right) <= JOIN_GAP * tallest and width <= WIDEST_JOINED * height(joined)


def drawn_digits(
    components: list[Component], sureness: Callable[[list[Region]], list[float]]
) -> list[list[Component]]:
    """The strokes of each digit, left to right. `sureness` gives the network's top probability for each region."""
    groups = digit_groups(components)
    tallest = max(height(g) for g in groups)
    digits = [groups[0]]
    for group in groups[1:]:
        last = digits[-1]
        if may_be_one_digit(last, group, tallest):
            joined, apart_left, apart_right = sureness([region_of(last + group), region_of(last), region_of(group)])
            if np.log(joined) > np.log(apart_left) + np.log(apart_right):
                digits[-1] = last + group
                continue
        digits.append(group)
    return digits
