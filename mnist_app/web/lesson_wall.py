"""The class wall, a tab of the classroom view: the drawings of a running lesson as the students draw, the tally,
the lesson's confusion matrix (click a cell for its drawings) and the hardest digits; and the teacher's controls,
each behind the admin password: start a lesson, pause the wall, hide a drawing, end the lesson.

A timer asks once a second whether the lesson changed (its id, revision and pause) and redraws only then; it runs
only while the tab is open (classroom.py), so the teacher's canvas tab shares the machine with nothing.
"""

from functools import partial
from typing import Any, NamedTuple

import gradio as gr

from mnist_app.storage.lessons import Lesson, LessonError, LessonStore
from mnist_app.web import wall_view
from mnist_app.web.context import AppContext, require_admin
from mnist_app.web.refusals import refused

REFRESH_S = 1.0  # new thumbnails appear within about this, plus the time to draw them
SHOWN = 60  # thumbnails on the wall at most, newest first; the tally and the matrix count them all
FIRST_DRAWINGS = "No drawings yet: they appear here as the students draw."


def whole_number(value: object) -> int | None:
    """A positive whole number typed in a Number box (which may send a float), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 2**62 or value != int(value):
        return None
    return int(value)


def lessons_of(ctx: AppContext) -> LessonStore:
    if ctx.lessons is None:
        raise refused("This server keeps no lessons.")
    return ctx.lessons


class WallRefresh(NamedTuple):
    """The timer's outputs, in the order `lesson_wall` wires them; gr.skip() leaves a component as it is."""

    shown: tuple | None  # (lesson id, revision, paused) of what the page shows; None: no lesson
    status: Any = gr.skip()
    tally: Any = gr.skip()
    wall: Any = gr.skip()
    matrix: Any = gr.skip()
    hardest: Any = gr.skip()
    cell_title: Any = gr.skip()
    cell: Any = gr.skip()


def lesson_key(lesson: Lesson | None) -> tuple | None:
    return None if lesson is None else (lesson.id, lesson.revision, lesson.paused)


def refresh(ctx: AppContext, shown: tuple | None) -> WallRefresh:
    """Timer tick: nothing when the lesson is as shown; the whole wall when it changed, unless the wall is paused,
    then only the line that says so. With no lesson, an empty wall."""
    lesson = ctx.lessons.running() if ctx.lessons is not None else None
    key = lesson_key(lesson)
    if key == (tuple(shown) if shown else None):
        return WallRefresh(shown)
    if lesson is None:
        empty = wall_view.cards_html([], "")
        return WallRefresh(None, wall_view.NO_LESSON, "", empty, wall_view.matrix_frame([]), "", "", "")
    same_lesson = bool(shown) and shown[0] == lesson.id
    drawings = ctx.lessons.count(lesson.id)
    if lesson.paused and same_lesson:
        return WallRefresh(key, status=wall_view.status_markdown(lesson, drawings))
    answers = ctx.lessons.answers(lesson.id)
    view = WallRefresh(
        key, wall_view.status_markdown(lesson, drawings), wall_view.tally_markdown(drawings, answers),
        wall_view.cards_html(ctx.lessons.drawings(lesson.id, SHOWN), FIRST_DRAWINGS), wall_view.matrix_frame(answers),
        wall_view.hardest_markdown(answers),
    )
    return view if same_lesson else view._replace(cell_title="", cell="")  # a new lesson: no old cell open


def show_cell(ctx: AppContext, index: object) -> tuple[str, str]:
    """A click on the matrix's cell at `index` (row, column): the drawings of that cell, newest first."""
    cell = wall_view.cell_of(index)
    lesson = lessons_of(ctx).running()
    if cell is None or lesson is None:
        return gr.skip(), gr.skip()
    drawn, read = cell
    drawings = ctx.lessons.cell(lesson.id, drawn, read)
    what = "read right" if drawn == read else f"read as {read}"
    title = f"**Drawn as {drawn}, {what}:** {wall_view.plural(len(drawings), 'drawing')}"
    return title, wall_view.cards_html(drawings, "None in this cell.")


def start_lesson(ctx: AppContext, password: str) -> str:
    """API /lesson_start."""
    require_admin(ctx, password)
    try:
        lesson = lessons_of(ctx).start()
    except LessonError as e:
        raise refused(str(e)) from None
    return f"Lesson {lesson.id} started: the students' pages say so, and their drawings appear on the wall."


