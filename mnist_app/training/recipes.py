"""Named training recipes: settings of the one engine that `--recipe NAME` picks on the command line.

`quarter-hour` is the shipped recipe in at most 15 minutes of CPU training (issue #17): the `full_res` net's 36
epochs, the last on unwarped images in place of the shipped recipe's second step, in bf16 on a CPU where bf16 trains
that net faster than float32 (`in_bf16_where_faster`), else in float32.
`quarter-hour-other-hands` is that recipe plus the other hands' augmentation (issue #14): the wider shear, digits
drawn in the development split's handwriting fonts and flags on some of MNIST's 1s. docs/training.md has their
runs; `benchmarks/recipe_speed.py` measures them.
"""

from dataclasses import replace

from mnist_app.training.engine import TrainConfig, pick_device
from mnist_app.training.machine import bf16_trains_faster

QUARTER_HOUR = TrainConfig(model="full_res", epochs=36, lr=0.05, label_smoothing=0.1, clean_epochs=1, threads=2)
# Augmentation for hands not MNIST's: the shipped weights' shear and font digits, and flags on 1s (docs/training.md).
OTHER_HANDS = {"shear": 0.25, "font_digits": 30, "flag_ones": 0.3}

RECIPES = {
    "quarter-hour": QUARTER_HOUR,
    "quarter-hour-other-hands": replace(QUARTER_HOUR, **OTHER_HANDS),
}


def in_bf16_where_faster(recipe: TrainConfig) -> TrainConfig:
    """The recipe with bf16 autocast on the CPU too where it trains the recipe's net clearly faster there than float32
    (timed once a process: machine.bf16_trains_faster). On a GPU the engine's default is bf16 already."""
    if pick_device(recipe.device).type != "cpu" or not bf16_trains_faster(recipe.model, recipe.threads):
        return recipe
    return replace(recipe, autocast=True)
