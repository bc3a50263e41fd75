import pytest
import torch

from mnist_app.training import engine
from mnist_app.training.augment import add_flags, centre_of_mass, condensed, counter_mask, hollow_strokes
from mnist_app.training.data import Splits
from mnist_app.training.engine import TrainConfig, train


def upright_one() -> torch.Tensor:
    """A 1 as MNIST has most of them: a bar 3 px wide and 20 high, nothing at its top."""
    image = torch.zeros(1, 28, 28)
    image[0, 4:24, 13:16] = 1.0
    return image


def ring_zero() -> torch.Tensor:
    """A 0 as a ring 3 to 4 px wide around a counter 5 px in radius, in the middle of 28x28."""
    rows, cols = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    radius = torch.hypot(rows - 14, cols - 14)
    return ((radius >= 5) & (radius <= 8)).float()[None]


def test_a_flag_runs_from_the_top_of_a_1s_stem_down_to_the_left_in_the_stems_pen():
    batch = torch.stack([upright_one()] * 40)
    labels = torch.tensor([1] * 20 + [7] * 20)
    flagged = add_flags(batch, labels, share=1.0, gen=torch.Generator().manual_seed(0))
    assert torch.equal(flagged[20:], batch[20:]), "a 7 with the same strokes is left as it is"
    for image in flagged[:20, 0]:
        # The flagged 1 may have moved (it keeps its centre of mass): find its stem by its foot, which no flag reaches.
        foot_row = int(torch.nonzero(image.sum(1) > 0.5).max())
        dy, dx = foot_row - 23, int(torch.nonzero(image[foot_row] > 0.5).min()) - 13
        stem = torch.roll(upright_one()[0], (dy, dx), (0, 1)) > 0.5
        rows, cols = torch.nonzero((image > 0.5) & ~stem, as_tuple=True)
        rows, cols = rows - dy, cols - dx  # as if the stem were where upright_one has it
        assert cols.numel() >= 3 and cols.min() < 13, "every 1 gets new ink, reaching left of the stem"
        assert cols.max() <= 15 and rows.min() >= 3, "none right of the stem, above it only the pen's round end"
        end = cols.argmin()  # the flag's free end: down and to the left of the stem's top (row 4, column 14)
        drop, reach = rows[end] - 4, 14 - cols[end]
        # Between 20 and 65 degrees below the horizontal: a 7's bar is flatter, and a steeper stroke is a second stem
        assert 0.36 * reach - 1 <= drop <= 2.2 * reach + 1, "sloping as a 1's flag, not a 7's bar"
        assert reach <= 0.5 * 20 + 1, "no longer than half the digit's height"
        thickest = torch.bincount(cols).max()  # the flag's pen: about the stem's 3 px, measured down a column
        assert 1 <= thickest <= 6, "drawn in a pen like the stem's"


def test_a_flagged_1_keeps_its_centre_of_mass_as_the_apps_pipeline_places_it():
    # MNIST placed each 1 by its mass before a flag was painted on; the app places a drawing by its mass, flag and
    # all. A flag left where it was painted moves the mass up and left: a 1 placed as the app never shows one.
    batch = torch.stack([upright_one()] * 20)
    flagged = add_flags(batch, torch.ones(20, dtype=torch.long), share=1.0, gen=torch.Generator().manual_seed(0))
    rows, cols = centre_of_mass(flagged[:, 0])
    assert (rows - 13.5).abs().max() <= 0.5 and (cols - 14.0).abs().max() <= 0.5, "where the unflagged 1's is"
    foot = (flagged[:, 0].sum(2) > 0.5).float().cumsum(1).argmax(1)  # the stem's last row: 23 before the flag
    assert (foot > 23).all(), "every flagged 1 moved down, its flag's weight at its top"
    assert (flagged.sum((1, 2, 3)) >= batch.sum((1, 2, 3))).all(), "no ink lost off the edge"


def test_no_flag_when_the_share_is_nought_and_the_picture_is_untouched():
    batch = torch.stack([upright_one()] * 8)
    labels = torch.ones(8, dtype=torch.long)
    assert torch.equal(add_flags(batch, labels, share=0.0, gen=torch.Generator().manual_seed(0)), batch)
    add_flags(batch, labels, share=1.0, gen=torch.Generator().manual_seed(0))
    assert torch.equal(batch, torch.stack([upright_one()] * 8)), "the training images themselves stay unflagged"


