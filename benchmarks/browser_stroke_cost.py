"""What one student's browser costs the server: requests and server CPU for each digit drawn (one stroke, then
Clear), and for an open page that nobody draws on. Debian's Chromium on `python app.py`.

    python benchmarks/browser_stroke_cost.py                       # 20 one-stroke digits, Clear between
    python benchmarks/browser_stroke_cost.py --app OLD/app.py      # another checkout's app, for a before/after

The page opens and settles (its requests until then are the page load's); the server's CPU is read for 20 s with
the page open and nobody drawing (the lesson notice's timer ticks every 10 s), then for the digits: each drawn in
one stroke, its answer awaited, then Clear. The page's POST requests are counted by kind (Gradio's `upload`, the
canvas editor's `component_server`, a queued event's `queue/join`, an unqueued event's `run`). Server CPU for a
digit is the process's CPU over the digits, less the idle page's rate for as long, divided by the digits. The
benchmark (its script and Chromium) shares the machine with the server: figures are for comparing runs on one
machine.
Writes benchmarks/results/browser_stroke_cost.json; its last line printed is the same JSON.
"""

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from mnist_app.testing.app_process import ROOT, start_app
from mnist_app.testing.browser import ONE_STROKE, clear, draw, headline, launch, open_app
from mnist_app.testing.results import save_result
from mnist_app.testing.students import cpu_seconds

DIGITS = "17024693581702469358"
IDLE_MS = 20_000  # two ticks of the lesson notice's timer (web/wall_feed.py)
SETTLE_MS = 5_000
ANSWER_TIMEOUT_MS = 30_000
PASSWORD = "browser-stroke-cost"


def request_kind(url: str) -> str:
    """`upload`, `component_server`, `queue`, `run`, ...: the first part of the path after /gradio_api/."""
    return url.split("/gradio_api/", 1)[-1].split("?")[0].split("/")[0]


def measure(app: Path, digits: str) -> dict:
    home = Path(tempfile.mkdtemp())
    process, url = start_app(home / "home", PASSWORD, script=app, log=home / "server.log")
    counts: Counter = Counter()
    phase = ["settling"]
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on("request", lambda r: r.method == "POST" and counts.update([(phase[0], request_kind(r.url))]))
            open_app(page, url)
            page.wait_for_timeout(SETTLE_MS)
            phase[0], before, started = "idle", cpu_seconds(process.pid), time.monotonic()
            page.wait_for_timeout(IDLE_MS)
            idle_s, idle_cpu = time.monotonic() - started, cpu_seconds(process.pid) - before
            phase[0], before, started = "digits", cpu_seconds(process.pid), time.monotonic()
            misread = []
            for digit in digits:
                draw(page, ONE_STROKE[digit])
                try:  # a stroke begun as the blank sheet loads may be read half-drawn first (see clear)
                    expect(headline(page)).to_have_text(digit, timeout=ANSWER_TIMEOUT_MS)
                except AssertionError:
                    misread.append(f"{digit} read as {headline(page).all_inner_texts()}")
                clear(page)
                expect(headline(page)).to_have_count(0, timeout=ANSWER_TIMEOUT_MS)
            digits_s, digits_cpu = time.monotonic() - started, cpu_seconds(process.pid) - before
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
    idle_rate = idle_cpu / idle_s
    phases = ("settling", "idle", "digits")
    per_phase = {p: {kind: n for (q, kind), n in sorted(counts.items()) if q == p} for p in phases}
    return {
        "app": str(app),
        "digits": len(digits),
        "read_right": len(digits) - len(misread),
        "misread": misread,
        "page_load": {"requests": per_phase["settling"]},  # from opening it to 5 s after the pen appeared
        "idle_page": {"seconds": round(idle_s, 1), "server_cpu_ms_per_s": round(1000 * idle_rate, 1),
                      "requests": per_phase["idle"]},
        "digits_drawn": {  # each: one stroke, its answer, Clear
            "seconds": round(digits_s, 1),
            "server_cpu_ms_per_digit": round(1000 * (digits_cpu - idle_rate * digits_s) / len(digits), 1),
            "requests_per_digit": {kind: round(n / len(digits), 2) for kind, n in per_phase["digits"].items()},
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", type=Path, default=ROOT / "app.py", help="the script that starts the app")
    parser.add_argument("--digits", default=DIGITS, help="the one-stroke digits to draw, in order")
    args = parser.parse_args()
    result = measure(args.app.resolve(), args.digits)
    save_result("browser_stroke_cost", result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
