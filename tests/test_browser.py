"""The app in a real browser (Debian's chromium driven by Playwright): what a student and an admin see."""

import json

import pytest
from gradio_client import Client
from playwright.sync_api import expect

from mnist_app.testing.browser import (
    CHROMIUM,
    NO_CHROMIUM,
    ONE_STROKE,
    clear,
    draw,
    headline,
    number,
    open_app,
    wait_for_pen,
)
from mnist_app.web.widgets import START_HINT

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
READ_TIMEOUT_MS = 30_000  # stroke to answer: 4-15 s here (benchmarks/stroke_latency.py), the canvas in software


def expect_read(page, digit: str, label: str = "#draw-label") -> None:
    expect(headline(page, label)).to_have_text(digit, timeout=READ_TIMEOUT_MS)


def expect_empty(page) -> None:
    expect(headline(page)).to_have_count(0, timeout=READ_TIMEOUT_MS)
    expect(page.locator("#draw-hint")).to_have_text(START_HINT, timeout=READ_TIMEOUT_MS)
    expect(page.locator("#draw-seen img")).to_have_count(0)


def test_the_first_stroke_on_a_fresh_page_is_read(page):
    # A 0 here, a 1 first in the next test, a 7 first on the classroom view (test_classroom.py).
    draw(page, ONE_STROKE["0"])  # the very first thing the visitor does
    expect_read(page, "0")


def test_opening_the_page_and_clear_ask_for_no_prediction_and_a_stroke_for_one(browser, app_server):
    """A class of 40 on one laptop (#20): opening the page and Clear ask for no prediction, and each stroke for one,
    whose answer fills the bars, the number view and the steps view; the correction row starts afresh in the page.
    The editor sends a blank sheet as it loads it (on opening the page and after Clear): before, that cost a
    prediction of the empty sheet on every page load and two on every Clear; before that, the number view, the
    steps view and the correction row each sent a request of their own. A number's per-digit bars are drawn by a
    request of their own (Gradio's render), which reads no drawing.

    Uploads: Gradio's page uploads the canvas's images again whenever it reads the canvas for an event: twice a
    stroke (for the two events the canvas triggers in the page, web/canvas_sending.py). When the canvas was an
    input of the stroke's server event, the page read it again on every status update of any event: 20 to 30
    uploads a stroke."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    events = []  # the event each queued request runs, from the page's first request on
    uploads = []
    page.on("request", lambda r: events.append(json.loads(r.post_data)["fn_index"]) if "queue/join" in r.url else None)
    page.on("request", lambda r: uploads.append(r.url) if "/gradio_api/upload" in r.url else None)
    open_app(page, app_server.url)
    at_load = list(events)  # the page's own start-up events (reading no drawing)
    one, seven = number("17")
    draw(page, [one])
    expect_read(page, "1")
    stroke = events[len(at_load)]
    assert events == [*at_load, stroke], events
    uploads.clear()
    draw(page, [seven])
    expect_read(page, "17")
    expect(page.locator("#draw-digit-bars .block")).to_have_count(2, timeout=READ_TIMEOUT_MS)
    assert events.count(stroke) == 2 and len(events) - len(at_load) - 2 <= 1, events
    assert stroke not in at_load
    assert len(uploads) <= 2 * 3, uploads  # two reads of the canvas, three images each (sheet, ink, composite)
    before_clear = len(events)
    clear(page)
    expect_empty(page)
    draw(page, ONE_STROKE["4"])
    expect_read(page, "4")
    after_clear = events[before_clear:]
    # Clear's own two requests (the views, a new drawing on the lesson wall) and the stroke's; before, also two reads
    # of the blank sheet.
    assert after_clear.count(stroke) == 1 and len(after_clear) == 3, after_clear
    page.close()


def test_after_clear_tabs_undo_and_a_deploy_the_next_stroke_is_read(page, app_server):
    """Every way a canvas starts afresh, then one stroke; a digit in two strokes: test_corrections.py."""
    draw(page, ONE_STROKE["1"])
    expect_read(page, "1")

    clear(page)
    expect_empty(page)
    draw(page, ONE_STROKE["4"])  # right after Clear, no tool button touched: the pen still draws
    expect_read(page, "4")

    clear(page)
    expect_empty(page)
    # Away and back. An earlier version of this test waited for a send of the canvas around the switch; since
    # `clear` waits until the editor has sent the sheet Clear loaded, none came here in 90 s: it was, it seems,
    # that sheet's second send.
    page.get_by_role("tab", name="Upload").click()
    # As a student sees it: the Upload tab, the canvas hidden, before clicking back.
    expect(page.locator("#upload-photo")).to_be_visible(timeout=READ_TIMEOUT_MS)
    expect(page.locator("#canvas")).to_be_hidden()
    page.get_by_role("tab", name="Draw").click()
    expect(page.locator("#canvas")).to_be_visible(timeout=READ_TIMEOUT_MS)
    wait_for_pen(page)
    draw(page, ONE_STROKE["7"])
    expect_read(page, "7")

    page.locator("#canvas button[aria-label=Undo]").click()  # back to an empty sheet: the bars go too
    expect_empty(page)
    draw(page, ONE_STROKE["1"])
    expect_read(page, "1")

    client = Client(app_server.url, verbose=False)
    client.predict(app_server.password, "shipped", api_name="/admin_deploy")  # a new model object is served
    clear(page)
    expect_empty(page)
    draw(page, ONE_STROKE["7"])
    expect_read(page, "7")


def test_admin_curves_appear_while_a_tiny_training_runs_and_for_a_lesson(page, app_server):
    page.get_by_role("tab", name="Admin").click()
    page.locator("#admin-password input").fill(app_server.password)
    page.locator("#admin-unlock").click()
    page.locator("#admin-start").wait_for(timeout=10_000)
    status = page.locator("#admin-status")
    expect(status).not_to_contain_text("running", timeout=180_000)  # another test's run ends first, as for an admin
    page.locator("#admin-panel input[type=number]").first.fill("50")  # long enough to be watched, then stopped
    page.locator("#admin-start").click()
    expect(page.locator("#admin-message")).to_contain_text("started", timeout=30_000)

    expect(status).to_contain_text("running")
    expect(status).to_contain_text("epoch", timeout=60_000)  # this run's first steps: the curves are its own
    expect(status).to_contain_text("ETA")
    drawn_lines = "#{} svg .mark-line path:not([d=''])"  # Vega draws each curve as an SVG path
    expect(page.locator(drawn_lines.format("loss"))).to_have_count(2, timeout=60_000)  # train, then validation
    expect(page.locator(drawn_lines.format("accuracy"))).to_have_count(2, timeout=60_000)

    page.locator("#admin-stop").click()
    expect(status).to_contain_text("stopped", timeout=60_000)

    # The lesson: a fresh network from scratch, its second curve the 1,000 test digits it watches.
    page.locator("#admin-lesson").click()
    expect(page.locator("#admin-message")).to_contain_text("from scratch", timeout=30_000)
    expect(status).to_contain_text("Finished: test accuracy", timeout=120_000)
    expect(page.locator("#accuracy")).to_contain_text("test (1,000 digits)", timeout=30_000)
    expect(page.locator(drawn_lines.format("accuracy"))).to_have_count(2)
    expect(page.locator("#admin-readings")).to_contain_text("Ten test digits, as the network reads them after")
    expect(page.locator("#admin-readings figure")).to_have_count(10)
