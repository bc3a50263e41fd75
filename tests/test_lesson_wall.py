"""The class wall in a browser: two students draw on their phones' Draw tab (desktop pages here) while the presenter's
page shows /classroom's Class wall; and the QR code of the address, read back from a screenshot."""

import io

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from mnist_app.storage.corrections import CorrectionStore
from mnist_app.storage.lessons import LessonStore
from mnist_app.testing.app_process import start_app
from mnist_app.testing.browser import CHROMIUM, NO_CHROMIUM, ONE_STROKE, clear, draw, headline, open_app
from mnist_app.web.classroom import CLASSROOM_PATH
from mnist_app.web.lan_address import is_loopback, lan_ip

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
WAIT_MS = 120_000  # generous: on a busy machine a stroke took over a minute to be read here
CARDS = "#wall .wall-card"


@pytest.fixture(autouse=True)
def patient_expect():
    """Every wait here is generous; other tests keep Playwright's default."""
    expect.set_options(timeout=WAIT_MS)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture
def lessons(app_server) -> LessonStore:
    """The running app's lessons; none running when a test starts or ends (the app is shared with other tests)."""
    store = LessonStore(CorrectionStore(app_server.home / "corrections.db"))
    if store.running() is not None:
        store.end()
    yield store
    if store.running() is not None:
        store.end()


@pytest.fixture
def presenter(browser, app_server):
    """The projector's page: /classroom at 1920x1080, on its Class wall tab. The teacher opens the wall once the page
    shows its address: the page selects its Canvas tab itself as it loads, which stops the wall's timer, and a click
    on the wall answered before that select was undone by it (the likely cause of a wall that never refreshed, here
    and in CI)."""
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.set_default_timeout(WAIT_MS)
    page.goto(app_server.url + CLASSROOM_PATH)
    expect(page.locator("#classroom-address")).to_contain_text(app_server.url.rsplit(":", 1)[1])
    page.get_by_role("tab", name="Class wall").click()
    yield page
    page.close()


@pytest.fixture
def students(browser, app_server):
    """Two students' pages of the Draw tab."""
    pages = [browser.new_page(viewport={"width": 1280, "height": 1000}) for _ in range(2)]
    for page in pages:
        page.set_default_timeout(WAIT_MS)
        open_app(page, app_server.url)
    yield pages
    for page in pages:
        page.close()


def teacher(presenter, password: str, button: str, number: int | None = None) -> None:
    """The teacher types the password (and a drawing's number) and presses one of the wall's buttons."""
    presenter.locator("#wall-password input").fill(password)
    if number is not None:
        presenter.locator("#wall-number input").fill(str(number))
    presenter.locator(button).click()


def refused(presenter) -> None:
    """The wrong password's message comes up, then goes."""
    toast = presenter.locator(".toast-body").filter(has_text="Wrong admin password")
    expect(toast.first).to_be_visible()
    presenter.locator(".toast-close").first.click()
    expect(toast).to_have_count(0)


def matrix_cell_of(presenter, drawn: int, read: int):
    """A cell of the lesson's confusion matrix: each row is a digit's name, then its 10 counts."""
    return presenter.locator("#wall-matrix").get_by_role("gridcell").nth(11 * drawn + 1 + read)


def draw_and_read(page, digit: str) -> None:
    draw(page, ONE_STROKE[digit])
    expect(headline(page)).to_have_text(digit, timeout=WAIT_MS)


