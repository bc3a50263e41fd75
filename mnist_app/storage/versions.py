"""Saved model versions and which one the app serves.

Each version is `<id>.safetensors` + `<id>.json` in one folder, written by `weights.save_weights`
(tensors first, JSON last, each atomically), so a version without readable JSON is an interrupted
save and is skipped. `served.json` lists the deployed ids, the served one last, for rolling back.
The shipped model is always there as version "shipped": rolling back can reach it, nobody can delete it.
"""

from __future__ import annotations  # a method here is named `list`: keep annotations from resolving to it

import json
import os
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from torch import nn

from mnist_app.storage.atomic import atomic_write_bytes
from mnist_app.storage.weights import (
    PACKAGE_WEIGHTS,
    WeightsError,
    load_weights,
    metadata_path,
    read_metadata,
    save_weights,
)

HOME_ENV = "MNIST_APP_HOME"
SHIPPED = "shipped"
VERSION_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,99}")
HISTORY_KEPT = 100


def app_home() -> Path:
    """The app's own folder: MNIST_APP_HOME, else mnist-app in the per-user data folder."""
    home = os.environ.get(HOME_ENV)
    if home:
        return Path(home).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "mnist-app"


def default_root() -> Path:
    return app_home() / "models"


@dataclass
class VersionInfo:
    id: str
    architecture: str
    parameters: int | None
    val_accuracy: float | None
    test_accuracy: float | None
    created: str  # ISO date, UTC
    path: Path
    served: bool = False


def number_or_none(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class ModelVersions:
    def __init__(self, root: Path | None = None, shipped: Path = PACKAGE_WEIGHTS) -> None:
        self.root = Path(root) if root is not None else default_root()
        self.shipped = Path(shipped)
        self.problems: list[str] = []  # entries the last list() skipped, and why
        self.warning: str | None = None  # why the served model is not the one last deployed, if so
        self._lock = threading.Lock()

    def path_of(self, version_id: str) -> Path:
        if version_id == SHIPPED:
            return self.shipped
        if not isinstance(version_id, str) or not VERSION_ID.fullmatch(version_id):
            raise ValueError(f"{version_id!r} is not a version id")
        return self.root / f"{version_id}.safetensors"

    def info(self, version_id: str, served: bool = False) -> VersionInfo:
        path = self.path_of(version_id)
        meta = read_metadata(path)
        if not path.is_file():
            raise WeightsError(f"{path} is missing")
        parameters = meta.get("parameters")
        return VersionInfo(
            id=version_id,
            architecture=meta["architecture"],
            parameters=parameters if isinstance(parameters, int) else None,
            val_accuracy=number_or_none(meta.get("val_accuracy")),
            test_accuracy=number_or_none(meta.get("test_accuracy")),
            created=str(meta.get("created") or meta.get("date") or ""),
            path=path,
            served=served,
        )

    def list(self) -> list[VersionInfo]:
        """Saved versions newest first, then the shipped model; unreadable ones go to `problems`."""
        served_id = self._served_id()
        found, problems = [], []
        ids = [p.stem for p in self.root.glob("*.safetensors") if VERSION_ID.fullmatch(p.stem)]
        for version_id in [*ids, SHIPPED]:
            try:
                found.append(self.info(version_id, served=version_id == served_id))
            except WeightsError as e:
                problems.append(f"skipped version {version_id}: {e}")
        self.problems = problems
        saved = sorted((v for v in found if v.id != SHIPPED), key=lambda v: (v.created, v.id), reverse=True)
        return saved + [v for v in found if v.id == SHIPPED]

    def add(self, model: nn.Module, meta: dict[str, Any]) -> VersionInfo:
        """Save a trained model as a new version (not deployed). On failure nothing half-written stays."""
        now = datetime.now(timezone.utc)
        version_id = f"{now:%Y%m%d-%H%M%S}-{meta['architecture']}-{secrets.token_hex(2)}"
        path = self.path_of(version_id)
        try:
            save_weights(model, path, {**meta, "created": now.isoformat(timespec="milliseconds")})
        except BaseException:
            metadata_path(path).unlink(missing_ok=True)
            path.unlink(missing_ok=True)
            raise
        return self.info(version_id)

    def deploy(self, version_id: str) -> VersionInfo:
        """Serve this version from now on; it must load, or nothing changes."""
        with self._lock:
            load_weights(self.path_of(version_id))
            history, _ = self._read_history()
            self._write_history([*history, version_id])
            self.warning = None
            return self.info(version_id, served=True)

    def rollback(self) -> VersionInfo:
        """Serve the version deployed before the current one (skipping any that no longer load)."""
        with self._lock:
            current = self._served_id()
            history, _ = self._read_history()
            while history and (history[-1] == current or self._load_problem(history[-1]) is not None):
                history.pop()
            if not history and current == SHIPPED:
                raise ValueError("Nothing to roll back to: the shipped model is already served")
            self._write_history(history)
            self.warning = None
            return self.info(history[-1] if history else SHIPPED, served=True)

    def delete(self, version_id: str) -> None:
        with self._lock:
            path = self.path_of(version_id)
            if version_id == SHIPPED:
                raise ValueError("The shipped model cannot be deleted")
            if version_id == self._served_id():
                raise ValueError(f"Version {version_id} is being served: deploy or roll back to another one first")
            if not path.exists() and not metadata_path(path).exists():
                raise ValueError(f"There is no version {version_id}")
            # JSON first: a delete cut short leaves what looks like an interrupted save, which is skipped.
            metadata_path(path).unlink(missing_ok=True)
            path.unlink(missing_ok=True)
            history, _ = self._read_history()
            self._write_history([h for h in history if h != version_id])

    def served(self) -> VersionInfo | None:
        try:
            return self.info(self._served_id(), served=True)
        except WeightsError:
            return None

    def served_path(self) -> Path:
        """The weights file to serve: the last deployed version that loads, else the shipped model.
        When that is not the last deployed one, `warning` says why."""
        return self.path_of(self._served_id())

    def _served_id(self) -> str:
        history, warning = self._read_history()
        for version_id in reversed(history):
            problem = self._load_problem(version_id)
            if problem is None:
                self.warning = f"{warning}; serving version {version_id} instead" if warning else None
                return version_id
            warning = warning or f"The deployed model {version_id} cannot be loaded ({problem})"
        self.warning = f"{warning}; serving the shipped model instead" if warning else None
        return SHIPPED

    def _load_problem(self, version_id: str) -> str | None:
        try:
            load_weights(self.path_of(version_id))
        except WeightsError as e:
            return str(e)
        return None

    def _read_history(self) -> tuple[list[str], str | None]:
        """The deployed ids, oldest first, and why served.json could not be read, if so."""
        path = self.root / "served.json"
        try:
            history = json.loads(path.read_text())["history"]
        except FileNotFoundError:
            return [], None
        except (OSError, ValueError, KeyError, TypeError) as e:
            return [], f"{path} is unreadable ({type(e).__name__}: {e})"
        if not isinstance(history, list):
            return [], f"{path} does not hold a list of versions"
        return [h for h in history if isinstance(h, str) and (h == SHIPPED or VERSION_ID.fullmatch(h))], None

    def _write_history(self, history: list[str]) -> None:
        data = {"served": history[-1] if history else SHIPPED, "history": history[-HISTORY_KEPT:]}
        atomic_write_bytes(self.root / "served.json", json.dumps(data, indent=2).encode())
