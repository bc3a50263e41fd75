"""The classroom view (/classroom): the address students open on their phones, and the big canvas in a browser.
The QR code and the class wall are in test_lesson_wall.py and test_lessons.py."""

import ipaddress
import socket
from types import SimpleNamespace

import pytest

from mnist_app.testing.browser import CHROMIUM, NO_CHROMIUM, ONE_STROKE, clear, draw, headline, open_app
from mnist_app.web import classroom, lan_address

CANVAS = "#classroom-canvas"


@pytest.fixture
def lan(monkeypatch) -> str:
    """A machine on a classroom network, whatever this one is on."""
    monkeypatch.setattr(lan_address, "lan_ip", lambda: "192.168.1.20")
    return "192.168.1.20"


def test_the_lan_address_is_found_without_sending_anything():
    address = ipaddress.ip_address(lan_address.lan_ip())  # a real address, not a name or an error message
    assert address.version == 4


def test_without_any_network_the_address_falls_back_to_this_machine(monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("Network is unreachable")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "gethostbyname", no_network)
    assert lan_address.lan_ip() == "127.0.0.1"
    assert lan_address.student_address("0.0.0.0", 7860).reachable is False
    assert "Wi-Fi" in lan_address.student_address("0.0.0.0", 7860).advice


def test_an_app_serving_the_network_shows_its_lan_address_and_port(lan):
    for every_interface in ("0.0.0.0", "::"):
        address = lan_address.student_address(every_interface, 7861)
        assert address == lan_address.StudentAddress(f"http://{lan}:7861/", True, "")
    assert lan_address.student_address("10.0.0.7", 8080, "https").url == "https://10.0.0.7:8080/"
    assert lan_address.student_address("fd00::7", 8080).url == "http://[fd00::7]:8080/"


def test_an_app_on_localhost_only_says_phones_cannot_reach_it_and_how_to_fix_that(lan):
    for local in (None, "127.0.0.1", "localhost", "::1"):
        address = lan_address.student_address(local, 7860)
        assert address.reachable is False
        assert "GRADIO_SERVER_NAME=0.0.0.0" in address.advice and f"http://{lan}:7860/" in address.advice
    shown = classroom.address_markdown(lan_address.student_address("127.0.0.1", 7860))
    assert "cannot open" in shown and "GRADIO_SERVER_NAME=0.0.0.0" in shown


def test_the_view_shows_where_the_running_app_listens(lan, monkeypatch):
    launched = SimpleNamespace(server_name="0.0.0.0", server_port=7862, protocol="http")
    assert classroom.address_markdown(classroom.served_address(launched)) == (
        f"On your phone, open **http://{lan}:7862/**"
    )
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "8123")
    not_launched = SimpleNamespace()  # Gradio sets server_name and server_port in launch()
    assert classroom.served_address(not_launched).url == f"http://{lan}:8123/"
    monkeypatch.delenv("GRADIO_SERVER_PORT")
    assert classroom.served_address(not_launched).url == f"http://{lan}:7860/"  # Gradio's default port


@pytest.fixture
def projector(browser, app_server):
    page = browser.new_page(viewport={"width": 1920, "height": 1080})  # a projector
    page.set_default_timeout(60_000)  # generous: CI machines get busy
    open_app(page, app_server.url + classroom.CLASSROOM_PATH, CANVAS)
    yield page
    page.close()


@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_the_classroom_view_shows_the_address_and_reads_a_big_drawn_digit(projector, app_server):
    from playwright.sync_api import expect

    port = app_server.url.rsplit(":", 1)[1].strip("/")
    address = projector.locator("#classroom-address")
    expect(address).to_contain_text("GRADIO_SERVER_NAME")
    expect(address).to_contain_text("cannot open")  # the test server listens on 127.0.0.1 only
    expect(address).to_contain_text(f":{port}/")
    expect(projector.locator("#classroom-qr img")).to_have_count(0)  # no QR code of an address phones cannot open
    canvas = projector.locator(CANVAS).bounding_box()
    assert canvas["height"] > 0.6 * 1080  # most of the screen's height

    draw(projector, ONE_STROKE["7"], CANVAS)  # the first thing the teacher does: one stroke
    big_digit = headline(projector, "#classroom-label")
    expect(big_digit).to_have_text("7", timeout=30_000)
    assert float(big_digit.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 100  # readable afar

    projector.locator("#classroom-explain input").check()
    expect(projector.locator("#classroom-hint")).to_contain_text("evidence for 7", timeout=30_000)
    clear(projector, "#classroom-clear")
    expect(big_digit).to_have_count(0)
    draw(projector, ONE_STROKE["1"], CANVAS)
    expect(big_digit).to_have_text("1", timeout=30_000)
