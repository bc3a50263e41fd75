"""Training digits in the development split's handwriting fonts (mnist_app/training/font_digits.py). Drawing them
needs one such font: CI installs Debian's fonts-breip; elsewhere these tests are skipped with that reason."""

import json

import numpy as np
import pytest

from mnist_app.reading.predict import Predictor
from mnist_app.synthesis import hands
from mnist_app.testing.mnist_files import write_mnist
from mnist_app.training import font_digits
from mnist_app.training.data import NOT_A_DIGIT_LABEL
from mnist_app.training.train import main

needs_breip = pytest.mark.skipif(
    hands.font_path("breip") is None, reason="needs a development-split font: apt-get install -y fonts-breip"
)


def test_only_development_hands_are_drawn_for_training():
    assert hands.split_of("breip") == "dev"
    assert all(hands.split_of(h) == "dev" for h in font_digits.training_hands())


@needs_breip
def test_a_hands_digits_are_the_seeded_28x28s_the_model_is_shown_and_read_as_their_labels():
    images, labels = font_digits.hand_drawings("breip", "0123456789", 2, seed=0)
    again, _ = font_digits.hand_drawings("breip", "0123456789", 2, seed=0)
    other, _ = font_digits.hand_drawings("breip", "0123456789", 2, seed=1)
    assert images.shape[1:] == (28, 28) and images.dtype == np.uint8 and np.array_equal(images, again)
    assert not np.array_equal(images, other)
    assert sorted(set(labels.tolist())) == list(range(10)) and len(labels) >= 18  # a drawing may be lost, not more
    read = [p.digit for p in Predictor().classify(images / 255.0)]
    assert np.mean(np.array(read) == labels) >= 0.8


@needs_breip
def test_a_hands_letters_are_drawn_as_not_digits_leaving_out_those_written_as_0_and_1():
    images, labels = font_digits.hand_drawings("breip", font_digits.NOT_DIGIT_LETTERS, 1, seed=0)
    assert len(labels) >= 40 and set(labels.tolist()) == {NOT_A_DIGIT_LABEL} and images.shape[1:] == (28, 28)
    taught = set(font_digits.NOT_DIGIT_LETTERS)
    assert not set("OoIl") & taught and {"A", "S", "g"} <= taught


@needs_breip
def test_the_cli_mixes_font_digits_into_training_and_records_it(tmp_path, monkeypatch):
    monkeypatch.setattr(font_digits.hands, "installed_hands", lambda split, family: ["breip"])  # one hand: a quick test
    data = write_mnist(tmp_path / "data", n_train=600, n_test=100)
    out = tmp_path / "w.safetensors"
    main(["--data", str(data), "--model", "fast", "--epochs", "1", "--val-size", "100", "--threads", "2",
          "--font-digits", "1", "--font-letters", "1", "--shear", "0.3", "--out", str(out)])
    training = json.loads(out.with_suffix(".json").read_text())["training"]
    assert training["font_digits"] == 1 and training["font_letters"] == 1 and training["shear"] == 0.3


@needs_breip
def test_a_held_out_hand_is_never_drawn_and_the_weights_record_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(font_digits.hands, "installed_hands", lambda split, family: ["breip", "comic-neue"])
    drawn = []
    with monkeypatch.context() as m:
        m.setattr(font_digits, "hand_drawings", lambda hand, *a: drawn.append(hand) or (np.zeros((1, 28, 28),
                  np.uint8), np.zeros(1, np.int64)))
        font_digits.font_drawings(1, processes=1, hold_out=("comic-neue",))
    assert drawn == ["breip"]
    data = write_mnist(tmp_path / "data", n_train=300, n_test=100)
    out = tmp_path / "w.safetensors"
    main(["--data", str(data), "--model", "fast", "--epochs", "1", "--val-size", "100", "--font-digits", "1",
          "--font-hold-out", "comic-neue", "--out", str(out)])
    assert json.loads(out.with_suffix(".json").read_text())["training"]["font_hold_out"] == ["comic-neue"]
    with pytest.raises(SystemExit):  # a report-split hand is never trained on, so it cannot be held out either
        main(["--data", str(data), "--font-digits", "1", "--font-hold-out", "kristi", "--out", str(out)])
    assert "not development-split hands: kristi" in capsys.readouterr().err


@needs_breip
def test_fontsource_hands_are_drawn_only_when_their_family_is_asked_for_and_the_weights_record_it(
    tmp_path, monkeypatch, capsys
):
    installed = {"debian": ["breip"], "fontsource": ["caveat", "gochi-hand"]}
    monkeypatch.setattr(font_digits.hands, "installed_hands", lambda split, family: installed[family])
    drawn = []
    with monkeypatch.context() as m:
        m.setattr(font_digits, "hand_drawings", lambda hand, *a: drawn.append(hand) or (np.zeros((1, 28, 28),
                  np.uint8), np.zeros(1, np.int64)))
        font_digits.font_drawings(1, processes=1)
        assert drawn == ["breip"], "the Debian family alone unless told: the shipped recipe draws what it always drew"
        drawn.clear()
        font_digits.font_drawings(1, processes=1, hold_out=("gochi-hand",), families=("debian", "fontsource"))
        assert drawn == ["breip", "caveat"]
    installed["fontsource"] = []  # the CLI's drawing runs in a pool, out of reach of the lambda: real fonts only
    data = write_mnist(tmp_path / "data", n_train=300, n_test=100)
    out = tmp_path / "w.safetensors"
    main(["--data", str(data), "--model", "fast", "--epochs", "1", "--val-size", "100", "--font-digits", "1",
          "--font-families", "debian,fontsource", "--condensed", "0.2", "--condensed-on", "drawn", "--out", str(out)])
    training = json.loads(out.with_suffix(".json").read_text())["training"]
    assert training["font_families"] == ["debian", "fontsource"]
    assert training["condensed"] == 0.2 and training["condensed_on"] == "drawn"
    with pytest.raises(SystemExit):
        main(["--data", str(data), "--font-digits", "1", "--font-families", "google", "--out", str(out)])
    assert "families of hands are debian, fontsource, not 'google'" in capsys.readouterr().err


def test_each_hand_draws_its_own_digits_whichever_family_it_is_in():
    numbers = [font_digits.seed_number(hand) for hand in hands.FONT_FILES]
    assert len(set(numbers)) == len(numbers), "no two hands share a seed, so no two draw the same variations"
    assert font_digits.seed_number("breip") == sorted(hands.FONTS).index("breip"), "Debian hands' seeds as before"


def test_without_any_development_font_the_cli_says_which_are_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(font_digits.hands, "installed_hands", lambda split, family: [])
    data = write_mnist(tmp_path / "data", n_train=300, n_test=100)
    with pytest.raises(SystemExit):
        main(["--data", str(data), "--model", "fast", "--epochs", "1", "--val-size", "100", "--font-digits", "1",
              "--out", str(tmp_path / "w.safetensors")])
    assert "--font-digits/--font-letters: no development-split handwriting font is installed" in capsys.readouterr().err
