"""Augmentation on whole batches as tensors: one grid_sample per batch, no per-image PIL work.

Covers what real inputs differ in after preprocessing: small rotations, scale, shear and
shifts (affine), wobbly handwriting (elastic), and pen or brush width (stroke thickness). `add_flags` gives some
of the 1s the flag most of the world writes, which MNIST's writers hardly ever drew; `hollow_strokes` makes some
digits look as outlined ("bubble") digits do once the pipeline has filled what it could of them; `condensed`
squeezes some digits as narrow as condensed hands write them, which MNIST's writers hardly ever did but for 1s.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AugmentConfig:
    rotate_deg: float = 10.0
    scale: float = 0.12
    shear: float = 0.1
    shift_px: float = 2.0
    elastic_px: float = 0.6
    thickness: float = 0.4  # up to this share of a 3x3 dilation or erosion, per image


# A 1's flag: a stroke from the top of the stem down to the left, this long (of the digit's height) and this steep
# (degrees below the horizontal). A flatter or longer one is the bar of a 7.
FLAG_LENGTH = (0.15, 0.5)
FLAG_ANGLE = (25.0, 60.0)


def random_affine(n: int, cfg: AugmentConfig, gen: torch.Generator, device: torch.device) -> torch.Tensor:
    """N x 2 x 3 matrices mapping output to input coordinates (affine_grid's convention)."""

    def uniform(bound: float) -> torch.Tensor:
        return (torch.rand(n, generator=gen, device=device) * 2 - 1) * bound

    angle = uniform(math.radians(cfg.rotate_deg))
    scale = 1 + uniform(cfg.scale)
    shear = uniform(cfg.shear)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.zeros(n, 2, 3, device=device)
    theta[:, 0, 0] = cos
    theta[:, 0, 1] = -sin + shear * cos
    theta[:, 1, 0] = sin
    theta[:, 1, 1] = cos + shear * sin
    theta[:, :, 2] = torch.stack([uniform(cfg.shift_px), uniform(cfg.shift_px)], 1) * (2 / 28)
    return theta


def elastic_offsets(n: int, cfg: AugmentConfig, gen: torch.Generator, device: torch.device) -> torch.Tensor:
    """Smooth random displacement fields: coarse noise upsampled, so strokes bend, not tear."""
    coarse = torch.randn(n, 2, 4, 4, generator=gen, device=device)
    field = F.interpolate(coarse, size=(28, 28), mode="bicubic", align_corners=False)
    return field.permute(0, 2, 3, 1) * (cfg.elastic_px * 2 / 28)


def dilated(x: torch.Tensor) -> torch.Tensor:
    """Each pixel the brightest of its 3x3 neighbourhood: strokes 1 px bolder on every side."""
    return F.max_pool2d(x, 3, stride=1, padding=1)


def eroded(x: torch.Tensor) -> torch.Tensor:
    """Each pixel the darkest of its 3x3 neighbourhood: strokes 1 px thinner on every side."""
    return -dilated(-x)


def vary_thickness(x: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator) -> torch.Tensor:
    """Blend each image towards its dilation (thicker) or erosion (thinner) by a random amount."""
    amount = (torch.rand(x.shape[0], 1, 1, 1, generator=gen, device=x.device) * 2 - 1) * cfg.thickness
    target = torch.where(amount > 0, dilated(x), eroded(x))
    return torch.lerp(x, target, amount.abs())


def augment_batch(x: torch.Tensor, gen: torch.Generator, cfg: AugmentConfig = AugmentConfig()) -> torch.Tensor:
    """x: N x 1 x 28 x 28 float in [0, 1]. Returns a warped copy of the same shape."""
    n = x.shape[0]
    grid = F.affine_grid(random_affine(n, cfg, gen, x.device), list(x.shape), align_corners=False)
    if cfg.elastic_px > 0:
        grid = grid + elastic_offsets(n, cfg, gen, x.device)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    if cfg.thickness > 0:
        x = vary_thickness(x, cfg, gen)
    return x


def counter_mask(x: torch.Tensor) -> torch.Tensor:
    """1 on the paper (below half ink) that a flood from the image's border cannot reach: the counters of 0, 4, 6,
    8 and 9. x: N x 1 x 28 x 28."""
    paper = (x < 0.5).float()
    reached = F.pad(torch.zeros_like(x[:, :, 1:-1, 1:-1]), (1, 1, 1, 1), value=1.0) * paper
    while True:
        grown = dilated(reached) * paper
        if torch.equal(grown, reached):
            return paper - reached
        reached = grown


def hollow_strokes(x: torch.Tensor, share: float, gen: torch.Generator) -> torch.Tensor:
    """x (N x 1 x 28 x 28) with `share` of its images drawn as a sketchy outline leaves them once the pipeline has
    filled what it could: strokes grown 1 or 2 px outward (counters kept open) with random parts of their insides
    cut out, from none to a bare outline. Such digits were read as others (a 1 as 9, a 5 as 8): docs/training.md."""
    n = x.shape[0]

    def uniform() -> torch.Tensor:
        return torch.rand(n, 1, 1, 1, generator=gen, device=x.device)

    chosen, by_two = uniform() < share, (uniform() < 0.5).float()
    coarse = torch.randn(n, 1, 7, 7, generator=gen, device=x.device)
    level = uniform() * 2 - 1  # how much of the inside goes
    picked = torch.nonzero(chosen.flatten()).flatten()  # only these are worked on: the flood costs
    digits = x[picked]
    keep_open = 1 - counter_mask(digits)
    bolder = dilated(digits) * keep_open
    boldest = dilated(bolder) * keep_open
    bold = torch.maximum(digits, torch.lerp(bolder, boldest, by_two[picked]))
    inside = eroded(bold)  # the stroke less its edge
    field = F.interpolate(coarse[picked], size=(28, 28), mode="bilinear", align_corners=False)
    cut = (field < level[picked]).float()  # smooth patches of it
    hollowed = x.clone()
    hollowed[picked] = bold * (1 - inside * cut)
    return hollowed


def add_flags(x: torch.Tensor, labels: torch.Tensor, share: float, gen: torch.Generator) -> torch.Tensor:
    """x (N x 1 x 28 x 28) with `share` of its 1s given a flag drawn in the pen of their stem (a seeded length and
    angle within FLAG_LENGTH and FLAG_ANGLE), each flagged 1 then moved to keep its centre of mass."""
    n = x.shape[0]
    pick = torch.rand(n, generator=gen, device=x.device) < share
    ink = x[:, 0] > 0.5
    chosen = torch.nonzero(pick & (labels == 1) & ink.flatten(1).any(1)).flatten()
    if chosen.numel() == 0:
        return x
    image, ink = x[chosen, 0], ink[chosen]
    inked_rows = ink.any(2).float()
    top = inked_rows.argmax(1)
    height = (27 - inked_rows.flip(1).argmax(1) - top + 1).float()
    columns = torch.arange(28, device=x.device, dtype=x.dtype)
    top_row = image[torch.arange(len(chosen), device=x.device), top]
    stem = (top_row * columns).sum(1) / top_row.sum(1)  # where the stem's top is, across
    pen = ink.flatten(1).sum(1) / height  # a 1 is its stem: its area over its height is the pen's width

    def uniform(bounds: tuple[float, float]) -> torch.Tensor:
        low, high = bounds
        return low + torch.rand(len(chosen), generator=gen, device=x.device) * (high - low)

    length, angle = uniform(FLAG_LENGTH) * height, torch.deg2rad(uniform(FLAG_ANGLE))
    down, left = length * torch.sin(angle), -length * torch.cos(angle)  # the flag, as a vector from the stem's top
    # One 28x28 plane per chosen 1: each pixel's offset from the stem's top, and how near it is to the flag.
    down, left, length, pen = (v[:, None, None] for v in (down, left, length, pen))
    rows = columns[None, :, None] - top[:, None, None].float()
    cols = columns[None, None, :] - stem[:, None, None]
    along = ((rows * down + cols * left) / length**2).clamp(0, 1)  # the nearest point of the flag, as a share of it
    distance = torch.hypot(rows - along * down, cols - along * left)
    flag = (pen / 2 + 0.5 - distance).clamp(0, 1)
    flagged = x.clone()
    flagged[chosen, 0] = recentred(torch.maximum(image, flag), image)
    return flagged


def centre_of_mass(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Row and column of each N x H x W image's centre of mass."""
    total = images.sum((1, 2)).clamp_min(1e-6)
    rows = torch.arange(images.shape[1], device=images.device, dtype=images.dtype)
    cols = torch.arange(images.shape[2], device=images.device, dtype=images.dtype)
    return (images.sum(2) * rows).sum(1) / total, (images.sum(1) * cols).sum(1) / total


def recentred(images: torch.Tensor, before: torch.Tensor) -> torch.Tensor:
    """`images` (N x H x W) moved by whole pixels so that each centre of mass is where `before`'s was. MNIST placed
    each 1 by its mass before the flag was painted on; the app's pipeline places a digit by its mass, flag and all."""
    (row, col), (row0, col0) = centre_of_mass(images), centre_of_mass(before)
    h, w = images.shape[1:]
    moved = torch.zeros_like(images)
    shifts = zip((row0 - row).round().int().tolist(), (col0 - col).round().int().tolist(), strict=True)
    for i, (dy, dx) in enumerate(shifts):
        moved[i, max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = images[
            i, max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)]
    return moved


def condensed(
    x: torch.Tensor, labels: torch.Tensor, share: float, gen: torch.Generator, among: torch.Tensor | None = None
) -> torch.Tensor:
    """x (N x 1 x 28 x 28) with `share` of its digits other than 1 (of those `among` marks, if given) squeezed to
    0.25-0.55 of their width about the middle, the pen widened back by a 1x3 dilation. MNIST's digits other than 1
    are narrower than 0.45 of their height about once in a hundred, so a net reads anything that narrow as 1
    (docs/training.md, "Unseen hands")."""
    n = len(x)
    chosen = (torch.rand(n, generator=gen, device=x.device) < share) & (labels != 1) & (labels >= 0)
    if among is not None:
        chosen &= among
    squeeze = 0.25 + 0.3 * torch.rand(n, generator=gen, device=x.device)
    if not chosen.any():
        return x
    picked = x[chosen]
    theta = torch.zeros(len(picked), 2, 3, device=x.device)
    theta[:, 0, 0], theta[:, 1, 1] = 1 / squeeze[chosen], 1.0  # the grid samples 1/squeeze as wide: the digit narrows
    grid = F.affine_grid(theta, list(picked.shape), align_corners=False)
    narrow = F.grid_sample(picked, grid, align_corners=False, padding_mode="zeros")
    squeezed = x.clone()
    squeezed[chosen] = F.max_pool2d(narrow, (1, 3), stride=1, padding=(0, 1))
    return squeezed