def pause_wall(ctx: AppContext, password: str, paused: bool) -> str:
    """API /lesson_pause and /lesson_resume: freeze the wall (drawings are still collected) or unfreeze it."""
    require_admin(ctx, password)
    try:
        lessons_of(ctx).set_paused(paused)
    except LessonError as e:
        raise refused(str(e)) from None
    return "The wall is paused." if paused else "The wall is live again."


def hide_drawing(ctx: AppContext, password: str, number: object) -> str:
    """API /lesson_hide: take drawing `number` (as on its card) off the wall."""
    require_admin(ctx, password)
    number = whole_number(number)
    if number is None:
        raise refused("Type the number of the drawing to hide, as on its card (#12: 12).")
    if not lessons_of(ctx).hide(number):
        raise refused(f"Drawing #{number} is not on the wall of a running lesson.")
    return f"Drawing #{number} is hidden."


def end_lesson(ctx: AppContext, password: str) -> str:
    """API /lesson_end: the wall empties; the lesson's drawings and corrections are kept."""
    require_admin(ctx, password)
    try:
        lesson_id = lessons_of(ctx).end()
    except LessonError as e:
        raise refused(str(e)) from None
    return (
        f"Lesson {lesson_id} ended. Its drawings and corrections are kept; the Admin tab's Lessons section "
        "deletes them."
    )


def lesson_wall(ctx: AppContext) -> gr.Timer:
    """Built inside the classroom view's "Class wall" tab; returns the wall's timer, stopped until the tab opens."""
    with gr.Row(equal_height=True):
        status = gr.Markdown(wall_view.NO_LESSON, elem_id="wall-status")
        tally = gr.Markdown(elem_id="wall-tally")
    wall = gr.HTML(elem_id="wall", css_template=wall_view.WALL_CSS, js_on_load=None)
    with gr.Row():
        with gr.Column(scale=3):
            matrix = gr.Dataframe(
                wall_view.matrix_frame([]), interactive=False, elem_id="wall-matrix",
                label="This lesson's confusion matrix: rows as the students drew, columns as the model read. "
                      "Click a cell to see its drawings.",
            )
        with gr.Column(scale=2):
            hardest = gr.Markdown(elem_id="wall-hardest")
    cell_title = gr.Markdown(elem_id="wall-cell-title")
    cell = gr.HTML(elem_id="wall-cell", css_template=wall_view.WALL_CSS, js_on_load=None)
    with gr.Accordion("Teacher (admin password)", open=True, elem_id="wall-teacher"):
        with gr.Row():
            password = gr.Textbox(label="Admin password", type="password", scale=2, elem_id="wall-password")
            start = gr.Button("Start lesson", variant="primary", elem_id="wall-start")
            pause = gr.Button("Pause wall", elem_id="wall-pause")
            resume = gr.Button("Resume wall", elem_id="wall-resume")
            end = gr.Button("End lesson", variant="stop", elem_id="wall-end")
        with gr.Row():
            number = gr.Number(None, label="Drawing number (#)", precision=0, scale=2, elem_id="wall-number")
            hide = gr.Button("Hide drawing", elem_id="wall-hide")
        message = gr.Markdown(elem_id="wall-message")
    timer = gr.Timer(REFRESH_S, active=False)
    shown = gr.State(None)

    timer.tick(
        partial(refresh, ctx), shown, list(WallRefresh(shown, status, tally, wall, matrix, hardest, cell_title, cell)),
        show_progress="hidden", api_visibility="private", concurrency_id="wall",
    )

    def cell_clicked(evt: gr.SelectData) -> tuple[str, str]:  # Gradio fills in `evt` for a plain function only
        return show_cell(ctx, evt.index)

    matrix.select(cell_clicked, None, [cell_title, cell], api_visibility="private")
    start.click(partial(start_lesson, ctx), password, message, api_name="lesson_start")
    pause.click(partial(pause_wall, ctx, paused=True), password, message, api_name="lesson_pause")
    resume.click(partial(pause_wall, ctx, paused=False), password, message, api_name="lesson_resume")
    hide.click(partial(hide_drawing, ctx), [password, number], message, api_name="lesson_hide")
    end.click(partial(end_lesson, ctx), password, message, api_name="lesson_end")
    return timer
