"""Weights part of the way from a base to its fine-tune (or to several fine-tunes' mean, a soup): the arithmetic,
and the CLI's weights and metadata."""

import json

import pytest
import torch

from mnist_app.reading.predict import Predictor
from mnist_app.storage.weights import save_weights
from mnist_app.testing.mnist_files import write_mnist
from mnist_app.training.fine_tune import fine_tune_config, from_scratch_training
from mnist_app.training.interpolate import interpolated, main, soup
from mnist_app.training.models import build_model
from mnist_app.training.train import main as train_main


def test_every_weight_and_running_statistic_moves_the_share_of_the_way_and_counters_stay_the_bases():
    base = build_model("fast").state_dict()
    tuned = {k: v + 1 if v.is_floating_point() else v + 7 for k, v in base.items()}
    half = interpolated(base, tuned, 0.25)
    mean = next(k for k in base if k.endswith("running_mean"))
    counter = next(k for k in base if k.endswith("num_batches_tracked"))
    weight = next(k for k in base if k.endswith("weight"))
    assert torch.allclose(half[weight], base[weight] + 0.25) and torch.allclose(half[mean], base[mean] + 0.25)
    assert half[counter] == base[counter] and half[counter].dtype == torch.int64
    assert all(torch.equal(interpolated(base, tuned, 0.0)[k], base[k]) for k in base)
    with pytest.raises(ValueError, match="not one architecture"):
        interpolated(base, build_model("compact").state_dict(), 0.5)


def test_a_soup_is_every_weights_mean_and_keeps_the_first_ones_counters():
    states = [build_model("fast").state_dict() for _ in range(3)]
    states[1] = {k: v + 7 if not v.is_floating_point() else v for k, v in states[1].items()}
    mixed = soup(states)
    weight = next(k for k in mixed if k.endswith("weight"))
    counter = next(k for k in mixed if k.endswith("num_batches_tracked"))
    assert torch.allclose(mixed[weight], (states[0][weight] + states[1][weight] + states[2][weight]) / 3)
    assert mixed[counter] == states[0][counter]
    assert all(torch.equal(soup(states[:1])[k], states[0][k]) for k in mixed)
    with pytest.raises(ValueError, match="not one architecture"):
        soup([states[0], build_model("compact").state_dict()])


@pytest.fixture(scope="module")
def base_and_tuned(tmp_path_factory):
    folder = tmp_path_factory.mktemp("interpolate")
    data = write_mnist(folder / "data", n_train=1200, n_test=300)
    common = ["--data", str(data), "--model", "fast", "--batch-size", "64", "--val-size", "200", "--threads", "2"]
    base, tuned = folder / "base.safetensors", folder / "tuned.safetensors"
    train_main([*common, "--epochs", "2", "--lr", "0.05", "--no-augment", "--out", str(base)])
    train_main([*common, "--epochs", "1", "--lr", "0.01", "--init", str(base), "--out", str(tuned)])
    return data, base, tuned


def test_the_cli_writes_weights_that_read_digits_with_their_own_temperature_and_the_fine_tunes_chain(
    base_and_tuned, tmp_path, capsys
):
    data, base, tuned = base_and_tuned
    out = tmp_path / "half.safetensors"
    main(["--data", str(data), str(base), str(tuned), "--share", "0.5", "--out", str(out)])
    assert "test accuracy:" in capsys.readouterr().out
    meta = json.loads(out.with_suffix(".json").read_text())
    tuned_meta = json.loads(tuned.with_suffix(".json").read_text())
    assert meta["interpolated"] == {"base": "base.safetensors", "tuned": "tuned.safetensors", "share": 0.5}
    assert meta["test_accuracy"] > 0.8 and 0.05 <= meta["temperature"] <= 20 and meta["temperature"] != 1.0
    # A corrections fine-tune of the result follows the recipe of the run from scratch at the chain's root.
    assert meta["started_from"]["weights"] == "tuned.safetensors"
    assert from_scratch_training(meta) == tuned_meta["started_from"]["training"]
    assert fine_tune_config(meta).model == "fast"
    predictor = Predictor(out)
    assert predictor.temperature == meta["temperature"]
    halfway = interpolated(Predictor(base).model.state_dict(), Predictor(tuned).model.state_dict(), 0.5)
    assert all(torch.equal(predictor.model.state_dict()[k], halfway[k]) for k in halfway)


def test_the_cli_refuses_a_share_outside_0_to_1_and_weights_of_two_architectures(base_and_tuned, tmp_path, capsys):
    data, base, tuned = base_and_tuned
    with pytest.raises(SystemExit):
        main(["--data", str(data), str(base), str(tuned), "--share", "1.5", "--out", str(tmp_path / "x.safetensors")])
    assert "not between 0 (the base) and 1 (the fine-tune)" in capsys.readouterr().err
    other = tmp_path / "other.safetensors"
    save_weights(build_model("compact"), other, {"architecture": "compact"})
    with pytest.raises(SystemExit):
        main(["--data", str(data), str(base), str(other), "--out", str(tmp_path / "x.safetensors")])
    assert "is a 'fast' model" in capsys.readouterr().err
    assert not (tmp_path / "x.safetensors").exists()


def test_the_cli_serves_the_soup_of_several_fine_tunes(base_and_tuned, tmp_path):
    data, base, tuned = base_and_tuned
    other = tmp_path / "other_seed.safetensors"
    common = ["--data", str(data), "--model", "fast", "--batch-size", "64", "--val-size", "200", "--threads", "2"]
    train_main([*common, "--epochs", "1", "--lr", "0.01", "--seed", "2", "--init", str(base), "--out", str(other)])
    out = tmp_path / "soup.safetensors"
    main(["--data", str(data), str(base), str(tuned), str(other), "--share", "1", "--out", str(out)])
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["interpolated"]["tuned"] == ["tuned.safetensors", "other_seed.safetensors"]
    assert meta["started_from"]["weights"] == "tuned.safetensors" and meta["test_accuracy"] > 0.8
    first = Predictor(tuned).model.state_dict()
    mean = soup([first, Predictor(other).model.state_dict()])
    expected = interpolated(Predictor(base).model.state_dict(), mean, 1.0)  # the soup's tensors, the base's counters
    served = Predictor(out).model.state_dict()
    assert any(not torch.equal(mean[k], first[k]) for k in mean if mean[k].is_floating_point())  # the seeds differ
    assert all(torch.allclose(served[k].float(), expected[k].float()) for k in expected)
