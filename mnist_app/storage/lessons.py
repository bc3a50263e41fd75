"""Lessons: while one runs, the class's drawings go on the wall of the classroom view, and they are kept here until
the teacher deletes the lesson.

The lessons live in the corrections' SQLite file (WAL, one short connection per call: see corrections.py), so a
lesson and the corrections made on its drawings are deleted together, in one transaction. A drawing is known by a
random key that the student's page made when the drawing began; nothing names a student, an address or a device.
Every change to a lesson's drawings moves its `revision`, so the wall redraws only when something changed.
"""

from __future__ import annotations  # a method here is named `list`: keep annotations from resolving to it

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
from PIL import Image

from mnist_app.storage.corrections import CorrectionStore, as_input_bytes, checked_digit, connect, thumbnail_png

MAX_KEY_CHARS = 64
SCHEMA = """
CREATE TABLE IF NOT EXISTS lessons (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started TEXT NOT NULL,
    ended TEXT,
    paused INTEGER NOT NULL DEFAULT 0,
    revision INTEGER NOT NULL DEFAULT 0
);
-- At most one lesson runs: two teachers pressing Start at once get one lesson and one refusal.
CREATE UNIQUE INDEX IF NOT EXISTS one_running_lesson ON lessons ((ended IS NULL)) WHERE ended IS NULL;
CREATE TABLE IF NOT EXISTS lesson_drawings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    lesson_id INTEGER NOT NULL REFERENCES lessons (id),
    drawing TEXT NOT NULL,
    updated TEXT NOT NULL,
    predicted INTEGER NOT NULL CHECK (predicted BETWEEN 0 AND 9),
    label INTEGER CHECK (label BETWEEN 0 AND 9),
    hidden INTEGER NOT NULL DEFAULT 0,
    input28 BLOB NOT NULL,
    picture_png BLOB NOT NULL,
    UNIQUE (lesson_id, drawing)
);
"""
RUNNING_ID = "SELECT id FROM lessons WHERE ended IS NULL"
DRAWING_COLUMNS = "id, predicted, label, input28, picture_png"


class LessonError(ValueError):
    """A lesson action that does not fit the lesson's state, e.g. starting a second one."""


@dataclass(frozen=True)
class Lesson:
    id: int
    started: str  # ISO date, UTC
    paused: bool  # the wall is frozen; drawings are still collected
    revision: int  # moves with every change to the lesson's drawings


@dataclass(frozen=True, eq=False)  # eq would compare the arrays ambiguously
class WallDrawing:
    number: int  # shown on the wall: the teacher hides a drawing by its number
    predicted: int  # the model's reading
    label: int | None  # what the student said it is ("Right!" or a correction); None until they say
    input28: np.ndarray  # 28 x 28 uint8: what the model saw
    picture_png: bytes  # the drawing, small

    @property
    def answer(self) -> str:
        """"right", "corrected" or "" (not answered yet)."""
        if self.label is None:
            return ""
        return "right" if self.label == self.predicted else "corrected"


@dataclass(frozen=True)
class LessonSummary:
    id: int
    started: str
    ended: str | None
    drawings: int
    right: int
    corrected: int
    corrections: int  # rows in the corrections table made on this lesson's drawings (confirmations included)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def checked_key(drawing: object) -> str:
    if not isinstance(drawing, str) or not 0 < len(drawing) <= MAX_KEY_CHARS:
        raise ValueError(f"a drawing's key is a short string, not {drawing!r}")
    return drawing


