"""The student's side of a lesson: the line saying that drawings appear on the class screen, the random key of the
drawing on the canvas, and putting the drawing on the wall of the classroom view.

A page sends its drawings to the wall only while it shows that line: its `lesson` state holds the lesson the line
announces (a timer keeps it current), and the server takes a drawing only for that lesson, only while it runs. The
key names a drawing, not a student: a page gets a new one when it loads and at every Clear.
"""

import logging
import secrets
import sqlite3
from functools import partial
from typing import Any, NamedTuple

import gradio as gr
import numpy as np
from PIL import Image

from mnist_app.reading.predict import Prediction
from mnist_app.web.context import AppContext

# How soon an open page learns that a lesson started or ended. Not sooner: each tick is a request, 4 a second from a
# class of 40. (Ticks once made the page upload the canvas again too: no longer, see web/canvas_sending.py.)
NOTICE_REFRESH_S = 10.0
NOTICE = "**Lesson on:** your drawings appear on the class screen, with no names."
log = logging.getLogger(__name__)


class WallSeat(NamedTuple):
    """A page's place in a lesson: the key of the drawing on its canvas and the lesson its notice announces."""

    drawing: gr.State
    lesson: gr.State


class LessonNotice(NamedTuple):
    """The notice timer's outputs; gr.skip() leaves the page as it is."""

    notice: Any = gr.skip()
    lesson: Any = gr.skip()


def new_drawing_key() -> str:
    return secrets.token_hex(8)


def running_lesson_id(ctx: AppContext) -> int | None:
    lesson = ctx.lessons.running() if ctx.lessons is not None else None
    return None if lesson is None else lesson.id


def lesson_notice(ctx: AppContext, announced: int | None) -> LessonNotice:
    """Timer tick: the notice while a lesson runs, nothing otherwise; the lesson now announced."""
    running = running_lesson_id(ctx)
    if running == announced:
        return LessonNotice()
    # Hidden outside a lesson: on a phone, the line would push the bars under the canvas off the screen.
    return LessonNotice(gr.update(value=NOTICE, visible=running is not None), running)


def drawing_picture(sketch: dict, prediction: Prediction) -> Image.Image:
    """The canvas as the student sees it, or, for a value without one, what the model saw."""
    composite = sketch.get("composite")
    if isinstance(composite, np.ndarray):
        return Image.fromarray(composite)
    return Image.fromarray(np.round(prediction.input28 * 255).astype(np.uint8))


def put_on_wall(ctx: AppContext, sketch: dict, prediction: Prediction, drawing: str | None, lesson: int | None) -> None:
    """After a stroke: the drawing goes on the wall of the lesson the page announces, if that lesson runs. A failed
    write costs the wall one update, never the student their prediction."""
    if ctx.lessons is None or drawing is None or lesson is None:
        return
    try:
        ctx.lessons.show(lesson, drawing, prediction.digit, prediction.input28, drawing_picture(sketch, prediction))
    except (OSError, sqlite3.Error, ValueError) as e:
        log.warning("could not put a drawing on the wall: %s", e)


def answer_on_wall(ctx: AppContext, drawing: str | None, digit: int) -> int | None:
    """The student said what their drawing is: the wall shows it. The lesson's id when the drawing is on a running
    lesson's wall, else None."""
    if ctx.lessons is None or drawing is None:
        return None
    return ctx.lessons.answer(drawing, digit)


def follow_lesson(ctx: AppContext, notice: gr.Markdown, clear: gr.Button) -> WallSeat:
    """Keep `notice` saying whether a lesson runs; Clear starts a new drawing (a new thumbnail on the wall)."""
    seat = WallSeat(gr.State(new_drawing_key), gr.State(None))  # a callable value: a new key for each page load
    timer = gr.Timer(NOTICE_REFRESH_S)
    timer.tick(
        partial(lesson_notice, ctx), seat.lesson, list(LessonNotice(notice, seat.lesson)),
        show_progress="hidden", api_visibility="private", queue=False,  # no queue: fewer status updates
    )
    clear.click(new_drawing_key, None, seat.drawing, show_progress="hidden", api_visibility="private")
    return seat
