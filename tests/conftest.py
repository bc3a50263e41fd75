"""What the tests share: the shipped model, the web handlers' context, a small model store, the running app
(`python app.py` as a user starts it, on a free local port, with its own model store, a tiny MNIST and a known
admin password) and Chromium."""

from dataclasses import dataclass
from pathlib import Path

import pytest

from mnist_app.reading.predict import Predictor
from mnist_app.storage.corrections import CorrectionStore
from mnist_app.storage.lessons import LessonStore
from mnist_app.storage.versions import ModelVersions
from mnist_app.storage.weights import save_weights
from mnist_app.testing.app_process import ADMIN_PASSWORD, start_app
from mnist_app.testing.browser import launch, open_app
from mnist_app.testing.mnist_files import write_mnist
from mnist_app.training.models import build_model
from mnist_app.web.auth import AdminAuth
from mnist_app.web.context import AppContext
from mnist_app.web.jobs import TrainingJob


@dataclass
class AppServer:
    url: str
    password: str
    home: Path  # MNIST_APP_HOME
    data: Path  # MNIST_DATA_DIR


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("app")
    process, url = start_app(base / "home", ADMIN_PASSWORD, write_mnist(base / "mnist"), log=base / "server.log")
    try:
        yield AppServer(url, ADMIN_PASSWORD, base / "home", base / "mnist")
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def predictor() -> Predictor:
    """The shipped weights, loaded once for every test that reads digits (a Predictor keeps no state per call)."""
    return Predictor()


@pytest.fixture
def ctx(predictor: Predictor, tmp_path: Path) -> AppContext:
    """The web handlers' context: the shipped model, a fresh model store, no MNIST, an empty corrections store
    (tmp_path / "corrections.db", which also keeps the lessons) and ADMIN_PASSWORD, checked without delays."""
    versions = ModelVersions(tmp_path / "models")
    auth = AdminAuth(ADMIN_PASSWORD, first_delay_s=0, max_delay_s=0)
    job = TrainingJob(versions, data_dir=tmp_path / "no-mnist-here")
    corrections = CorrectionStore(tmp_path / "corrections.db")
    return AppContext(predictor, auth, versions, job, corrections=corrections, lessons=LessonStore(corrections))


@pytest.fixture
def versions(tmp_path: Path) -> ModelVersions:
    """A model store whose shipped model is an untrained "fast" net: quick to load, to train and to compare."""
    shipped = tmp_path / "shipped" / "shipped.safetensors"
    save_weights(build_model("fast"), shipped, {"architecture": "fast", "test_accuracy": 0.99})
    return ModelVersions(tmp_path / "models", shipped=shipped)


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
