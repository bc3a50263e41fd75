"""Driving the app in Debian's Chromium with Playwright: the launch, the pen and the digits a student draws."""

import math
import shutil
from collections.abc import Callable
from itertools import pairwise
from typing import Any

CHROMIUM = shutil.which("chromium")
NO_CHROMIUM = "needs Debian's chromium (apt-get install chromium chromium-driver)"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
Stroke = list[tuple[float, float]]  # points on the white sheet, 0..1 across and down


def _oval(cx: float, cy: float, rx: float, ry: float, points: int = 12) -> Stroke:
    """An oval drawn from the top, anticlockwise as most people write a 0."""
    return [(cx - rx * math.sin(2 * math.pi * k / points), cy - ry * math.cos(2 * math.pi * k / points))
            for k in range(points + 1)]


# A 390x844 phone. Real ones have 3 device pixels a CSS pixel; 2 here: layout and touch are in CSS pixels, and with
# the canvas rendered in software the drawing here took 187 s at 3 and 69 s at 2 (shared 2-core machine, busy).
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
# A tablet upright (820x1180); set_viewport_size turns it on its side (1180x820) or makes it a phone on its side
# (844x390). One device pixel a CSS pixel: layout and touch are in CSS pixels, and the canvas, rendered in software
# here, costs the square of it.
TABLET = {"viewport": {"width": 820, "height": 1180}, "is_mobile": True, "has_touch": True, "device_scale_factor": 1}
# Where the page has moved: the window's scroll, any scrolled element's, and the pinch zoom.
PAGE_MOVES = """() => {
  const moved = Array.from(document.querySelectorAll('*')).filter(e => e.scrollTop || e.scrollLeft)
    .map(e => `${e.tagName}.${e.className}: ${e.scrollLeft},${e.scrollTop}`);
  if (window.scrollX || window.scrollY) moved.push(`window: ${window.scrollX},${window.scrollY}`);
  if (visualViewport.scale !== 1) moved.push(`zoom: ${visualViewport.scale}`);
  return moved;
}"""

# Digits as one stroke each, as most people write them, and two written stroke by stroke.
ONE_STROKE = {
    "0": [_oval(0.5, 0.5, 0.22, 0.36)],
    "1": [[(0.50, 0.12), (0.50, 0.88)]],
    "2": [[(0.30, 0.30), (0.38, 0.18), (0.55, 0.14), (0.68, 0.24), (0.66, 0.40), (0.30, 0.84), (0.72, 0.84)]],
    "3": [[(0.30, 0.20), (0.50, 0.14), (0.66, 0.24), (0.62, 0.40), (0.45, 0.48), (0.64, 0.58), (0.68, 0.74),
           (0.52, 0.86), (0.30, 0.80)]],
    "4": [[(0.58, 0.85), (0.58, 0.14), (0.30, 0.62), (0.72, 0.62)]],
    "5": [[(0.68, 0.15), (0.38, 0.15), (0.35, 0.45), (0.55, 0.42), (0.67, 0.58), (0.65, 0.76), (0.50, 0.86),
           (0.32, 0.80)]],
    "6": [[(0.62, 0.14), (0.45, 0.32), (0.36, 0.55), (0.38, 0.78), (0.52, 0.87), (0.65, 0.76), (0.62, 0.58),
           (0.48, 0.54), (0.37, 0.62)]],
    "7": [[(0.28, 0.18), (0.72, 0.18), (0.45, 0.88)]],
    "8": [[(0.62, 0.22), (0.50, 0.13), (0.37, 0.22), (0.42, 0.38), (0.60, 0.58), (0.64, 0.76), (0.50, 0.87),
           (0.36, 0.76), (0.40, 0.58), (0.58, 0.40), (0.62, 0.22)]],
    "9": [[(0.64, 0.30), (0.55, 0.16), (0.40, 0.18), (0.35, 0.32), (0.45, 0.45), (0.62, 0.38), (0.64, 0.30),
           (0.60, 0.60), (0.55, 0.88)]],
}
# One digit in two strokes that do not touch: the 4's upright misses its bar, the 5's bar and the 7's stroke are
# written apart from the rest.
APART = {
    "4": [[(0.42, 0.15), (0.30, 0.58), (0.56, 0.58)], [(0.64, 0.15), (0.64, 0.88)]],
    "5": [[(0.36, 0.20), (0.34, 0.46), (0.55, 0.42), (0.68, 0.58), (0.65, 0.78), (0.50, 0.88), (0.32, 0.82)],
          [(0.45, 0.12), (0.72, 0.10)]],
    "7": [[(0.25, 0.16), (0.60, 0.16)], [(0.70, 0.18), (0.45, 0.88)]],
}
FOUR_IN_TWO_STROKES = [[(0.40, 0.15), (0.30, 0.55), (0.70, 0.55)], [(0.60, 0.30), (0.60, 0.85)]]
SEVEN_IN_TWO_STROKES = [[(0.30, 0.20), (0.70, 0.20)], [(0.70, 0.20), (0.45, 0.85)]]


