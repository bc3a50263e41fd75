"""The temperature that makes probabilities honest, the calibration error, and the Predictor using both."""

import json

import numpy as np
import pytest
import torch

from mnist_app.reading.predict import CONFIDENT_PROBABILITY, Predictor
from mnist_app.storage.weights import metadata_path, save_weights
from mnist_app.training.calibration import (
    TEMPERATURE_RANGE,
    confidence_bins,
    expected_calibration_error,
    fit_temperature,
)
from mnist_app.training.models import build_model


def sampled(temperature: float, n: int = 20_000, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits, and labels drawn from softmax(logits / temperature): honest only at that temperature."""
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, 10, generator=gen) * 4
    labels = torch.multinomial((logits / temperature).softmax(1), 1, generator=gen).squeeze(1)
    return logits, labels


@pytest.mark.parametrize("true_temperature", [0.4, 1.0, 2.5])
def test_fit_temperature_finds_the_temperature_the_labels_came_from(true_temperature):
    logits, labels = sampled(true_temperature)
    assert fit_temperature(logits, labels) == pytest.approx(true_temperature, rel=0.05)


def test_a_validation_split_without_errors_gives_a_finite_temperature():
    logits = torch.randn(200, 10, generator=torch.Generator().manual_seed(0))
    assert fit_temperature(logits, logits.argmax(1)) == TEMPERATURE_RANGE[0]


def test_calibration_error_is_small_when_honest_and_large_when_overconfident():
    logits, labels = sampled(2.0)
    honest = (logits / 2.0).softmax(1).numpy()
    overconfident = logits.softmax(1).numpy()
    assert expected_calibration_error(confidence_bins(honest, labels.numpy())) < 0.01
    assert expected_calibration_error(confidence_bins(overconfident, labels.numpy())) > 0.1


def test_confidence_bins_split_readings_by_top_probability():
    probabilities = np.array([[0.95, 0.05], [0.55, 0.45], [0.1, 0.9], [1.0, 0.0]])
    bins = confidence_bins(probabilities, np.array([0, 1, 1, 0]), bins=2)
    assert [b.count for b in bins] == [0, 4]
    assert bins[1].accuracy == 0.75 and bins[1].confidence == pytest.approx((0.95 + 0.55 + 0.9 + 1.0) / 4)


@pytest.fixture
def weights(tmp_path):
    """A small net with random weights, saved twice: with a temperature in its JSON and without."""
    torch.manual_seed(0)
    model = build_model("fast")
    plain, sharp = tmp_path / "plain.safetensors", tmp_path / "sharp.safetensors"
    save_weights(model, plain, {"architecture": "fast", "training": {"label_smoothing": 0.1}})
    save_weights(model, sharp, {"architecture": "fast", "training": {"label_smoothing": 0.1}, "temperature": 0.05})
    return plain, sharp


def test_predictor_divides_the_logits_by_the_stored_temperature(weights):
    plain, sharp = (Predictor(w) for w in weights)
    assert "temperature" not in json.loads(metadata_path(weights[0]).read_text())
    image = np.zeros((1, 28, 28), np.float32)
    image[0, 6:22, 12:16] = 1
    logits = plain.model(torch.from_numpy(image)[:, None]).detach()[0]
    before, after = plain.classify(image)[0], sharp.classify(image)[0]
    assert np.allclose(before.probabilities, logits.softmax(0).numpy(), atol=1e-5)  # no temperature: as before
    assert np.allclose(after.probabilities, (logits / 0.05).softmax(0).numpy(), atol=1e-5)
    assert before.digit == after.digit and max(after.probabilities) > max(before.probabilities)


def test_confident_rule_comes_from_the_calibrated_probability_when_there_is_a_temperature(weights):
    plain, sharp = (Predictor(w) for w in weights)
    assert plain.confident_probability == pytest.approx(0.85 * (1 - 0.9 * 0.1))  # today's label-smoothing rule
    assert sharp.confident_probability == CONFIDENT_PROBABILITY
    rng = np.random.default_rng(0)
    images = np.zeros((50, 28, 28), np.float32)
    images[:, 6:22, 11:17] = rng.uniform(0.5, 1, (50, 16, 6))
    for p in sharp.classify(images):
        assert p.confident == (max(p.probabilities) >= CONFIDENT_PROBABILITY)
