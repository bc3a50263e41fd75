"""The running app, shared by the API and browser tests: `python app.py` as a user starts it,
on a free local port, with its own model store, a tiny MNIST and a known admin password."""

from dataclasses import dataclass
from pathlib import Path

import pytest

from mnist_app.reading.predict import Predictor
from mnist_app.testing.app_process import start_app
from mnist_app.testing.browser import launch, open_app
from mnist_app.testing.mnist_files import write_mnist


@dataclass
class AppServer:
    url: str
    password: str
    home: Path  # MNIST_APP_HOME
    data: Path  # MNIST_DATA_DIR


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("app")
    password = "test-admin-password"
    process, url = start_app(base / "home", password, write_mnist(base / "mnist"), log=base / "server.log")
    try:
        yield AppServer(url, password, base / "home", base / "mnist")
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def predictor() -> Predictor:
    """The shipped weights, loaded once for every test that reads digits (a Predictor keeps no state per call)."""
    return Predictor()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium through Playwright, one for the session (modules that use it skip without it)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, app_server):
    """A fresh desktop page of the app, as a visitor opens it, once the pen is ready."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    open_app(page, app_server.url)
    yield page
    page.close()
