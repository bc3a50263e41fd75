"""Named training recipes: settings of the one engine that `--recipe NAME` picks on the command line.

`quarter-hour` is the shipped net's kind of recipe in about 15 minutes of CPU training (issue #17), with the
other hands' augmentation (issue #14): the `crop24` net, the wider shear and digits drawn in the development
split's handwriting fonts, and a last epoch on unwarped images in place of the shipped recipe's second step.
docs/training.md has its runs; `benchmarks/recipe_speed.py` measures it.
"""

from mnist_app.training.engine import TrainConfig

RECIPES = {
    "quarter-hour": TrainConfig(
        model="crop24", epochs=28, lr=0.1, label_smoothing=0.1, shear=0.25, font_digits=30, clean_epochs=1,
        threads=2,
    ),
}
