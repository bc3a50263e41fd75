"""Start `python app.py` as a user does, on a free local port, and wait until it answers.
Used by the tests' running app and by the benchmarks that need one."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "test-admin-password"  # the tests' running app and their AppContext


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


def start_app(
    home: Path, password: str, data_dir: str | Path | None = None, log: Path | None = None,
    script: Path = ROOT / "app.py", timeout_s: float = 90, host: str = "127.0.0.1",
) -> tuple[subprocess.Popen, str]:
    """The app on `host` (this machine only, unless told otherwise) with its own model store (MNIST_APP_HOME), a
    known admin password and, if given, MNIST_DATA_DIR; its output goes to `log` (else to ours). Returns the process
    and its URL."""
    port = free_port()
    env = {
        **os.environ, "GRADIO_SERVER_NAME": host, "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False", "MNIST_ADMIN_PASSWORD": password, "MNIST_APP_HOME": str(home),
    }
    if data_dir is not None:
        env["MNIST_DATA_DIR"] = str(Path(data_dir).resolve())
    if log is None:
        process = subprocess.Popen([sys.executable, str(script)], cwd=ROOT, env=env)
    else:
        with log.open("w") as out:  # the child keeps its own handle
            process = subprocess.Popen([sys.executable, str(script)], cwd=ROOT, env=env, stdout=out,
                                       stderr=subprocess.STDOUT)
    url = f"http://{host}:{port}/"
    try:
        wait_until_up(url, process, timeout_s)
    except (RuntimeError, TimeoutError) as e:
        process.kill()
        process.wait()
        output = f"; its output:\n{log.read_text()[-3000:]}" if log is not None else ""
        raise RuntimeError(f"{e}{output}") from None
    return process, url