def test_a_lesson_drawings_on_the_wall_right_and_corrections_in_the_tally_and_matrix_then_hide_pause_and_end(
    presenter, students, lessons, app_server,
):
    """One lesson as a class has it, on one set of pages: drawings reach the wall only while it runs; Right! and a
    correction fill the tally and the matrix, whose cell shows its drawings; hiding, pausing and ending need the
    password; ending clears the wall and keeps the corrections."""
    alice, bob = students
    status, tally, notice = presenter.locator("#wall-status"), presenter.locator("#wall-tally"), "#draw-lesson-notice"
    expect(status).to_contain_text("No lesson is running")
    draw_and_read(alice, "7")  # no lesson: the page says nothing and the wall stays empty
    expect(alice.locator(notice)).to_be_hidden()
    expect(presenter.locator(CARDS)).to_have_count(0)

    teacher(presenter, "not the password", "#wall-start")
    refused(presenter)
    expect(status).to_contain_text("No lesson is running")
    teacher(presenter, app_server.password, "#wall-start")
    expect(presenter.locator("#wall-message")).to_contain_text("started")
    expect(status).to_contain_text("Lesson")
    lesson = lessons.running()
    for student in students:
        expect(student.locator(notice)).to_contain_text("your drawings appear on the class screen")

    clear(alice)
    draw_and_read(alice, "7")
    expect(presenter.locator(CARDS)).to_have_count(1)
    draw_and_read(bob, "1")
    expect(presenter.locator(CARDS)).to_have_count(2)
    expect(presenter.locator(f"{CARDS} .digit")).to_have_text(["1", "7"])  # newest first
    expect(presenter.locator(f"{CARDS} img.seen")).to_have_count(2)  # beside each: the 28x28 the model saw

    alice.locator("#draw-correct-right").click()  # Right!
    expect(alice.locator("#draw-correct-note")).to_contain_text("Thanks: saved as a 7")
    expect(tally).to_contain_text("1 confirmed right · 0 corrected")
    bob.locator("#draw-correct-digit").get_by_text("7", exact=True).click()  # Wrong? It is a 7
    bob.locator("#draw-correct-save").click()
    expect(tally).to_contain_text("2 drawings · 1 confirmed right · 1 corrected")
    matrix_cell = matrix_cell_of(presenter, drawn=7, read=1)
    expect(matrix_cell).to_have_text("1")
    expect(matrix_cell_of(presenter, drawn=7, read=7)).to_have_text("1")
    expect(presenter.locator(f"{CARDS}.right")).to_have_count(1)
    corrected = presenter.locator(f"{CARDS}.corrected")
    expect(corrected).to_contain_text("it is a 7")

    matrix_cell.click()
    expect(presenter.locator("#wall-cell-title")).to_contain_text("Drawn as 7, read as 1: 1 drawing")
    expect(presenter.locator("#wall-cell .wall-card .digit")).to_have_text(["1"])

    number = int(corrected.get_attribute("data-number"))  # Bob's drawing, as if it were rude
    teacher(presenter, "wrong", "#wall-hide", number)
    refused(presenter)
    expect(presenter.locator(CARDS)).to_have_count(2)
    teacher(presenter, app_server.password, "#wall-hide", number)
    expect(presenter.locator(f"{CARDS} .digit")).to_have_text(["7"])

    teacher(presenter, "wrong", "#wall-pause")
    refused(presenter)
    expect(status).not_to_contain_text("paused")
    teacher(presenter, app_server.password, "#wall-pause")
    expect(status).to_contain_text("The wall is paused (1 drawing by now)")
    clear(alice)
    draw_and_read(alice, "1")
    expect(status).to_contain_text("(2 drawings by now)")  # the wall has seen it, and keeps it back
    expect(presenter.locator(CARDS)).to_have_count(1)
    teacher(presenter, app_server.password, "#wall-resume")
    expect(presenter.locator(f"{CARDS} .digit")).to_have_text(["1", "7"])

    teacher(presenter, "wrong", "#wall-end")
    refused(presenter)
    expect(status).to_contain_text(f"Lesson {lesson.id}")
    teacher(presenter, app_server.password, "#wall-end")
    expect(status).to_contain_text("No lesson is running")
    expect(presenter.locator(CARDS)).to_have_count(0)
    expect(alice.locator(notice)).to_be_hidden()
    kept = [c for c in CorrectionStore(app_server.home / "corrections.db").list() if c.lesson_id == lesson.id]
    assert sorted((c.label, c.predicted) for c in kept) == [(7, 1), (7, 7)]  # the hidden drawing's included


@pytest.fixture
def lan_app(tmp_path):
    """The app listening on this machine's network address, as in a classroom, so that the view shows a QR code."""
    host = lan_ip()
    if is_loopback(host):
        pytest.skip("this machine has no network address for phones to open")
    process, url = start_app(tmp_path / "home", "lan-password", host=host, log=tmp_path / "server.log")
    yield url
    process.terminate()
    process.wait(timeout=30)


def test_the_qr_code_cut_from_a_screenshot_decodes_to_the_address_on_the_page(browser, lan_app):
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.set_default_timeout(WAIT_MS)
    page.goto(lan_app + CLASSROOM_PATH)
    address = page.locator("#classroom-address strong")
    expect(address).to_have_text(lan_app)  # the address phones open: where this app listens
    code = page.locator("#classroom-qr img")
    expect(code).to_be_visible()
    screenshot = Image.open(io.BytesIO(code.screenshot()))
    assert [found.text for found in zxingcpp.read_barcodes(screenshot)] == [address.inner_text()]
    page.close()
