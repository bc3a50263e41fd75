"""The Draw tab on a phone: Chromium emulating a 390x844 touch screen, driven by finger strokes sent through the
DevTools protocol. A stroke on the canvas draws and leaves the page where it was; the layout fits the screen."""

from itertools import pairwise

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS, FOUR, shown_digit

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
# A 390x844 phone. Real ones have 3 device pixels a CSS pixel; 2 here: layout and touch are in CSS pixels, and with
# the canvas rendered in software the drawing here took 187 s at 3 and 69 s at 2 (shared 2-core machine, busy).
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
# A 1 drawn upwards: on a page at its top, the finger movement that a touch screen turns into a scroll.
ONE = [[(0.50, 0.88), (0.50, 0.12)]]
# Where the page has moved: the window's scroll, any scrolled element's, and the pinch zoom.
PAGE_MOVES = """() => {
  const moved = Array.from(document.querySelectorAll('*')).filter(e => e.scrollTop || e.scrollLeft)
    .map(e => `${e.tagName}.${e.className}: ${e.scrollLeft},${e.scrollTop}`);
  if (window.scrollX || window.scrollY) moved.push(`window: ${window.scrollX},${window.scrollY}`);
  if (visualViewport.scale !== 1) moved.push(`zoom: ${visualViewport.scale}`);
  return moved;
}"""


@pytest.fixture
def phone(app_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = chromium.new_context(**PHONE).new_page()
        # Software rendering of the canvas keeps the page busy for a while after it loads: on the loaded 2-core
        # machine a bounding box query took up to 30 s then (measured), and 0.02 s once settled.
        page.set_default_timeout(90_000)
        page.goto(app_server.url)
        page.wait_for_selector("#canvas canvas")
        wait_for_pen(page)
        yield page
        chromium.close()


def wait_for_pen(page) -> None:
    """test_browser.wait_for_sheet with the phone's longer timeout."""
    page.locator("#canvas button[aria-label=Brush].highlight").wait_for(state="attached")


def swipe(page, points: list[tuple[float, float]], steps: int = 3) -> list[list[str]]:
    """One finger along the points (page pixels); how the page had moved after each segment. The touches go in as
    the screen sends them (DevTools' Input.dispatchTouchEvent): Chromium makes pointer events and scrolls of them."""
    screen = page.context.new_cdp_session(page)
    x, y = points[0]
    screen.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    moves = []
    for (ax, ay), (bx, by) in pairwise(points):
        for t in range(1, steps + 1):
            point = {"x": ax + (bx - ax) * t / steps, "y": ay + (by - ay) * t / steps}
            screen.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
        moves.append(page.evaluate(PAGE_MOVES))
    screen.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    screen.detach()
    return moves


def finger_draw(page, strokes: list[list[tuple[float, float]]]) -> list[list[str]]:
    """Draw with a finger on the sheet in the middle of the canvas (as test_browser.draw does with the mouse)."""
    box = page.locator("#canvas canvas").first.bounding_box()
    side = 0.8 * min(box["width"], box["height"])
    left, top = box["x"] + (box["width"] - side) / 2, box["y"] + (box["height"] - side) / 2
    moves = []
    for stroke in strokes:
        moves += swipe(page, [(left + x * side, top + y * side) for x, y in stroke])
    return moves


def on_screen(page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    size = page.viewport_size
    return box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= size["width"] and (
        box["y"] + box["height"] <= size["height"])


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

    assert finger_draw(phone, FOUR) == [[]] * 3 and phone.evaluate(PAGE_MOVES) == []
    assert shown_digit(phone, "4", timeout_s=60) == "4"
    assert on_screen(phone, "#draw-label")  # all ten bars, under the canvas, without scrolling

    phone.locator("#clear").tap()
    phone.wait_for_function("() => !document.querySelector('#draw-label [data-testid=label-output-value]')")
    wait_for_pen(phone)
    assert finger_draw(phone, ONE) == [[]] and phone.evaluate(PAGE_MOVES) == []
    assert shown_digit(phone, "1", timeout_s=60) == "1"

    # An upward swipe off the canvas, on the prediction, scrolls the page as usual.
    label = phone.locator("#draw-label").bounding_box()
    x, bottom = label["x"] + label["width"] / 2, label["y"] + label["height"] - 10
    swipe(phone, [(x, bottom), (x, bottom - 150)])
    phone.wait_for_function("() => window.scrollY > 50")
