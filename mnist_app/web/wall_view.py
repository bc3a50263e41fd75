"""What the class wall shows, made from a lesson's drawings: the thumbnails, the tally, the lesson's confusion
matrix and the digits the model found hardest. Plain functions of the stored drawings, with no Gradio events."""

import base64
import html
import io
from collections import Counter
from datetime import datetime

import numpy as np
import pandas as pd
from PIL import Image

from mnist_app.storage.lessons import Lesson, WallDrawing

MIN_READINGS = 3  # a digit is ranked among the hardest once the students answered this many readings of it
HARDEST_SHOWN = 3
MATRIX_CORNER = "drawn \\ read"
NO_LESSON = (
    "**No lesson is running.** Start one below with the admin password: the drawings on the students' pages then "
    "appear here. Until then nothing is collected."
)
# Scoped to each wall's gr.HTML (its css_template): cards in a grid, the drawing, the reading, the 28x28 beside it.
WALL_CSS = """
.wall-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; }
.wall-card { margin: 0; padding: 6px; border: 3px solid var(--border-color-primary); border-radius: 8px;
  background: var(--background-fill-secondary); }
.wall-card.right { border-color: #2e9d4c; }
.wall-card.corrected { border-color: #d9534f; }
.wall-card .drawing { width: 100%; aspect-ratio: 1; background: white; border-radius: 4px; }
.wall-card .reading { display: flex; align-items: center; justify-content: space-between; margin-top: 4px; }
.wall-card .digit { font-size: 2.6rem; font-weight: 700; line-height: 1; }
.wall-card .seen { width: 56px; height: 56px; image-rendering: pixelated; }
.wall-card figcaption { font-size: 1rem; margin-top: 2px; }
.wall-empty { font-size: 1.3rem; padding: 1em 0; }
"""


def png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def seen_png(input28: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(input28).save(out, format="PNG")
    return out.getvalue()


def answer_caption(drawing: WallDrawing) -> str:
    if drawing.answer == "right":
        return "✓ right"
    if drawing.answer == "corrected":
        return f"✗ it is a {drawing.label}"
    return ""


def card_html(drawing: WallDrawing) -> str:
    classes = " ".join(["wall-card", *([drawing.answer] if drawing.answer else [])])
    return (
        f'<figure class="{classes}" data-number="{drawing.number}">'
        f'<img class="drawing" alt="drawing {drawing.number}" src="{png_data_uri(drawing.picture_png)}">'
        f'<div class="reading"><span class="digit" title="the model reads">{drawing.predicted}</span>'
        f'<img class="seen" alt="what the model saw" src="{png_data_uri(seen_png(drawing.input28))}"></div>'
        f"<figcaption>#{drawing.number} {html.escape(answer_caption(drawing))}</figcaption></figure>"
    )


def cards_html(drawings: list[WallDrawing], empty: str) -> str:
    """The drawings as cards, newest first: what the student drew, the model's reading and the 28x28 it saw."""
    if not drawings:
        return f'<div class="wall-empty">{html.escape(empty)}</div>'
    return '<div class="wall-cards">' + "".join(card_html(d) for d in drawings) + "</div>"


def status_markdown(lesson: Lesson | None, drawings: int = 0) -> str:
    """What the wall is showing; while it is paused, how many drawings there are by now (the frozen wall may show
    fewer)."""
    if lesson is None:
        return NO_LESSON
    started = datetime.fromisoformat(lesson.started).astimezone().strftime("%H:%M")  # the server's clock: the room's
    line = f"**Lesson {lesson.id}**, started at {started}."
    if lesson.paused:
        return line + f" **The wall is paused** ({plural(drawings, 'drawing')} by now): it shows them when it resumes."
    return line + " The class's drawings appear here as they draw, newest first."


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def tally_markdown(drawings: int, answers: list[tuple[int, int]]) -> str:
    right = sum(label == read for label, read in answers)
    return (  # a heading: read from the back of the room
        f"### **{drawings}** drawing{'' if drawings == 1 else 's'} · **{right}** confirmed right · "
        f"**{len(answers) - right}** corrected"
    )


def confusion(answers: list[tuple[int, int]]) -> np.ndarray:
    """10 x 10 counts: row = what the student said it is, column = what the model read."""
    matrix = np.zeros((10, 10), dtype=int)
    for label, read in answers:
        matrix[label, read] += 1
    return matrix


def matrix_frame(answers: list[tuple[int, int]]) -> pd.DataFrame:
    """The lesson's confusion matrix as a table whose cells a teacher clicks; empty cells are blank."""
    counts = confusion(answers)
    rows = [[str(label), *(str(n) if n else "" for n in counts[label])] for label in range(10)]
    return pd.DataFrame(rows, columns=[MATRIX_CORNER, *(str(d) for d in range(10))])


def cell_of(index: object) -> tuple[int, int] | None:
    """(drawn, read) of a clicked cell of `matrix_frame`, or None for the first column (the digits' names)."""
    if not isinstance(index, list | tuple) or len(index) != 2:
        return None
    row, column = index
    if not (isinstance(row, int) and isinstance(column, int) and 0 <= row <= 9 and 1 <= column <= 10):
        return None
    return row, column - 1


def hardest_markdown(answers: list[tuple[int, int]]) -> str:
    """The digits with the highest share corrected, among those with at least MIN_READINGS answered readings."""
    readings = Counter(label for label, _ in answers)
    corrected = Counter(label for label, read in answers if label != read)
    ranked = sorted(
        (d for d in readings if readings[d] >= MIN_READINGS and corrected[d]),
        key=lambda d: (-corrected[d] / readings[d], -readings[d], d),
    )[:HARDEST_SHOWN]
    if not ranked:
        qualified = sum(n >= MIN_READINGS for n in readings.values())
        if qualified:
            return f"**Hardest digits:** none so far: every digit with {MIN_READINGS} answers was read right."
        return f"**Hardest digits:** shown once a digit has {MIN_READINGS} answers (Right! or a correction)."
    return "**Hardest digits for the model:** " + "; ".join(
        f"**{d}**: {corrected[d]} of {readings[d]} corrected ({100 * corrected[d] / readings[d]:.0f}%)" for d in ranked
    )