def number(text: str) -> list[Stroke]:
    """A number written across the sheet, each digit as ONE_STROKE draws it, in a slot of its own."""
    size = min(0.9, 1 / len(text) + 0.05)
    return [
        [((k + 0.5) / len(text) + (x - 0.5) * size, 0.5 + (y - 0.5) * size) for x, y in stroke]
        for k, digit in enumerate(text)
        for stroke in ONE_STROKE[digit]
    ]


def moved(strokes: list[Stroke], scale: float, to: tuple[float, float]) -> list[Stroke]:
    """The strokes shrunk by `scale` about their middle and put with that middle at `to`: a small digit off-centre."""
    return [[(to[0] + scale * (x - 0.5), to[1] + scale * (y - 0.5)) for x, y in stroke] for stroke in strokes]


def launch(playwright):
    """Debian's Chromium, headless, with no calls home (this machine has no network)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def wait_for_pen(page, canvas: str = "#canvas") -> None:
    """The editor selects the pen once the white sheet (its background) has loaded: then a stroke draws."""
    page.locator(f"{canvas} button[aria-label=Brush].highlight").wait_for(state="attached")


def sheet_upload(request) -> bool:
    """The canvas sends its images to the server (Gradio's component_server) after each change, the loading of
    its value included."""
    return "component_server" in request.url


def nth(n: int, matches: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """A predicate true at the `n`-th request (or response) that `matches`, for page.expect_request (_response)."""
    seen = 0

    def is_nth(request) -> bool:
        nonlocal seen
        seen += matches(request)
        return seen == n

    return is_nth


def sheet_loaded(page, timeout_ms: float = 90_000):
    """A context whose action gives the canvas a blank sheet (opening the page, Clear); on leaving it, the canvas's
    editor holds the sheet and its empty ink layer and has sent them: loading the layer is two changes, each sent
    (three files each: the sheet, the layer, the composite), and the second send is over once the server has
    answered its files. A stroke drawn before the layer arrives is drawn on a layer the loading then replaces; one
    that ends while the editor still sends is read twice, half-drawn first (docs/architecture.md). A person takes
    longer than that to start drawing; a test does not."""
    return page.expect_response(nth(2 * 3, lambda response: sheet_upload(response.request)), timeout=timeout_ms)


def open_app(page, url: str, canvas: str = "#canvas") -> None:
    """Open the page; return once its canvas holds its blank sheet (see sheet_loaded) and the pen is selected."""
    with sheet_loaded(page):
        page.goto(url)
    wait_for_pen(page, canvas)


def clear(page, button: str = "#clear") -> None:
    """Press Clear; return once the canvas holds the new blank sheet (see sheet_loaded). Call it once the last
    stroke was answered: the canvas sends nothing else then."""
    with sheet_loaded(page):
        page.locator(button).click()


def headline(page, label: str = "#draw-label"):
    """The Label's top digit, as a student reads it."""
    return page.locator(f"{label} [data-testid=label-output-value]")


def on_screen(page, selector: str) -> bool:
    """Whether the element's box lies inside the window as it is now, nothing of it scrolled out of sight."""
    box = page.locator(selector).first.bounding_box()
    size = page.viewport_size
    return box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= size["width"] and (
        box["y"] + box["height"] <= size["height"])


def sheet_points(page, stroke: Stroke, canvas: str = "#canvas") -> list[tuple[float, float]]:
    """A stroke's points in page pixels: the sheet is fitted and centred in the editor; 0.8 of it keeps clear
    of its edges."""
    box = page.locator(f"{canvas} canvas").first.bounding_box()
    side = 0.8 * min(box["width"], box["height"])
    left, top = box["x"] + (box["width"] - side) / 2, box["y"] + (box["height"] - side) / 2
    return [(left + x * side, top + y * side) for x, y in stroke]


def draw(page, strokes: list[Stroke], canvas: str = "#canvas") -> None:
    """Draw with the mouse, stroke by stroke, two moves a segment: the pen joins them with straight lines. Each move
    costs the page a frame, which Chromium renders in software here (about 0.6 s on a 2-core machine); with one
    move a segment, a 4's later segments were sometimes not drawn."""
    for stroke in strokes:
        points = sheet_points(page, stroke, canvas)
        page.mouse.move(*points[0])
        page.mouse.down()
        for (ax, ay), (bx, by) in pairwise(points):
            page.mouse.move((ax + bx) / 2, (ay + by) / 2)
            page.mouse.move(bx, by)
        page.mouse.up()


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


def finger_draw(page, strokes: list[Stroke]) -> list[list[str]]:
    """Draw with a finger on the sheet in the middle of the canvas (as browser.draw does with the mouse)."""
    moves = []
    for stroke in strokes:
        moves += swipe(page, sheet_points(page, stroke))
    return moves
