"""A class drawing at once: simulated students against `python app.py` on localhost.

    python benchmarks/load.py --data ../shared/data/mnist                 # the full measurement
    python benchmarks/load.py --users 5 --duration 5 --phases idle        # a quick check

Each student is a thread with its own `gradio_client.Client` (its own session, as each browser has)
that sends its 560x560 canvas to `/predict_drawing` about once a second, as live drawing does
(uniform jitter of +-30%), waits for the answer (the Draw tab sends one request at a time) and
records the end-to-end latency: the canvas's upload, Gradio's queue and the prediction.

Phases: `idle` (--users students, no training), `training` (the same during a run started through
`/admin_start` on the MNIST in --data, stopped afterwards), the two classroom goals, `arrival` (30 students, new
sessions, whose first strokes come within 2 s: the slowest first answer within 1 s) and `class` (40 students
drawing for --duration after their first 5 s, which are reported apart: p99 within 300 ms, no error), and
`saturation` (more and more students until p99 passes 1 s). Each phase reports the server's CPU an answer (its
process's CPU over the answers). The students run in this process and the server in its own, both on this
machine: the CPU each used is printed, since the clients' share is taken from the server. Writes
benchmarks/results/load.json; its last line printed is the same JSON.
"""

import argparse
import json
import os
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from gradio_client import Client

from mnist_app.testing.app_process import start_app
from mnist_app.testing.results import save_result
from mnist_app.testing.students import LoadResult, connect, mnist_canvases, run_students, wait_until_children_idle

ROOT = Path(__file__).resolve().parent.parent

PASSWORD = "load-benchmark-password"
SATURATION_P99_S = 1.0
ARRIVAL = (30, 2.0, 1.0)  # students, the seconds within which their first strokes arrive, the goal for the slowest
CLASS = (40, 0.3)  # students drawing at once, the goal for the p99 in seconds


def start_training(url: str, architecture: str, epochs: int) -> None:
    Client(url, verbose=False).predict(PASSWORD, architecture, epochs, 128, 0.1, api_name="/admin_start")


def training_state(url: str) -> dict:
    return Client(url, verbose=False).predict(PASSWORD, api_name="/admin_status")


