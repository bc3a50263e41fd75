"""The Draw tab on a tablet, upright (820x1180) and on its side (1180x820), and on a phone on its side (844x390):
the canvas, Clear and all ten bars on one screen, and a finger that draws without moving the page."""

import pytest
from playwright.sync_api import expect

from mnist_app.testing.browser import (
    CHROMIUM,
    NO_CHROMIUM,
    ONE_STROKE,
    PAGE_MOVES,
    TABLET,
    finger_draw,
    headline,
    on_screen,
    open_app,
)

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
READ_TIMEOUT_MS = 90_000  # a stroke's answer on the busy 2-core machine, the canvas rendered in software
ON_ITS_SIDE = {"width": 1180, "height": 820}
PHONE_ON_ITS_SIDE = {"width": 844, "height": 390}


@pytest.fixture
def tablet(browser, app_server):
    context = browser.new_context(**TABLET)
    page = context.new_page()
    page.set_default_timeout(90_000)  # the canvas keeps a fresh page busy for a while here (test_browser_phone.py)
    open_app(page, app_server.url)
    yield page
    context.close()


def fits_one_screen(page) -> list[str]:
    """What of the canvas, Clear and the ten bars is not on the screen without scrolling; [] when all is."""
    page.wait_for_function("() => window.scrollX === 0 && window.scrollY === 0")
    return [part for part in ("#canvas", "#clear", "#draw-label") if not on_screen(page, part)]


def test_a_finger_draws_on_a_tablet_and_the_layout_fits_upright_on_its_side_and_on_a_phone_on_its_side(tablet):
    # One page load for all of it, as in test_browser_phone.py: the page is turned by resizing the window.
    assert finger_draw(tablet, ONE_STROKE["7"]) == [[]] * 2 and tablet.evaluate(PAGE_MOVES) == []
    expect(headline(tablet)).to_have_text("7", timeout=READ_TIMEOUT_MS)
    assert tablet.evaluate(PAGE_MOVES) == []
    assert tablet.evaluate("() => document.documentElement.scrollWidth") == TABLET["viewport"]["width"]
    assert fits_one_screen(tablet) == []

    for size in (ON_ITS_SIDE, PHONE_ON_ITS_SIDE):
        tablet.set_viewport_size(size)
        assert tablet.evaluate("() => document.documentElement.scrollWidth") == size["width"], size  # no sideways
        expect(tablet.locator("#draw-label .confidence-set")).to_have_count(10)  # the bars, once laid out anew
        assert fits_one_screen(tablet) == [], size
    canvas = tablet.locator("#canvas").bounding_box()
    assert canvas["height"] >= 0.45 * PHONE_ON_ITS_SIDE["height"]  # still a canvas to draw on, not a strip
