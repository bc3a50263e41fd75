"""The app in a real browser (Debian's chromium driven by Playwright): what a student and an admin see."""

import shutil
import time
from itertools import pairwise

import pytest

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
# Strokes in the canvas's own coordinates (0..1 across the white sheet), one list per stroke.
FOUR = [[(0.40, 0.15), (0.30, 0.55), (0.70, 0.55)], [(0.60, 0.30), (0.60, 0.85)]]
SEVEN = [[(0.30, 0.20), (0.70, 0.20)], [(0.70, 0.20), (0.45, 0.85)]]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, app_server):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(app_server.url)
    page.wait_for_selector("#canvas canvas", timeout=30_000)
    yield page
    page.close()


def draw(page, strokes: list[list[tuple[float, float]]]) -> None:
    """Draw with the mouse, stroke by stroke, on the sheet in the middle of the canvas."""
    box = page.locator("#canvas canvas").first.bounding_box()
    side = 0.8 * min(box["width"], box["height"])  # the sheet is fitted and centred in the editor
    left, top = box["x"] + (box["width"] - side) / 2, box["y"] + (box["height"] - side) / 2
    for stroke in strokes:
        page.mouse.move(left + stroke[0][0] * side, top + stroke[0][1] * side)
        page.mouse.down()
        for (ax, ay), (bx, by) in pairwise(stroke):
            for t in (1 / 3, 2 / 3, 1):  # a few moves per segment: the pen joins them with straight lines
                page.mouse.move(left + (ax + (bx - ax) * t) * side, top + (ay + (by - ay) * t) * side)
        page.mouse.up()


def shown_digit(page, expected: str, timeout_s: float = 15) -> str | None:
    """The Label's headline digit, once it is the expected one or when time is up
    (earlier strokes show other digits on the way)."""
    deadline = time.monotonic() + timeout_s
    shown = None
    while shown != expected and time.monotonic() < deadline:
        time.sleep(0.2)
        headline = page.locator("#draw-label [data-testid=label-output-value]")
        shown = headline.first.inner_text().strip() if headline.count() else None
    return shown


def wait_for_sheet(page) -> None:
    """The editor selects the pen once the white sheet (its background) has loaded."""
    page.wait_for_function(
        "() => document.querySelector('#canvas button[aria-label=Brush]')?.classList.contains('highlight')",
        timeout=15_000,
    )


def test_a_digit_drawn_stroke_by_stroke_is_read_and_clear_empties_everything(page):
    wait_for_sheet(page)
    draw(page, FOUR)
    assert shown_digit(page, "4") == "4"
    assert page.locator("#draw-seen img").count() == 1

    page.locator("#clear").click()
    page.wait_for_function("() => !document.querySelector('#draw-label [data-testid=label-output-value]')?.innerText")
    assert page.locator("#draw-seen img").count() == 0
    wait_for_sheet(page)
    draw(page, SEVEN)  # right after Clear, no tool button touched: the pen still draws
    assert shown_digit(page, "7") == "7"


def drawn_lines(page, plot: str) -> int:
    """How many curves the line plot has drawn (Vega renders each as an SVG path)."""
    return page.evaluate(
        f"() => Array.from(document.querySelectorAll('#{plot} svg .mark-line path'))"
        ".filter(p => (p.getAttribute('d') || '').length > 0).length"
    )


def wait_for_lines(page, plot: str, count: int, timeout_s: float = 60) -> int:
    deadline = time.monotonic() + timeout_s
    while drawn_lines(page, plot) < count and time.monotonic() < deadline:
        time.sleep(0.3)
    return drawn_lines(page, plot)


def test_admin_curves_appear_while_a_tiny_training_runs(page, app_server):
    page.get_by_role("tab", name="Admin").click()
    page.locator("#admin-password input").fill(app_server.password)
    page.locator("#admin-unlock").click()
    page.locator("#admin-start").wait_for(timeout=10_000)
    page.locator("#admin-panel input[type=number]").first.fill("50")  # long enough to be watched, then stopped
    page.locator("#admin-start").click()

    assert wait_for_lines(page, "loss", 1) >= 1  # the train curve first
    assert wait_for_lines(page, "loss", 2) == 2 and wait_for_lines(page, "accuracy", 2) == 2  # validation joins
    status = page.locator("#admin-status").inner_text()
    assert "running" in status and "epoch" in status and "ETA" in status

    page.locator("#admin-stop").click()
    page.wait_for_function(
        "() => /stopped|finished|failed/.test(document.querySelector('#admin-status')?.innerText)", timeout=60_000,
    )
    assert "stopped" in page.locator("#admin-status").inner_text()
