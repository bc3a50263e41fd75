"""MNIST loading: IDX files from a folder (gzipped or not, flat or torchvision's layout),
or torchvision's download into a per-user cache. Decoded once into uint8 tensors."""

import gzip
import hashlib
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

DATA_ENV = "MNIST_DATA_DIR"
NOT_A_DIGIT_LABEL = -1  # the label of a training drawing that is not a digit (a letter): taught as even odds
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class MnistDataError(RuntimeError):
    """MNIST could not be found, downloaded or decoded."""


@dataclass
class Mnist:
    train_images: torch.Tensor  # N x 28 x 28 uint8, white ink on black
    train_labels: torch.Tensor  # N int64
    test_images: torch.Tensor
    test_labels: torch.Tensor


@dataclass
class Splits:
    train_images: torch.Tensor
    train_labels: torch.Tensor  # a digit, or NOT_A_DIGIT_LABEL for a drawing mixed in to teach doubt
    val_images: torch.Tensor
    val_labels: torch.Tensor
    own: int | None = None  # the first `own` training images are MNIST's own, the rest drawn; None: all are

    def with_training(self, images: torch.Tensor, labels: torch.Tensor) -> "Splits":
        """These splits with `images` appended to the training split; validation stays as it is."""
        return replace(self, train_images=torch.cat([self.train_images, images]),
                       train_labels=torch.cat([self.train_labels, labels]), own=self.own_count)

    @property
    def own_count(self) -> int:
        return len(self.train_images) if self.own is None else self.own


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mnist-app"


def read_idx(path: Path) -> np.ndarray:
    """Parse one IDX file (optionally gzipped) into a numpy array, checking its header."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise MnistDataError(f"cannot read {path}: {e}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_DTYPES:
        raise MnistDataError(f"{path} is not an IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise MnistDataError(f"{path} is truncated (header incomplete)")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(IDX_DTYPES[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise MnistDataError(
            f"{path} is truncated or padded: header promises {expected} bytes of data, file has {len(raw) - header}"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def idx_bytes(array: np.ndarray) -> bytes:
    """`array` as an IDX file of unsigned bytes (type 0x08), what MNIST's files hold and `read_idx` reads."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def find_idx_file(folder: Path, stem: str) -> Path | None:
    for sub in (Path(), Path("MNIST") / "raw", Path("raw")):
        for name in (stem, stem + ".gz"):
            candidate = folder / sub / name
            if candidate.is_file():
                return candidate
    return None


def load_idx_folder(folder: Path) -> Mnist:
    folder = Path(folder)
    paths = {key: find_idx_file(folder, stem) for key, stem in FILES.items()}
    missing = [FILES[k] for k, p in paths.items() if p is None]
    if missing:
        raise MnistDataError(f"{folder} lacks {', '.join(missing)} (gzipped or not, flat or in MNIST/raw/)")
    arrays = {key: read_idx(p) for key, p in paths.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.ndim != 1 or len(images) != len(labels):
            raise MnistDataError(f"{folder}: {split} images {images.shape} and labels {labels.shape} do not match")
    return Mnist(
        train_images=torch.from_numpy(arrays["train_images"].astype(np.uint8)),
        train_labels=torch.from_numpy(arrays["train_labels"].astype(np.int64)),
        test_images=torch.from_numpy(arrays["test_images"].astype(np.uint8)),
        test_labels=torch.from_numpy(arrays["test_labels"].astype(np.int64)),
    )


def download(cache: Path) -> Path:
    from torchvision.datasets import MNIST

    try:
        MNIST(str(cache), train=True, download=True)
        MNIST(str(cache), train=False, download=True)
    except Exception as e:  # torchvision raises a mix of URLError, RuntimeError and OSError
        raise MnistDataError(
            f"MNIST is not on this machine and could not be downloaded ({e}). "
            f"Pass a folder of the four IDX files with --data DIR, or set {DATA_ENV}=DIR."
        ) from None
    return cache


def resolve_data_dir(data_dir: str | Path | None = None, allow_download: bool = True) -> Path:
    """The flag wins, then the environment variable, then the download cache."""
    chosen = data_dir or os.environ.get(DATA_ENV)
    if chosen:
        return Path(chosen).expanduser()
    cache = default_cache_dir()
    if find_idx_file(cache, FILES["test_labels"]) is not None:
        return cache
    if not allow_download:
        raise MnistDataError(f"no MNIST data: pass --data DIR or set {DATA_ENV}=DIR to a folder of the four IDX files")
    return download(cache)


def load_mnist(data_dir: str | Path | None = None, allow_download: bool = True) -> Mnist:
    return load_idx_folder(resolve_data_dir(data_dir, allow_download))


def split_validation(images: torch.Tensor, labels: torch.Tensor, val_size: int = 5000, seed: int = 0) -> Splits:
    """Hold out a fixed random part of the training set for model selection."""
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    val, train = order[:val_size], order[val_size:]
    return Splits(images[train], labels[train], images[val], labels[val])


WATCHED_TEST_DIGITS = 1000


def watched_test_splits(mnist: Mnist, digits: int = WATCHED_TEST_DIGITS) -> Splits:
    """A lesson's data: every training image, and a fixed seeded subset of the test set for the live curve
    (cheap enough to measure twice a second; a run that watches it must choose nothing on it). The subset starts
    with one of each digit, 0 to 9: the ten the Admin tab shows as the network reads them."""
    order = torch.randperm(len(mnist.test_images), generator=torch.Generator().manual_seed(0))[:digits]
    labels = mnist.test_labels[order].tolist()
    firsts = [labels.index(d) for d in range(10) if d in labels]
    order = order[firsts + [i for i in range(len(order)) if i not in firsts]]
    return Splits(mnist.train_images, mnist.train_labels, mnist.test_images[order], mnist.test_labels[order])


def fingerprint(*tensors: torch.Tensor) -> str:
    """A short hash of the data a model saw, recorded in its metadata."""
    h = hashlib.sha256()
    for t in tensors:
        h.update(t.contiguous().numpy().tobytes())
    return h.hexdigest()[:16]
