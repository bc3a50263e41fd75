"""The Admin tab's Lessons section: the lessons kept, with what each collected, and deleting one (its drawings and
the corrections made on them). Every handler checks the password first."""

import sqlite3
from datetime import datetime
from functools import partial

import gradio as gr
import pandas as pd

from mnist_app.storage.lessons import LessonError
from mnist_app.web.context import AppContext, require_admin
from mnist_app.web.lesson_wall import lessons_of, whole_number
from mnist_app.web.refusals import failed, refused

LESSON_COLUMNS = ["lesson", "started", "ended", "drawings", "confirmed right", "corrected", "corrections stored"]


def local_time(iso: str | None) -> str:
    return "running" if iso is None else datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")


def lessons_table(ctx: AppContext) -> pd.DataFrame:
    rows = [
        [s.id, local_time(s.started), local_time(s.ended), s.drawings, s.right, s.corrected, s.corrections]
        for s in lessons_of(ctx).list()
    ]
    return pd.DataFrame(rows, columns=LESSON_COLUMNS)


def browse_lessons(ctx: AppContext, password: str) -> pd.DataFrame:
    """API /admin_lessons: every lesson kept, newest first."""
    require_admin(ctx, password)
    return lessons_table(ctx)


def delete_lesson(ctx: AppContext, password: str, lesson_id: object) -> tuple[str, pd.DataFrame]:
    """API /admin_delete_lesson: delete a lesson, its drawings and its corrections; the message and the table."""
    require_admin(ctx, password)
    lesson_id = whole_number(lesson_id)
    if lesson_id is None:
        raise refused("Type the number of the lesson to delete, from the table's first column.")
    try:
        drawings, corrections = lessons_of(ctx).delete(lesson_id)
    except LessonError as e:
        raise refused(str(e)) from None
    except (OSError, sqlite3.Error) as e:
        raise failed(f"Could not delete the lesson: {e}") from None
    message = f"Deleted lesson {lesson_id}: {drawings} drawing(s) and {corrections} correction(s)."
    return message, lessons_table(ctx)


def lessons_section(ctx: AppContext, password: gr.Textbox) -> None:
    with gr.Accordion("Lessons", open=False, elem_id="admin-lessons"):
        gr.Markdown(
            "Lessons run from the classroom view's Class wall. A lesson's drawings are kept until you delete the "
            "lesson here; that also deletes the corrections the students made on them during the lesson."
        )
        with gr.Row():
            show = gr.Button("Show lessons", scale=1, elem_id="lessons-show")
            lesson = gr.Number(label="Lesson", precision=0, scale=1, elem_id="lessons-id")
            delete = gr.Button("Delete lesson", variant="stop", scale=1, elem_id="lessons-delete")
        message = gr.Markdown(elem_id="lessons-message")
        table = gr.Dataframe(headers=LESSON_COLUMNS, interactive=False, label="Lessons", elem_id="lessons-table")

    show.click(partial(browse_lessons, ctx), password, table, api_name="admin_lessons")
    delete.click(partial(delete_lesson, ctx), [password, lesson], [message, table], api_name="admin_delete_lesson")
