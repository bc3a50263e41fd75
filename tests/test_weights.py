import json

import pytest
import torch
from torchvision.transforms import CenterCrop as TorchvisionCenterCrop

from mnist_app.storage.weights import WeightsError, load_weights, metadata_path, save_weights
from mnist_app.training.models import ALIASES, MODELS, CenterCrop, build_model, parameter_count


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    model = build_model("fast").eval()
    path = tmp_path / "m.safetensors"
    save_weights(model, path, {"architecture": "fast", "test_accuracy": 0.5})
    return model, path


def test_round_trip_gives_identical_predictions(saved):
    model, path = saved
    loaded, meta = load_weights(path)
    x = torch.rand(8, 1, 28, 28)
    assert torch.equal(model(x), loaded(x))
    assert meta["architecture"] == "fast" and meta["parameters"] == parameter_count(model)
    assert not loaded.training


def test_no_temp_files_are_left_behind(saved):
    _, path = saved
    assert sorted(p.name for p in path.parent.iterdir()) == ["m.json", "m.safetensors"]


def test_corrupt_tensor_file(saved):
    _, path = saved
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(WeightsError, match="not a readable safetensors"):
        load_weights(path)


def test_tensors_of_another_architecture(saved):
    _, path = saved
    meta = json.loads(metadata_path(path).read_text())
    metadata_path(path).write_text(json.dumps(meta | {"architecture": "lenet5"}))
    with pytest.raises(WeightsError, match="does not fit architecture 'lenet5'"):
        load_weights(path)


@pytest.mark.parametrize("text", ["{not json", "[]", '{"architecture": 3}'])
def test_bad_metadata(saved, text):
    _, path = saved
    metadata_path(path).write_text(text)
    with pytest.raises(WeightsError):
        load_weights(path)


def test_unknown_architecture(saved):
    _, path = saved
    metadata_path(path).write_text('{"architecture": "resnet1000"}')
    with pytest.raises(WeightsError, match="unknown model"):
        load_weights(path)


def test_missing_files(tmp_path):
    with pytest.raises(WeightsError, match="missing"):
        load_weights(tmp_path / "nothing.safetensors")


def test_pickle_is_never_loaded(saved):
    _, path = saved
    torch.save({"x": torch.zeros(1)}, path)  # a pickle in disguise
    with pytest.raises(WeightsError):
        load_weights(path)


def test_shipped_weights_load_and_fit_the_budget():
    model, meta = load_weights()
    assert parameter_count(model) <= 200_000
    # The README's figure for the shipped model: 99.70% on the MNIST test set.
    assert round(100 * meta["test_accuracy"], 2) >= 99.70  # stored as float32: 0.99699998
    assert model(torch.zeros(1, 1, 28, 28)).shape == (1, 10)


def test_every_registered_model_builds_and_runs():
    for name in MODELS:
        assert build_model(name)(torch.rand(2, 1, 28, 28)).shape == (2, 10)
    assert parameter_count(build_model("compact")) <= 200_000


def test_the_crop_takes_the_pixels_torchvisions_took():
    """The cropping nets (lesson, crop24) were trained with torchvision's CenterCrop: ours, which spares the
    app and the command line torchvision's import, must read the same middle pixels."""
    for height, width in [(28, 28), (27, 29), (24, 26), (29, 25)]:
        x = torch.rand(3, 1, height, width)
        assert torch.equal(CenterCrop(24)(x), TorchvisionCenterCrop(24)(x)), (height, width)


def test_weights_saved_under_a_former_name_still_load(tmp_path):
    assert "default" not in MODELS and ALIASES["default"] == "compact"
    path = tmp_path / "old.safetensors"
    save_weights(build_model("compact"), path, {"architecture": "default"})  # as versions saved before the rename
    model, meta = load_weights(path)
    assert meta["architecture"] == "default" and parameter_count(model) == parameter_count(build_model("compact"))
