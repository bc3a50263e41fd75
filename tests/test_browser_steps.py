"""In a real browser (Debian's chromium driven by Playwright): a number drawn on the Draw tab, and the step-by-step
view of a small digit drawn in a corner, with a step switched off."""

import pytest
from playwright.sync_api import expect

from mnist_app.testing.browser import CHROMIUM, NO_CHROMIUM, ONE_STROKE, draw, headline, moved, number

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
READ_TIMEOUT_MS = 60_000  # stroke to answer: 4-15 s here (benchmarks/stroke_latency.py), more for two strokes


def test_42_drawn_on_the_canvas_reads_42_with_each_digits_box_and_bars(page):
    draw(page, number("42"))
    expect(page.locator("#draw-number").locator("input, textarea")).to_have_value("42", timeout=READ_TIMEOUT_MS)
    expect(headline(page)).to_have_text("42")
    expect(page.locator("#draw-digit-bars [data-testid=label-output-value]")).to_have_text(
        ["4", "2"], timeout=READ_TIMEOUT_MS
    )
    expect(page.locator("#draw-found")).to_contain_text("1: 4")  # the boxes' names on the drawing
    expect(page.locator("#draw-found")).to_contain_text("2: 2")


def test_the_steps_show_a_small_digit_in_a_corner_read_with_the_crop_and_misread_without_it(page):
    steps = page.locator("#draw-steps")
    expect(page.locator("#draw-steps-pictures")).to_be_hidden()  # closed at first: the tab stays compact
    steps.get_by_text("How the network sees it").click()
    draw(page, moved(ONE_STROKE["2"], 0.3, (0.25, 0.25)))
    note = page.locator("#draw-steps-note")
    expect(note).to_contain_text("With every step, the network reads a 2", timeout=READ_TIMEOUT_MS)
    expect(page.locator("#draw-steps-pictures img")).to_have_count(6)
    expect(headline(page)).to_have_text("2")
    page.locator("#draw-steps-on").get_by_label("Crop to the digit").uncheck()
    expect(note).to_contain_text("Left out: Crop to the digit.", timeout=READ_TIMEOUT_MS)
    expect(note).not_to_contain_text("reads a 2")
    expect(page.locator("#draw-steps-pictures")).to_contain_text("3. Crop to the digit (left out)")
    expect(headline(page)).to_have_text("2")  # the Draw tab's own reading keeps every step
