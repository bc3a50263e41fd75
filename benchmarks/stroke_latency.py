"""From the pen lifting to the answer, in a real browser: Debian's Chromium on `python app.py`.

    python benchmarks/stroke_latency.py              # 20 digits, and 3 fresh pages for each of 1, 0 and 7

1. Stroke to answer: on one page, 20 digits, each written in one stroke, Clear between. The time is taken in
   the page, from the mouse's pointerup on the canvas to the Label's headline changing (a MutationObserver),
   so Playwright's own round trips are not in it. p50 and p90, and how many were read right.
2. First strokes: for each of 1, 0 and 7, three fresh pages; 3 s after the canvas appears, the digit is drawn
   as the very first action, and the benchmark waits up to 30 s for the answer.

The server, the browser and this script share the machine: the CPU seconds each of the server and Chromium
(all its processes) used are written beside the times. Headless Chromium renders the canvas in software.
Writes benchmarks/results/stroke_latency.json; its last line printed is the same JSON.
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from playwright.sync_api import expect, sync_playwright

from mnist_app.testing.app_process import start_app
from mnist_app.testing.browser import ONE_STROKE, clear, draw, headline, launch, open_app
from mnist_app.testing.results import save_result
from mnist_app.testing.students import cpu_seconds

DIGITS = "17024693581702469358"  # 20 one-stroke digits
FIRST_STROKE_DIGITS = "107"
FRESH_PAGES = 3
PAUSE_BEFORE_FIRST_STROKE_MS = 3000  # as a visitor: the canvas appears, they pick up the pen
ANSWER_TIMEOUT_MS = 30_000
# In the page: when the pen was last lifted, and when the headline last changed.
TIMING_SCRIPT = """
window.strokeTiming = {up: null, answered: null};
document.addEventListener('pointerup', () => { window.strokeTiming.up = performance.now(); }, true);
new MutationObserver(() => {
  const headline = document.querySelector('#draw-label [data-testid=label-output-value]');
  const text = headline ? headline.innerText : '';
  if (text !== window.strokeTiming.text) {
    window.strokeTiming.text = text;
    window.strokeTiming.answered = performance.now();
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


ANSWERED_SINCE_STROKE = "() => strokeTiming.text && strokeTiming.answered > strokeTiming.up"


def cpu_seconds_of(pids: list[int]) -> float:
    """User + system CPU of these processes so far; gone ones count nothing."""
    return sum(cpu_seconds(pid) or 0.0 for pid in pids)


def chromium_pids() -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if b"chromium" in stat.read_bytes().split(b"\0")[0]:
                pids.append(int(stat.parent.name))
        except OSError:
            continue
    return pids


def stroke_to_answer(page) -> list[dict]:
    shown = headline(page)
    readings = []
    for digit in DIGITS:
        draw(page, ONE_STROKE[digit])
        page.wait_for_function(ANSWERED_SINCE_STROKE, timeout=ANSWER_TIMEOUT_MS)
        timing = page.evaluate("window.strokeTiming")
        readings.append({"digit": digit, "read": timing["text"], "ms": round(timing["answered"] - timing["up"])})
        print(f"{digit}: read {timing['text']} in {readings[-1]['ms']} ms", flush=True)
        clear(page)
        expect(shown).to_have_count(0, timeout=ANSWER_TIMEOUT_MS)
    return readings


def first_strokes(browser, url: str) -> list[dict]:
    results = []
    for digit in FIRST_STROKE_DIGITS:
        for _ in range(FRESH_PAGES):
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(url)
            page.locator("#canvas canvas").first.wait_for()
            page.wait_for_timeout(PAUSE_BEFORE_FIRST_STROKE_MS)
            draw(page, ONE_STROKE[digit])
            try:
                expect(headline(page)).not_to_have_text("", timeout=ANSWER_TIMEOUT_MS)
                read = headline(page).inner_text()
            except AssertionError:
                read = None
            results.append({"digit": digit, "read": read})
            print(f"first stroke {digit}: read {read}", flush=True)
            page.close()
    return results


def main() -> None:
    # No options; a parser all the same, so that --help prints the above instead of running the benchmark.
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    base = Path(tempfile.mkdtemp())
    server, url = start_app(base / "home", "stroke-latency-password", log=base / "server.log")
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.add_init_script(TIMING_SCRIPT)
            open_app(page, url)
            browser_pids = chromium_pids()
            cpu_before = cpu_seconds_of([server.pid]), cpu_seconds_of(browser_pids)
            started = time.monotonic()
            readings = stroke_to_answer(page)
            wall_s = time.monotonic() - started
            server_cpu, browser_cpu = (cpu_seconds_of(p) - before for p, before in
                                       zip(([server.pid], browser_pids), cpu_before, strict=True))
            page.close()
            fresh = first_strokes(browser, url)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    times = np.array([r["ms"] for r in readings])
    result = {
        "browser": "Chromium headless (software)",
        "stroke_to_answer": {
            "digits": len(readings),
            "p50_ms": round(float(np.percentile(times, 50))),
            "p90_ms": round(float(np.percentile(times, 90))),
            "read_right": sum(r["read"] == r["digit"] for r in readings),
            "wall_s": round(wall_s, 1),
            "server_cpu_s": round(server_cpu, 1),
            "browser_cpu_s": round(browser_cpu, 1),
            "readings": readings,
        },
        "first_stroke_on_fresh_pages": {
            "pause_before_stroke_ms": PAUSE_BEFORE_FIRST_STROKE_MS,
            "read_right": sum(r["read"] == r["digit"] for r in fresh),
            "pages": len(fresh),
            "results": fresh,
        },
    }
    save_result("stroke_latency", result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
