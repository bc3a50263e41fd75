"""The app without a mouse, as a student who uses the keyboard or a screen reader has it: everything but drawing by
Tab, Enter, Space and the arrow keys, with a visible focus; the answer announced; no serious axe-core violation."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from mnist_app.testing.browser import CHROMIUM, NO_CHROMIUM, ONE_STROKE, draw, headline, open_app

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
READ_TIMEOUT_MS = 30_000  # stroke to answer: 4-15 s here, the canvas rendered in software
MOST_TAB_PRESSES = 40  # more than any control here is from the one before it
SPOKEN = "#canvas-spoken [role=status]"  # the live region the Draw tab's answer is announced from
FOCUSED = "e => e === document.activeElement || e.contains(document.activeElement)"
FOCUS_RING = """() => { const s = getComputedStyle(document.activeElement);
  return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2; }"""


@pytest.fixture
def page(browser, app_server):
    """conftest's `page` with the patience of the phone tests: loading the page took over 30 s on the busy machine."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.set_default_timeout(90_000)
    open_app(page, app_server.url)
    yield page
    page.close()


def tab_to(page, selector: str, key: str = "Tab") -> None:
    """Press Tab (or Shift+Tab) until the element (or something in it) has the focus, and check the focus shows."""
    target = page.locator(selector).first
    for _ in range(MOST_TAB_PRESSES):
        page.keyboard.press(key)
        if target.evaluate(FOCUSED):
            assert page.evaluate(FOCUS_RING), f"{selector} has the focus, but shows no focus ring"
            return
    raise AssertionError(f"{MOST_TAB_PRESSES} presses of {key} never reached {selector}")


def focused(page, selector: str) -> bool:
    return page.locator(selector).first.evaluate(FOCUSED)


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is: the rule, and where. It looks once Gradio's
    dropdown lists have stopped fading in or out (tabbing through a dropdown opens its list): the batch size's list
    once measured 4.29:1 (#78787a on #fcfcfc, where the list's colour is the body text: most likely its text at part
    opacity, mid-fade), which failed CI twice."""
    page.wait_for_function(
        "() => document.getAnimations().every(a => !a.effect?.target?.closest?.('.options'))", timeout=30_000,
    )
    found = Axe().run(page).response["violations"]
    return [f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in found if v["impact"] in ("serious", "critical")]


def picker_opens(page, presses: int = 2) -> bool:
    """Space on the focused upload box opens the file picker. In CI the first press once opened none, as Enter did
    in 1 of 2 probes (Gradio's upload box); a student presses again, and so does this."""
    for _ in range(presses):
        try:
            with page.expect_file_chooser(timeout=20_000):
                page.keyboard.press("Space")
            return True
        except PlaywrightTimeoutError:
            continue
    return False


def test_clear_a_correction_explain_the_tabs_and_the_upload_work_from_the_keyboard_and_axe_finds_nothing_serious(
    page,
):
    expect(page.locator(SPOKEN)).to_have_text("")
    draw(page, ONE_STROKE["7"])  # drawing is the one thing done with a pointer
    expect(headline(page)).to_have_text("7", timeout=READ_TIMEOUT_MS)
    expect(page.locator(SPOKEN)).to_have_text(re.compile(r"^7, \d{1,3} percent$"))  # "7, 98 percent"

    tab_to(page, "#draw-correct-digit")  # the digits of the correction row are one stop: the arrow keys pick one
    page.keyboard.press("ArrowRight")
    expect(page.locator("#draw-correct-digit input:checked")).to_have_value("1")
    tab_to(page, "#draw-correct-save")
    page.keyboard.press("Enter")
    expect(page.locator("#draw-correct-note")).to_contain_text("Thanks: saved as a 1", timeout=15_000)

    tab_to(page, "#draw-explain", "Shift+Tab")  # the third column: the 28x28, Explain, then the correction row
    page.keyboard.press("Space")
    expect(page.locator("#draw-hint")).to_contain_text("evidence for 7", timeout=READ_TIMEOUT_MS)
    assert serious_violations(page) == []  # the Draw tab as a student sees it: bars, the 28x28, Explain's picture

    tab_to(page, "#clear", "Shift+Tab")
    page.keyboard.press("Enter")
    expect(headline(page)).to_have_count(0, timeout=READ_TIMEOUT_MS)
    expect(page.locator(SPOKEN)).to_have_text("")

    tab_to(page, "[role=tab] >> text=Draw", "Shift+Tab")
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Upload")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#upload-photo")).to_be_visible()
    assert serious_violations(page) == []
    tab_to(page, "#upload-photo button[aria-label^='Drop an image']")
    expect(page.locator("#upload-photo input[type=file]")).to_be_attached()  # the picker's input, once mounted
    assert picker_opens(page), "two presses of Space opened no file picker"


def test_the_admin_tab_unlocks_from_the_keyboard_and_axe_finds_nothing_serious(page, app_server):
    tab_to(page, "[role=tab] >> text=Draw")
    page.keyboard.press("ArrowLeft")  # round to the last tab
    expect(page.get_by_role("tab", name="Admin")).to_have_attribute("aria-selected", "true")
    tab_to(page, "#admin-password input")
    page.keyboard.type(app_server.password)
    page.keyboard.press("Tab")
    assert focused(page, "#admin-unlock")
    page.keyboard.press("Enter")
    expect(page.locator("#admin-start")).to_be_visible(timeout=15_000)
    tab_to(page, "#admin-start")  # the training controls come next in the Tab order
    assert serious_violations(page) == []  # the whole tab: training, versions