def test_hollow_strokes_grow_outward_keep_the_counter_open_and_cut_parts_of_the_strokes_insides():
    batch = torch.stack([ring_zero()] * 40)
    hollowed = hollow_strokes(batch, share=1.0, gen=torch.Generator().manual_seed(0))
    ink = hollowed[:, 0] > 0.5
    assert not ink[:, 11:18, 11:18].any(), "the 0's counter stays open: it is what tells a 0 from a 1"
    widths = ink.any(1).sum(1)  # the ring is 17 px across; its outer edge is never cut
    assert set(widths.tolist()) == {19, 21}, "grown by 1 or 2 px on each side"
    cuts = counter_mask(hollowed).flatten(1).sum(1) - counter_mask(batch).flatten(1).sum(1)
    assert (cuts > 0).sum() >= 10, "many have holes cut in the stroke's inside, as a sketchy outline leaves"
    assert (cuts == 0).sum() >= 2, "some are left whole: from none cut to a bare outline"


def test_no_hollow_strokes_when_the_share_is_nought_and_the_picture_is_untouched():
    batch = torch.stack([ring_zero()] * 8)
    assert torch.equal(hollow_strokes(batch, share=0.0, gen=torch.Generator().manual_seed(0)), batch)
    hollow_strokes(batch, share=1.0, gen=torch.Generator().manual_seed(0))
    assert torch.equal(batch, torch.stack([ring_zero()] * 8)), "the training images themselves stay as they were"


def test_condensed_digits_are_squeezed_as_narrow_as_condensed_hands_write_them_but_1s_and_letters_are_not():
    batch = torch.stack([ring_zero()] * 60)
    labels = torch.tensor([0] * 40 + [1] * 10 + [-1] * 10)  # -1: not a digit
    squeezed = condensed(batch, labels, share=1.0, gen=torch.Generator().manual_seed(0))
    widths = (squeezed[:, 0] > 0.3).any(1).sum(1).float()
    heights = (squeezed[:, 0] > 0.05).any(2).sum(1)
    assert torch.equal(squeezed[40:], batch[40:]), "a 1 is narrow already; a letter is not a digit"
    assert (widths[:40] <= 0.6 * 17 + 2).all() and (widths[:40] >= 0.25 * 17).all(), "0.25-0.55 of 17 px, pen widened"
    assert widths[:40].std() > 1, "squeezed by different amounts"
    assert (heights[:40] >= 15).all(), "the height stays (a squeeze may skip the ring's one-pixel top and bottom)"
    assert torch.equal(condensed(batch, labels, share=0.0, gen=torch.Generator().manual_seed(0)), batch)
    assert torch.equal(batch, torch.stack([ring_zero()] * 60)), "the training images themselves stay as they were"


@pytest.mark.parametrize(
    "setting, drawn_by",
    [("flag_ones", "add_flags"), ("hollow_strokes", "hollow_strokes"), ("condensed", "condensed")],
)
def test_the_engine_draws_these_other_hands_shapes_in_the_warped_epochs_only(monkeypatch, setting, drawn_by):
    images = torch.zeros(256, 28, 28, dtype=torch.uint8)
    images[:, 4:24, 13:16] = 255
    labels = torch.arange(256) % 10
    splits = Splits(images[:192], labels[:192], images[192:], labels[192:])
    shares = []
    monkeypatch.setattr(engine, drawn_by, lambda x, *rest, **_: shares.append(rest[-2]) or x)  # (..., share, gen)
    cfg = TrainConfig(model="fast", epochs=3, batch_size=64, lr=0.05, threads=1, clean_epochs=1, **{setting: 0.3})
    train(cfg, splits)
    assert shares == [0.3] * 6  # two warped epochs of three batches; the clean epoch has none


def test_condensed_on_drawn_squeezes_the_drawn_digits_and_never_mnists_own(monkeypatch):
    own = torch.zeros(128, 28, 28, dtype=torch.uint8)
    own[:, 4:24, 4:24] = 255  # MNIST's own: a wide square
    drawn = own.clone()
    drawn[:, 10:18, 10:18] = 0  # drawn: a wide ring, told apart from MNIST's own by its hole
    labels = torch.arange(128) % 10
    splits = Splits(own[:96], labels[:96], own[96:], labels[96:]).with_training(drawn[:96], labels[:96])
    seen = []

    def recording(x, labels, share, gen, among=None):
        squeezed = condensed(x, labels, share, gen, among)
        seen.append((x, labels, squeezed))
        return squeezed

    monkeypatch.setattr(engine, "condensed", recording)
    train(TrainConfig(model="fast", epochs=1, batch_size=64, lr=0.05, threads=1, clean_epochs=0,
                      condensed=1.0, condensed_on="drawn"), splits)
    x, labels, squeezed = (torch.cat(parts) for parts in zip(*seen, strict=True))
    holed = x[:, 0, 14, 14] == 0
    changed = (squeezed != x).flatten(1).any(1)
    assert holed.any() and (~holed).any(), "the batches held both kinds"
    assert not changed[~holed].any(), "MNIST's own digits are never squeezed"
    assert torch.equal(changed[holed], labels[holed] != 1), "every drawn digit but the 1s is squeezed"
