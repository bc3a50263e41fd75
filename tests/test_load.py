"""The load benchmark in short: a few students drawing at once against the running app, no errors."""

from pathlib import Path

from mnist_app.testing import students


def test_five_students_drawing_for_five_seconds_all_get_answers(app_server, tmp_path: Path):
    canvases = students.mnist_canvases(tmp_path, 5)
    result = students.run_students(students.connect(app_server.url, 5), canvases, duration_s=5)
    assert result.errors == 0, result.first_errors
    # About 5 each at one a second; at least 2 each even on a machine busy enough to triple the latency.
    assert result.requests >= 5 * 2