def wait_for_training_steps(url: str, timeout_s: float = 120) -> dict:
    """Wait until the run is past loading MNIST and is taking steps: the load the students should meet."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = training_state(url)
        if status["state"] != "running" or status["events"]:
            return status
        time.sleep(1)
    raise TimeoutError("the training took no step within 120 s")


def wait_for_end(url: str, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while training_state(url)["state"] == "running" and time.monotonic() < deadline:
        time.sleep(1)


def report(name: str, result: LoadResult) -> None:
    print(
        f"{name:>22}: {result.users:3d} students, {result.requests:5d} requests in {result.duration_s:5.1f} s, "
        f"{result.throughput_per_s:5.1f}/s, p50 {result.p50_ms} ms, p99 {result.p99_ms} ms, max {result.max_ms} ms, "
        f"{result.errors} errors; CPU s: server {result.server_cpu_s} "
        f"({result.server_cpu_ms_per_answer} ms an answer), students {result.client_cpu_s}",
        flush=True,
    )
    for error in result.first_errors:
        print(f"{'':>24}error: {error}", flush=True)


def saturation(url: str, canvases: list[Path], steps: list[int], step_s: float, interval_s: float,
               pid: int | None) -> dict:
    """More students each step; the saturation point is the first step whose p99 passes 1 s."""
    results = []
    for users in steps:
        result = run_students(connect(url, users), canvases, step_s, interval_s, pid)
        report(f"saturation {users}", result)
        results.append(result)
        if result.p99_ms is None or result.p99_ms > 1000 * SATURATION_P99_S:
            break
    over = [r for r in results if r.p99_ms is None or r.p99_ms > 1000 * SATURATION_P99_S]
    within = [r for r in results if r not in over]
    return {
        "steps": [asdict(r) for r in results],
        "p99_passes_1s_at_students": over[0].users if over else None,
        "p99_passes_1s_at_offered_per_s": round(over[0].users / interval_s, 1) if over else None,
        "p99_passes_1s_at_requests_per_s": over[0].throughput_per_s if over else None,
        "best_rate_within_1s_p99": max((r.throughput_per_s for r in within), default=None),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60, help="seconds each of the idle and training phases")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between one student's requests")
    parser.add_argument("--phases", default="idle,training,arrival,class,saturation")
    parser.add_argument("--data", type=Path, default=None, help="MNIST folder for the training phase")
    parser.add_argument("--architecture", default="default", help="what the training phase trains")
    parser.add_argument("--saturation-steps", default="10,15,20,25,30,35,40,50,60,80,100")
    parser.add_argument("--step-duration", type=float, default=20)
    parser.add_argument("--url", default=None, help="measure an app already running there (not the training phase)")
    parser.add_argument("--app", type=Path, default=ROOT / "app.py", help="the script that starts the app")
    args = parser.parse_args()
    phases = args.phases.split(",")

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        canvases = mnist_canvases(folder, 40)
        process, url = None, args.url
        if url is None:
            process, url = start_app(folder / "home", PASSWORD, args.data, folder / "server.log", args.app, 120)
        pid = process.pid if process else None
        if pid is not None:
            wait_until_children_idle(pid)
        out: dict = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cores": os.cpu_count(),
                     "load_average_at_start": round(os.getloadavg()[0], 2)}
        print(f"{out['date']}, {out['cores']} cores, load average {out['load_average_at_start']} at start", flush=True)
        try:
            clients = connect(url, args.users)
            run_students(clients, canvases, 3, args.interval)  # warm-up: first calls load lazily
            if "idle" in phases:
                out["idle"] = asdict(result := run_students(clients, canvases, args.duration, args.interval, pid))
                report("without training", result)
            if "training" in phases:
                start_training(url, args.architecture, epochs=100)
                status = wait_for_training_steps(url)
                try:
                    result = run_students(clients, canvases, args.duration, args.interval, pid)
                    status = training_state(url)
                finally:
                    Client(url, verbose=False).predict(PASSWORD, api_name="/admin_stop")
                    wait_for_end(url)  # the next phase should not meet the stopped run's testing and saving
                out["training"] = {**asdict(result), "training_state": status["state"],
                                   "training_message": status["message"]}
                report("while training", result)
                print(f"{'':>24}training: {status['state']}: {status['message']}", flush=True)
            if "arrival" in phases:
                users, within_s, goal_s = ARRIVAL
                result = run_students(connect(url, users), canvases, within_s + 3, args.interval, pid, within_s)
                out["arrival"] = {**asdict(result), "goal_first_answer_max_ms": 1000 * goal_s,
                                  "met": result.errors == 0 and (result.first_answer_max_ms or 1e9) <= 1000 * goal_s}
                report(f"{users} arriving in {within_s:g} s", result)
                print(f"{'':>24}slowest first answer {result.first_answer_max_ms} ms (goal {1000 * goal_s:g})")
            if "class" in phases:
                users, goal_s = CLASS
                clients = connect(url, users)
                # Their first 5 s, reported apart: a session's first request costs the server more (Gradio copies
                # the page's state for it), which is the arrival phase's question, not the drawing's.
                settling = run_students(clients, canvases, 5, args.interval, pid)
                report(f"{users} settling in", settling)
                result = run_students(clients, canvases, args.duration, args.interval, pid)
                out["class"] = {**asdict(result), "goal_p99_ms": 1000 * goal_s,
                                "met": result.errors == 0 and (result.p99_ms or 1e9) <= 1000 * goal_s,
                                "first_5_s": asdict(settling)}
                report(f"a class of {users}", result)
            if "saturation" in phases:
                steps = [int(s) for s in args.saturation_steps.split(",")]
                out["saturation"] = saturation(url, canvases, steps, args.step_duration, args.interval, pid)
                found = out["saturation"]
                print(f"{'':>24}p99 passes 1 s at {found['p99_passes_1s_at_students']} students "
                      f"({found['p99_passes_1s_at_offered_per_s']} requests/s offered, "
                      f"{found['p99_passes_1s_at_requests_per_s']}/s answered); best rate within: "
                      f"{found['best_rate_within_1s_p99']}/s", flush=True)
            out["load_average_at_end"] = round(os.getloadavg()[0], 2)
        finally:
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
    save_result("load", out)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
