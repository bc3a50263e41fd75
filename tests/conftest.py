"""The running app, shared by the API and browser tests: `python app.py` as a user starts it,
on a free local port, with its own model store, a tiny MNIST and a known admin password."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from mnist_files import write_mnist

from mnist_app.predict import Predictor

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class AppServer:
    url: str
    password: str
    home: Path  # MNIST_APP_HOME
    data: Path  # MNIST_DATA_DIR


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"app.py did not answer on {url} within {timeout_s} s")


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("app")
    port = free_port()
    env = {
        **os.environ,
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "MNIST_ADMIN_PASSWORD": "test-admin-password",
        "MNIST_APP_HOME": str(base / "home"),
        "MNIST_DATA_DIR": str(write_mnist(base / "mnist")),
    }
    log = (base / "server.log").open("w")
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        try:
            wait_until_up(url, process)
        except (RuntimeError, TimeoutError) as e:
            raise RuntimeError(f"{e}; its output:\n{(base / 'server.log').read_text()[-3000:]}") from None
        yield AppServer(url, env["MNIST_ADMIN_PASSWORD"], base / "home", base / "mnist")
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="session")
def predictor() -> Predictor:
    """The shipped weights, loaded once for every test that reads digits (a Predictor keeps no state per call)."""
    return Predictor()
