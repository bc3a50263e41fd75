"""How long a student's drawing takes to appear on the class wall, in headless Chromium.

    python benchmarks/wall_delay.py [--drawings 20]

Starts `python app.py` on a free port with a fresh model store, starts a lesson, opens the presenter's /classroom
on its Class wall tab and one student's Draw tab; the student then draws one-stroke digits, pressing Clear before
each, so that each is a new card. For each drawing it records the time from the end of the stroke to the card on
the wall, and from the student's answer (the bars) to the card, and writes benchmarks/results/wall_delay.json.
Needs Debian's chromium (apt-get install chromium).
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from playwright.sync_api import expect, sync_playwright

from mnist_app.storage.corrections import CorrectionStore
from mnist_app.storage.lessons import LessonStore
from mnist_app.testing.app_process import start_app
from mnist_app.testing.browser import ONE_STROKE, clear, draw, headline, launch, open_app
from mnist_app.testing.results import save_result
from mnist_app.web.classroom import CLASSROOM_PATH
from mnist_app.web.lesson_wall import REFRESH_S

PASSWORD = "benchmark-password"
WAIT_MS = 180_000
CARD_COUNT = "n => document.querySelectorAll('#wall .wall-card').length >= n"


def summary(seconds: list[float]) -> dict:
    return {
        "p50": round(float(np.percentile(seconds, 50)), 2),
        "p90": round(float(np.percentile(seconds, 90)), 2),
        "max": round(max(seconds), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drawings", type=int, default=20)
    args = parser.parse_args()
    stroke_to_wall, answer_to_wall = [], []
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch) / "home"
        process, url = start_app(home, PASSWORD, log=Path(scratch) / "server.log")
        try:
            LessonStore(CorrectionStore(home / "corrections.db")).start()
            with sync_playwright() as playwright:
                browser = launch(playwright)
                presenter = browser.new_page(viewport={"width": 1920, "height": 1080})
                presenter.set_default_timeout(WAIT_MS)
                presenter.goto(url + CLASSROOM_PATH)
                presenter.get_by_role("tab", name="Class wall").click()
                student = browser.new_page(viewport={"width": 1280, "height": 1000})
                student.set_default_timeout(WAIT_MS)
                open_app(student, url)
                expect(student.locator("#draw-lesson-notice")).to_contain_text("class screen")
                digits = list(ONE_STROKE)
                for n in range(1, args.drawings + 1):
                    if n > 1:
                        clear(student)
                        expect(headline(student)).to_have_count(0)
                    digit = digits[n % len(digits)]
                    draw(student, ONE_STROKE[digit])
                    drawn = time.monotonic()
                    headline(student).wait_for()
                    answered = time.monotonic()
                    presenter.wait_for_function(CARD_COUNT, arg=n)
                    on_wall = time.monotonic()
                    stroke_to_wall.append(on_wall - drawn)
                    answer_to_wall.append(on_wall - answered)
                    print(f"drawing {n}: stroke to wall {stroke_to_wall[-1]:.2f} s, then {answer_to_wall[-1]:.2f} s")
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=30)
    path = save_result("wall_delay", {
        "drawings": args.drawings,
        "wall_refresh_s": REFRESH_S,
        "stroke_to_wall_s": summary(stroke_to_wall),
        "answer_to_wall_s": summary(answer_to_wall),
        "note": "one student page and the presenter's page in one headless Chromium, canvas rendered in software",
    })
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
