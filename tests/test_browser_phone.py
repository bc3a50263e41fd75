"""The Draw tab on a phone: Chromium emulating a 390x844 touch screen, driven by finger strokes sent through the
DevTools protocol. A stroke on the canvas draws and leaves the page where it was; the layout fits the screen."""

import pytest

from mnist_app.testing.browser import (
    CHROMIUM,
    NO_CHROMIUM,
    ONE_STROKE,
    PAGE_MOVES,
    PHONE,
    finger_draw,
    headline,
    on_screen,
    open_app,
    sheet_upload,
    swipe,
    wait_for_pen,
)

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
# A 1 drawn upwards: on a page at its top, the finger movement that a touch screen turns into a scroll.
UPWARD_ONE = [[(0.50, 0.88), (0.50, 0.12)]]
READ_TIMEOUT_MS = 90_000  # the phone page renders the canvas in software at twice the pixels: slow here
@pytest.fixture
def phone(browser, app_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    # Software rendering of the canvas keeps the page busy for a while after it loads: on the loaded 2-core
    # machine a bounding box query took up to 30 s then (measured), and 0.02 s once settled.
    page.set_default_timeout(90_000)
    open_app(page, app_server.url)
    yield page
    context.close()


def test_a_finger_draws_without_moving_the_page_on_a_layout_that_fits_the_phone(phone):
    # One page load for all of it: a phone page takes long to load here.
    assert phone.evaluate("() => document.documentElement.scrollWidth") == 390  # nothing wider: no sideways scroll
    assert phone.evaluate("() => document.documentElement.scrollHeight") > 844  # but the page could scroll down
    canvas = phone.locator("#canvas").bounding_box()
    assert canvas["width"] >= 0.95 * 390 and canvas["height"] >= canvas["width"]  # the canvas fills the width
    assert on_screen(phone, "#canvas") and on_screen(phone, "#clear") and on_screen(phone, "#draw-label")
    assert phone.locator("#clear").bounding_box()["height"] >= 44
    for tab in ("Draw", "Upload", "Admin"):
        assert phone.get_by_role("tab", name=tab).bounding_box()["height"] >= 44

    from playwright.sync_api import expect

    # The first thing a visitor does: one stroke, upwards.
    assert finger_draw(phone, UPWARD_ONE) == [[]] and phone.evaluate(PAGE_MOVES) == []
    expect(headline(phone)).to_have_text("1", timeout=READ_TIMEOUT_MS)
    assert on_screen(phone, "#draw-label")  # all ten bars, under the canvas, without scrolling

    with phone.expect_request(sheet_upload):  # the new blank sheet is loaded (see browser.open_app)
        phone.locator("#clear").tap()
    expect(headline(phone)).to_have_count(0)
    wait_for_pen(phone)
    assert finger_draw(phone, ONE_STROKE["7"]) == [[]] * 2 and phone.evaluate(PAGE_MOVES) == []
    expect(headline(phone)).to_have_text("7", timeout=READ_TIMEOUT_MS)

    # An upward swipe off the canvas, on the prediction, scrolls the page as usual.
    label = phone.locator("#draw-label").bounding_box()
    x, bottom = label["x"] + label["width"] / 2, label["y"] + label["height"] - 10
    swipe(phone, [(x, bottom), (x, bottom - 150)])
    phone.wait_for_function("() => window.scrollY > 50")
