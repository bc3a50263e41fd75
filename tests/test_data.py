import gzip

import numpy as np
import pytest
import torch

from mnist_app.testing.mnist_files import write_mnist
from mnist_app.training.data import (
    FILES,
    MnistDataError,
    idx_bytes,
    load_mnist,
    read_idx,
    resolve_data_dir,
    split_validation,
)


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("layout", ["flat", "torchvision"])
def test_loads_idx_folder_in_every_layout(tmp_path, gz, layout):
    write_mnist(tmp_path, n_train=300, n_test=100, gz=gz, layout=layout)
    mnist = load_mnist(tmp_path, allow_download=False)
    assert mnist.train_images.shape == (300, 28, 28) and mnist.train_images.dtype == torch.uint8
    assert mnist.test_images.shape == (100, 28, 28)
    assert mnist.train_labels.dtype == torch.int64 and set(mnist.train_labels.tolist()) <= set(range(10))
    assert mnist.train_images.float().mean() > 20  # real digits, not zeros


def test_environment_variable_names_the_folder(tmp_path, monkeypatch):
    write_mnist(tmp_path, n_train=50, n_test=20)
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path))
    assert resolve_data_dir() == tmp_path
    assert len(load_mnist().test_labels) == 20


def test_flag_wins_over_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path / "elsewhere"))
    assert resolve_data_dir(tmp_path) == tmp_path


def test_truncated_file_is_a_clear_error(tmp_path):
    write_mnist(tmp_path, n_train=50, n_test=20)
    path = tmp_path / (FILES["train_images"] + ".gz")
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[:-100]))
    with pytest.raises(MnistDataError, match="truncated"):
        load_mnist(tmp_path)


def test_truncated_gzip_stream_is_a_clear_error(tmp_path):
    write_mnist(tmp_path, n_train=50, n_test=20)
    path = tmp_path / (FILES["test_images"] + ".gz")
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(MnistDataError, match="cannot read"):
        load_mnist(tmp_path)


def test_idx_bytes_read_back_as_written(tmp_path):
    for array in (np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4), np.array([7, 0, 9], dtype=np.uint8)):
        path = tmp_path / f"{array.ndim}d"
        path.write_bytes(idx_bytes(array[::-1]))  # a view in reverse order: the bytes follow the array, not memory
        assert np.array_equal(read_idx(path), array[::-1])


def test_not_an_idx_file(tmp_path):
    path = tmp_path / "junk"
    path.write_bytes(b"hello world, not idx")
    with pytest.raises(MnistDataError, match="not an IDX file"):
        read_idx(path)


def test_missing_files_are_named(tmp_path):
    write_mnist(tmp_path, n_train=50, n_test=20)
    (tmp_path / (FILES["test_labels"] + ".gz")).unlink()
    with pytest.raises(MnistDataError, match="t10k-labels-idx1-ubyte"):
        load_mnist(tmp_path)


def test_offline_without_data_names_both_ways(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(MnistDataError) as info:
        load_mnist(allow_download=False)
    assert "--data" in str(info.value) and "MNIST_DATA_DIR" in str(info.value)


def test_download_failure_names_both_ways(tmp_path, monkeypatch):
    import torchvision.datasets

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(torchvision.datasets, "MNIST", offline)
    with pytest.raises(MnistDataError) as info:
        load_mnist()
    assert "could not be downloaded" in str(info.value) and "--data" in str(info.value)


def test_validation_split_is_disjoint_and_reproducible():
    images = torch.arange(1000).reshape(1000, 1, 1).expand(1000, 28, 28).to(torch.int64)
    labels = torch.arange(1000)
    a = split_validation(images, labels, val_size=100, seed=0)
    b = split_validation(images, labels, val_size=100, seed=0)
    assert len(a.val_labels) == 100 and len(a.train_labels) == 900
    assert not set(a.val_labels.tolist()) & set(a.train_labels.tolist())
    assert torch.equal(a.val_labels, b.val_labels)
