"""The load benchmark in short: a few students drawing at once against the running app, no errors."""

import importlib.util
from pathlib import Path

from mnist_app.testing.app_process import ROOT


def load_benchmark():
    spec = importlib.util.spec_from_file_location("load_benchmark", ROOT / "benchmarks" / "load.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_five_students_drawing_for_five_seconds_all_get_answers(app_server, tmp_path: Path):
    load = load_benchmark()
    canvases = load.mnist_canvases(tmp_path, 5)
    result = load.run_students(load.connect(app_server.url, 5), canvases, duration_s=5)
    assert result.errors == 0, result.first_errors
    # About 5 each at one a second; at least 2 each even on a machine busy enough to triple the latency.
    assert result.requests >= 5 * 2