class LessonStore:
    def __init__(self, corrections: CorrectionStore) -> None:
        """Lessons in the same database file as `corrections`."""
        self.path = corrections.path
        with connect(self.path) as db:
            db.executescript(SCHEMA)

    def start(self) -> Lesson:
        """Start a lesson; a LessonError when one is already running."""
        running = self.running()
        if running is not None:
            raise LessonError(f"Lesson {running.id} is already running: end it first.")
        with connect(self.path) as db:
            db.execute("INSERT OR IGNORE INTO lessons (started) VALUES (?)", [now()])
        return self.running()

    def running(self) -> Lesson | None:
        with connect(self.path) as db:
            row = db.execute("SELECT id, started, paused, revision FROM lessons WHERE ended IS NULL").fetchone()
        return None if row is None else Lesson(row[0], row[1], bool(row[2]), row[3])

    def set_paused(self, paused: bool) -> Lesson:
        """Freeze or unfreeze the running lesson's wall."""
        with connect(self.path) as db:
            changed = db.execute("UPDATE lessons SET paused = ? WHERE ended IS NULL", [int(bool(paused))]).rowcount
        if not changed:
            raise LessonError("No lesson is running.")
        return self.running()

    def end(self) -> int:
        """End the running lesson: the wall empties, its drawings and corrections stay. The lesson's id."""
        lesson = self.running()
        if lesson is None:
            raise LessonError("No lesson is running.")
        with connect(self.path) as db:
            db.execute("UPDATE lessons SET ended = ?, paused = 0 WHERE id = ?", [now(), lesson.id])
        return lesson.id

    def show(self, lesson_id: int, drawing: str, predicted: int, input28: np.ndarray, picture: Image.Image) -> bool:
        """Put the drawing on the wall of lesson `lesson_id`, or update it there as the student draws on; whether it
        went up (only while that lesson runs). A new stroke makes the drawing new: an earlier answer no longer holds.
        The same drawing sent again (the canvas sends a stroke more than once) keeps it."""
        row = (int(lesson_id), checked_key(drawing), now(), checked_digit(predicted, "the reading"),
               as_input_bytes(input28), thumbnail_png(picture))
        lesson_id, key, *drawn = row
        with connect(self.path) as db:
            # Update first: an upsert would use up an id (the number on the wall) with every stroke.
            shown = db.execute(
                "UPDATE lesson_drawings SET updated = ?, predicted = ?, input28 = ?, picture_png = ?,"
                " label = CASE WHEN input28 = ? THEN label END"  # SET reads the row as it was
                f" WHERE lesson_id = ? AND drawing = ? AND lesson_id IN ({RUNNING_ID})",
                [*drawn, drawn[2], lesson_id, key],
            ).rowcount
            if not shown:  # `WHERE ... ON CONFLICT`: the WHERE keeps SQLite from reading ON as a join's
                shown = db.execute(
                    "INSERT INTO lesson_drawings (lesson_id, drawing, updated, predicted, input28, picture_png)"
                    f" SELECT ?, ?, ?, ?, ?, ? WHERE ? IN ({RUNNING_ID})"
                    " ON CONFLICT (lesson_id, drawing) DO UPDATE SET updated = excluded.updated,"
                    " predicted = excluded.predicted, input28 = excluded.input28, picture_png = excluded.picture_png,"
                    " label = CASE WHEN lesson_drawings.input28 = excluded.input28 THEN lesson_drawings.label END",
                    [*row, lesson_id],
                ).rowcount
            if shown:
                self._touch(db, lesson_id)
        return shown > 0

    def answer(self, drawing: str, label: int) -> int | None:
        """The student says what their drawing on the running lesson's wall is; that lesson's id, or None when the
        drawing is on no running wall."""
        with connect(self.path) as db:
            found = db.execute(
                f"SELECT lesson_id FROM lesson_drawings WHERE drawing = ? AND lesson_id = ({RUNNING_ID})",
                [checked_key(drawing)],
            ).fetchone()
            if found is None:
                return None
            db.execute(
                "UPDATE lesson_drawings SET label = ? WHERE drawing = ? AND lesson_id = ?",
                [checked_digit(label, "the label"), drawing, found[0]],
            )
            self._touch(db, found[0])
        return found[0]

    def hide(self, number: int) -> bool:
        """Take a drawing off the running lesson's wall (and out of its tally and matrix); whether it was there."""
        with connect(self.path) as db:
            lesson = db.execute(RUNNING_ID).fetchone()
            hidden = lesson is not None and db.execute(
                "UPDATE lesson_drawings SET hidden = 1 WHERE id = ? AND lesson_id = ? AND hidden = 0",
                [int(number), lesson[0]],
            ).rowcount > 0
            if hidden:
                self._touch(db, lesson[0])
        return hidden

    def drawings(self, lesson_id: int, limit: int | None = None) -> list[WallDrawing]:
        """The lesson's drawings that are not hidden, newest first."""
        return self._drawings("lesson_id = ?", [int(lesson_id)], limit)

    def cell(self, lesson_id: int, label: int, predicted: int) -> list[WallDrawing]:
        """The drawings the students said are `label` and the model read as `predicted`, newest first."""
        args = [int(lesson_id), checked_digit(label, "the label"), checked_digit(predicted, "the reading")]
        return self._drawings("lesson_id = ? AND label = ? AND predicted = ?", args)

    def answers(self, lesson_id: int) -> list[tuple[int, int]]:
        """(what the student said, what the model read) for each answered drawing that is not hidden."""
        with connect(self.path) as db:
            return [tuple(row) for row in db.execute(
                "SELECT label, predicted FROM lesson_drawings WHERE lesson_id = ? AND label IS NOT NULL"
                " AND hidden = 0 ORDER BY id", [int(lesson_id)],
            )]

    def count(self, lesson_id: int) -> int:
        """How many drawings the wall counts: those not hidden."""
        with connect(self.path) as db:
            return db.execute(
                "SELECT COUNT(*) FROM lesson_drawings WHERE lesson_id = ? AND hidden = 0", [int(lesson_id)]
            ).fetchone()[0]

    def list(self) -> list[LessonSummary]:
        """Every lesson kept, newest first, with what it collected."""
        with connect(self.path) as db:
            rows = db.execute(
                "SELECT l.id, l.started, l.ended,"
                " (SELECT COUNT(*) FROM lesson_drawings d WHERE d.lesson_id = l.id),"
                " (SELECT COUNT(*) FROM lesson_drawings d WHERE d.lesson_id = l.id AND d.label = d.predicted),"
                " (SELECT COUNT(*) FROM lesson_drawings d WHERE d.lesson_id = l.id AND d.label != d.predicted),"
                " (SELECT COUNT(*) FROM corrections c WHERE c.lesson_id = l.id)"
                " FROM lessons l ORDER BY l.id DESC"
            ).fetchall()
        return [LessonSummary(*row) for row in rows]

    def delete(self, lesson_id: int) -> tuple[int, int]:
        """Delete a lesson with its drawings and the corrections made on them, all or nothing (a running lesson
        ends so). How many drawings and corrections went; a LessonError when there is no such lesson."""
        lesson_id = int(lesson_id)
        with connect(self.path) as db:
            drawings = db.execute("DELETE FROM lesson_drawings WHERE lesson_id = ?", [lesson_id]).rowcount
            corrections = db.execute("DELETE FROM corrections WHERE lesson_id = ?", [lesson_id]).rowcount
            if db.execute("DELETE FROM lessons WHERE id = ?", [lesson_id]).rowcount == 0:
                raise LessonError(f"There is no lesson {lesson_id}.")  # rolls the transaction back
        return drawings, corrections

    def _drawings(self, where: str, args: list, limit: int | None = None) -> list[WallDrawing]:
        query = f"SELECT {DRAWING_COLUMNS} FROM lesson_drawings WHERE {where} AND hidden = 0 ORDER BY id DESC"
        if limit is not None:
            query, args = query + " LIMIT ?", [*args, int(limit)]
        with connect(self.path) as db:
            rows = db.execute(query, args).fetchall()
        return [
            WallDrawing(number, predicted, label, np.frombuffer(input28, np.uint8).reshape(28, 28), picture)
            for number, predicted, label, input28, picture in rows
        ]

    @staticmethod
    def _touch(db: sqlite3.Connection, lesson_id: int) -> None:
        db.execute("UPDATE lessons SET revision = revision + 1 WHERE id = ?", [lesson_id])
