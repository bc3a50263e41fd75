"""Students' corrections ("Wrong? It is a 7"), kept in SQLite for browsing, export and fine-tuning.

Each call opens its own short connection, so Gradio's worker threads (and several server processes)
can write at once: WAL lets readers run beside the one writer, and the busy timeout makes a writer
wait its turn instead of failing. Every fifth correction (by id) is held out: never trained on, it
measures whether a fine-tune learnt from the class or only memorised what it saw. A correction made on a
drawing of a lesson's wall carries the lesson's id (storage/lessons.py keeps the lessons in this file).
"""

from __future__ import annotations  # a method here is named `list`: keep annotations from resolving to it

import io
import os
import sqlite3
import zipfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from PIL import Image

from mnist_app.storage.atomic import atomic_write_bytes
from mnist_app.storage.versions import app_home
from mnist_app.training.data import FILES, idx_bytes

DB_ENV = "MNIST_APP_DB"
THUMBNAIL_PX = 96  # the original is kept this small: enough to tell a bad correction at a glance
HELD_OUT_EVERY = 5  # ids divisible by this are never trained on
BUSY_TIMEOUT_S = 30.0
SCHEMA = """
CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    label INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9),
    predicted INTEGER CHECK (predicted BETWEEN 0 AND 9),
    model_version TEXT NOT NULL,
    input28 BLOB NOT NULL,
    original_png BLOB,
    lesson_id INTEGER
)
"""
COLUMNS = "id, created, label, predicted, model_version, input28, original_png, lesson_id"


def default_path() -> Path:
    """MNIST_APP_DB, else corrections.db beside the model store (MNIST_APP_HOME or the per-user data folder)."""
    chosen = os.environ.get(DB_ENV)
    return Path(chosen).expanduser() if chosen else app_home() / "corrections.db"


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection for one call, committed on success and always closed: nothing is shared across threads."""
    with closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)) as db, db:
        yield db


def is_held_out(correction_id: int) -> bool:
    return correction_id % HELD_OUT_EVERY == 0


@dataclass(frozen=True, eq=False)  # eq would compare the arrays ambiguously
class Correction:
    id: int
    created: str  # ISO date, UTC
    label: int  # what the student says it is
    predicted: int | None  # what the model said
    model_version: str
    input28: np.ndarray  # 28 x 28 uint8, white ink on black: what the model saw
    original_png: bytes | None  # the drawing or photo, at most THUMBNAIL_PX on a side
    lesson_id: int | None = None  # the lesson whose wall showed the drawing

    @property
    def held_out(self) -> bool:
        return is_held_out(self.id)


def checked_digit(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= 9:
        raise ValueError(f"{what} must be a whole digit from 0 to 9, not {value!r}")
    return int(value)


def as_input_bytes(input28: object) -> bytes:
    """The model's input as 784 uint8 bytes; floats must lie in [0, 1] (what the predictor gives)."""
    array = np.asarray(input28) if isinstance(input28, np.ndarray) else None
    if array is None or array.shape != (28, 28):
        shape = getattr(input28, "shape", type(input28).__name__)
        raise ValueError(f"the input must be a 28 x 28 array, not {shape}")
    if array.dtype == np.uint8:
        return array.tobytes()
    if array.dtype.kind != "f" or not np.isfinite(array).all() or array.min() < 0 or array.max() > 1:
        raise ValueError("a float input must hold finite values from 0 to 1")
    return np.round(array * 255).astype(np.uint8).tobytes()


def thumbnail_png(image: Image.Image) -> bytes:
    """A small PNG of the original; transparency (the canvas) is flattened onto white."""
    image = image.copy()
    image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        paper = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(paper, image)
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG", optimize=True)
    return out.getvalue()


class CorrectionStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as db:
            db.execute("PRAGMA journal_mode=WAL")  # stored in the file: every later connection uses it
            db.execute(SCHEMA)
            columns = [row[1] for row in db.execute("PRAGMA table_info(corrections)")]
            if "lesson_id" not in columns:  # a database from before lessons
                db.execute("ALTER TABLE corrections ADD COLUMN lesson_id INTEGER")

    def _connection(self) -> AbstractContextManager[sqlite3.Connection]:
        return connect(self.path)

    def add(
        self,
        input28: np.ndarray,
        label: int,
        predicted: int | None,
        model_version: str,
        original: Image.Image | None = None,
        lesson_id: int | None = None,
    ) -> Correction:
        """Record that the model read `input28` as `predicted` and the student says it is `label`."""
        row = (
            datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            checked_digit(label, "the label"),
            None if predicted is None else checked_digit(predicted, "the prediction"),
            str(model_version),
            as_input_bytes(input28),
            None if original is None else thumbnail_png(original),
            None if lesson_id is None else int(lesson_id),
        )
        with self._connection() as db:
            cursor = db.execute(
                "INSERT INTO corrections (created, label, predicted, model_version, input28, original_png, lesson_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return self._correction((cursor.lastrowid, *row))

    def list(self, digit: int | None = None, limit: int | None = None) -> list[Correction]:
        """Newest first, optionally only those the students labelled `digit`."""
        query, args = f"SELECT {COLUMNS} FROM corrections", []
        if digit is not None:
            query, args = query + " WHERE label = ?", [checked_digit(digit, "the digit")]
        query += " ORDER BY id DESC"
        if limit is not None:
            query, args = query + " LIMIT ?", [*args, int(limit)]
        with self._connection() as db:
            return [self._correction(row) for row in db.execute(query, args)]

    def count(self, digit: int | None = None) -> int:
        with self._connection() as db:
            if digit is None:
                return db.execute("SELECT COUNT(*) FROM corrections").fetchone()[0]
            return db.execute("SELECT COUNT(*) FROM corrections WHERE label = ?", [checked_digit(digit, "the digit")]
                              ).fetchone()[0]

    def count_held_out(self) -> int:
        with self._connection() as db:
            return db.execute("SELECT COUNT(*) FROM corrections WHERE id % ? = 0", [HELD_OUT_EVERY]).fetchone()[0]

    def delete(self, ids: list[int]) -> int:
        """Delete these corrections; how many there were."""
        ids = [int(i) for i in ids]
        with self._connection() as db:
            return db.executemany("DELETE FROM corrections WHERE id = ?", [(i,) for i in ids]).rowcount

    def arrays(self, held_out: bool) -> tuple[np.ndarray, np.ndarray]:
        """The training (held_out=False) or held-out corrections as N x 28 x 28 uint8 images and N labels."""
        chosen = [c for c in reversed(self.list()) if c.held_out == held_out]
        images = np.stack([c.input28 for c in chosen]) if chosen else np.zeros((0, 28, 28), np.uint8)
        return images, np.array([c.label for c in chosen], dtype=np.uint8)

    def export(self, folder: Path) -> Path:
        """Write the corrections as MNIST IDX files, which `mnist_app.training.data.load_mnist(folder)` reads:
        train-* are those a fine-tune trains on, t10k-* the held-out ones. Also a zip of the four, returned."""
        folder = Path(folder)
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
            for split, held_out in (("train", False), ("test", True)):
                images, labels = self.arrays(held_out)
                for kind, array in (("images", images), ("labels", labels)):
                    name, data = FILES[f"{split}_{kind}"], idx_bytes(array)
                    atomic_write_bytes(folder / name, data)
                    z.writestr(name, data)
        zip_path = folder / "corrections-idx.zip"
        atomic_write_bytes(zip_path, archive.getvalue())
        return zip_path

    @staticmethod
    def _correction(row: tuple) -> Correction:
        correction_id, created, label, predicted, model_version, input28, original_png, lesson_id = row
        image = np.frombuffer(input28, dtype=np.uint8).reshape(28, 28)
        return Correction(correction_id, created, label, predicted, model_version, image, original_png, lesson_id)
