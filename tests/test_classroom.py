"""The classroom view (/classroom): the address students open on their phones, and the big canvas in a browser."""

import ipaddress
import shutil
import socket
import time
from itertools import pairwise
from types import SimpleNamespace

import pytest
from test_browser import CHROMIUM_ARGS

from mnist_app import network, ui_classroom

CHROMIUM = shutil.which("chromium")
SEVEN = [[(0.30, 0.20), (0.70, 0.20)], [(0.70, 0.20), (0.45, 0.85)]]


@pytest.fixture
def lan(monkeypatch) -> str:
    """A machine on a classroom network, whatever this one is on."""
    monkeypatch.setattr(network, "lan_ip", lambda: "192.168.1.20")
    return "192.168.1.20"


def test_the_lan_address_is_found_without_sending_anything():
    address = ipaddress.ip_address(network.lan_ip())  # a real address, not a name or an error message
    assert address.version == 4


def test_without_any_network_the_address_falls_back_to_this_machine(monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("Network is unreachable")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "gethostbyname", no_network)
    assert network.lan_ip() == "127.0.0.1"
    assert network.student_address("0.0.0.0", 7860).reachable is False
    assert "Wi-Fi" in network.student_address("0.0.0.0", 7860).advice


def test_an_app_serving_the_network_shows_its_lan_address_and_port(lan):
    for every_interface in ("0.0.0.0", "::"):
        address = network.student_address(every_interface, 7861)
        assert address == network.StudentAddress(f"http://{lan}:7861/", True, "")
    assert network.student_address("10.0.0.7", 8080, "https").url == "https://10.0.0.7:8080/"
    assert network.student_address("fd00::7", 8080).url == "http://[fd00::7]:8080/"


def test_an_app_on_localhost_only_says_phones_cannot_reach_it_and_how_to_fix_that(lan):
    for local in (None, "127.0.0.1", "localhost", "::1"):
        address = network.student_address(local, 7860)
        assert address.reachable is False
        assert "GRADIO_SERVER_NAME=0.0.0.0" in address.advice and f"http://{lan}:7860/" in address.advice
    shown = ui_classroom.address_markdown(network.student_address("127.0.0.1", 7860))
    assert "cannot open" in shown and "GRADIO_SERVER_NAME=0.0.0.0" in shown


def test_the_view_shows_where_the_running_app_listens(lan, monkeypatch):
    launched = SimpleNamespace(server_name="0.0.0.0", server_port=7862, protocol="http")
    assert ui_classroom.address_markdown(ui_classroom.served_address(launched)) == (
        f"On your phone, open **http://{lan}:7862/**"
    )
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "8123")
    not_launched = SimpleNamespace()  # Gradio sets server_name and server_port in launch()
    assert ui_classroom.served_address(not_launched).url == f"http://{lan}:8123/"
    monkeypatch.delenv("GRADIO_SERVER_PORT")
    assert ui_classroom.served_address(not_launched).url == f"http://{lan}:7860/"  # Gradio's default port


@pytest.fixture
def classroom(app_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})  # a projector
        page.goto(app_server.url + ui_classroom.CLASSROOM_PATH)
        page.wait_for_selector("#classroom-canvas canvas", timeout=60_000)  # generous: CI machines get busy
        page.wait_for_function(  # the editor selects the pen once the white sheet has loaded
            "() => document.querySelector('#classroom-canvas button[aria-label=Brush]')"
            "?.classList.contains('highlight')",
            timeout=30_000,
        )
        yield page
        browser.close()


def draw_seven(page) -> None:
    box = page.locator("#classroom-canvas canvas").first.bounding_box()
    side = 0.8 * min(box["width"], box["height"])  # well inside the sheet, which is fitted and centred
    left, top = box["x"] + (box["width"] - side) / 2, box["y"] + (box["height"] - side) / 2
    for stroke in SEVEN:
        page.mouse.move(left + stroke[0][0] * side, top + stroke[0][1] * side)
        page.mouse.down()
        for (ax, ay), (bx, by) in pairwise(stroke):
            for t in (1 / 3, 2 / 3, 1):
                page.mouse.move(left + (ax + (bx - ax) * t) * side, top + (ay + (by - ay) * t) * side)
        page.mouse.up()


def wait_for_text(page, selector: str, expected: str, timeout_s: float = 60) -> str:
    deadline = time.monotonic() + timeout_s
    shown = ""
    while expected not in shown and time.monotonic() < deadline:
        time.sleep(0.2)
        found = page.locator(selector)
        shown = found.first.inner_text() if found.count() else ""
    return shown


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_the_classroom_view_shows_the_address_and_reads_a_big_drawn_digit(classroom, app_server):
    port = app_server.url.rsplit(":", 1)[1].strip("/")
    address = wait_for_text(classroom, "#classroom-address", "GRADIO_SERVER_NAME")
    assert "cannot open" in address and f":{port}/" in address  # the test server listens on 127.0.0.1 only
    canvas = classroom.locator("#classroom-canvas").bounding_box()
    assert canvas["height"] > 0.6 * 1080  # most of the screen's height

    draw_seven(classroom)
    assert wait_for_text(classroom, "#classroom-label [data-testid=label-output-value]", "7").strip() == "7"
    headline = classroom.locator("#classroom-label [data-testid=label-output-value]")
    assert float(headline.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 100  # readable afar

    classroom.locator("#classroom-explain input").check()
    assert "evidence for 7" in wait_for_text(classroom, "#classroom-hint", "evidence for 7")
    classroom.locator("#classroom-clear").click()
    classroom.wait_for_function(
        "() => !document.querySelector('#classroom-label [data-testid=label-output-value]')?.innerText"
    )
