"""Weight store: safetensors for tensors, a JSON sidecar for metadata, both written atomically.

Nothing here unpickles: a weights file from a stranger can at worst fail to load.
"""

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from torch import nn

from mnist_app.storage.atomic import atomic_write_bytes
from mnist_app.training.models import build_model, parameter_count

PACKAGE_WEIGHTS = Path(__file__).resolve().parents[2] / "weights" / "shipped.safetensors"


class WeightsError(ValueError):
    """A weights file or its metadata is missing, corrupt or does not fit its architecture."""


def metadata_path(weights_path: Path) -> Path:
    return Path(weights_path).with_suffix(".json")


def state_to_bytes(state: dict[str, torch.Tensor]) -> bytes:
    return save_tensors({k: v.detach().to("cpu").contiguous() for k, v in state.items()})


def save_weights(model: nn.Module, path: Path, meta: dict[str, Any]) -> None:
    """Save tensors and metadata. The JSON is written last, so a weights file without
    its sidecar (a crash in between) is never mistaken for a finished model."""
    path = Path(path)
    meta = {**meta, "parameters": parameter_count(model)}
    if "architecture" not in meta:
        raise ValueError("meta must name the model's architecture")
    atomic_write_bytes(path, state_to_bytes(model.state_dict()))
    atomic_write_bytes(metadata_path(path), json.dumps(meta, indent=2, sort_keys=True).encode())


def read_metadata(path: Path) -> dict[str, Any]:
    meta_file = metadata_path(path)
    try:
        meta = json.loads(meta_file.read_text())
    except FileNotFoundError:
        raise WeightsError(f"{meta_file} is missing: every weights file needs its JSON metadata") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise WeightsError(f"{meta_file} is not valid JSON: {e}") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("architecture"), str):
        raise WeightsError(f"{meta_file} does not name an architecture")
    return meta


def update_metadata(path: Path, fields: dict[str, Any]) -> None:
    """Add or replace fields of a weights file's JSON metadata, atomically; the tensors are not touched."""
    meta = read_metadata(path) | fields
    atomic_write_bytes(metadata_path(path), json.dumps(meta, indent=2, sort_keys=True).encode())


def load_weights(path: Path | None = None, device: str | torch.device = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """Load a model in eval mode and its metadata; `None` loads the shipped default."""
    path = Path(path) if path is not None else PACKAGE_WEIGHTS
    meta = read_metadata(path)
    try:
        model = build_model(meta["architecture"])
    except ValueError as e:
        raise WeightsError(f"{metadata_path(path)}: {e}") from None
    try:
        state = load_tensors(path.read_bytes())
    except FileNotFoundError:
        raise WeightsError(f"{path} does not exist") from None
    except (SafetensorError, ValueError, OSError) as e:
        raise WeightsError(f"{path} is not a readable safetensors file: {e}") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        # torch's message opens with a generic line; the next one names the mismatched keys.
        detail = str(e).strip().splitlines()[1:2] or [str(e)]
        raise WeightsError(
            f"{path} does not fit architecture {meta['architecture']!r}: {detail[0].strip()[:300]}"
        ) from None
    return model.to(device).eval(), meta
