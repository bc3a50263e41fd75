"""Where the server's CPU goes for one prediction: `python app.py` run under a profiler, fed predictions one at a
time, its CPU grouped by what the code does.

    python benchmarks/server_profile.py --requests 300

    python benchmarks/server_profile.py --requests 1200 --students 40    # as a class of 40 draws

Three servers, one after the other: the app unprofiled, for the CPU its process spends a request (from /proc, as
benchmarks/load.py counts it); the app under yappi's CPU clock (every thread, coroutines counted only while they
run), for where it goes; and Gradio's floor, a bare Gradio app with the same Sketchpad in and a Label out whose
function does nothing, for what Gradio itself costs a request. A profiler slows what it measures, Python code
more than C, so the breakdown is given as shares, and as milliseconds scaled to the unprofiled total. The requests
are what `gradio_client` sends for /predict_drawing, as benchmarks/load.py's students do: an upload of the 560x560
canvas, a join of the queue, the answer streamed. Writes benchmarks/results/server_profile.json; its last line
printed is the same JSON.
"""

import argparse
import json
import os
import signal
import tempfile
from collections import defaultdict
from pathlib import Path

import gradio as gr
import yappi

from mnist_app.testing.app_process import ROOT, start_app
from mnist_app.testing.results import save_result
from mnist_app.testing.students import connect, cpu_seconds, is_answer, mnist_canvases, run_students, sketch
from mnist_app.web.server import main as serve
from mnist_app.web.widgets import drawing_canvas

PASSWORD = "server-profile-password"

PROFILE_TO = "MNIST_APP_PROFILE_TO"  # set: this script is the app, profiled, and writes its figures there
FLOOR = "MNIST_APP_GRADIO_FLOOR"  # set: this script is the bare Gradio app
APP = ROOT / "app.py"

# Where a function's file lies -> what that code does for a request (first match wins).
KINDS = [
    ("mnist_app/", "the app: decoding the canvas, the pipeline, the model, the answer"),
    ("/torch/", "the app: decoding the canvas, the pipeline, the model, the answer"),
    ("/PIL/", "images: PNG decoding and encoding"),
    ("/numpy/", "images: PNG decoding and encoding"),
    ("gradio/components/", "gradio: the components' pre- and postprocessing"),
    ("gradio/processing_utils", "gradio: files (cache, hashing, moves)"),
    ("hashlib", "gradio: files (cache, hashing, moves)"),
    ("shutil", "gradio: files (cache, hashing, moves)"),
    ("tempfile", "gradio: files (cache, hashing, moves)"),
    ("multipart", "HTTP: the upload's multipart form"),
    ("gradio/route_utils", "HTTP: the upload's multipart form"),
    ("gradio/queueing", "gradio: the queue and the event stream"),
    ("gradio/routes", "gradio: routes (upload, join, stream)"),
    ("gradio/", "gradio: blocks, data classes, helpers"),
    ("pydantic", "serialising: pydantic, json"),
    ("json", "serialising: pydantic, json"),
    ("starlette", "HTTP: uvicorn, starlette, fastapi"),
    ("fastapi", "HTTP: uvicorn, starlette, fastapi"),
    ("uvicorn", "HTTP: uvicorn, starlette, fastapi"),
    ("h11", "HTTP: uvicorn, starlette, fastapi"),
    ("httptools", "HTTP: uvicorn, starlette, fastapi"),
    ("anyio", "event loop and threads: asyncio, anyio, threading"),
    ("asyncio", "event loop and threads: asyncio, anyio, threading"),
    ("threading", "event loop and threads: asyncio, anyio, threading"),
    ("selectors", "event loop and threads: asyncio, anyio, threading"),
    ("concurrent", "event loop and threads: asyncio, anyio, threading"),
]
OTHER = "other (standard library, logging, ...)"


def kind_of(path: str) -> str:
    return next((kind for part, kind in KINDS if part in path), OTHER)


def serve_profiled(out: Path) -> None:
    """Run the app under yappi; SIGUSR1 starts the count afresh (after the warm-up), SIGTERM writes each function's
    own CPU time (not its callees') and its total (with them) to `out`."""
    def stop(*_: object) -> None:
        yappi.stop()
        own: dict[str, float] = defaultdict(float)
        total: dict[str, float] = {}
        for stat in yappi.get_func_stats():
            function = f"{stat.module}:{stat.name}"
            own[function] += stat.tsub
            total[function] = max(total.get(function, 0.0), stat.ttot)
        out.write_text(json.dumps({"own_s": own, "total_s": total}))
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGUSR1, lambda *_: yappi.clear_stats())
    yappi.set_clock_type("cpu")
    yappi.start()
    serve()


def serve_floor() -> None:
    """Gradio alone: the app's canvas in, ten even bars out, the same queue settings (web/app.py)."""
    with gr.Blocks() as floor:
        canvas = drawing_canvas("canvas", 480)
        bars = gr.Label()
        gr.on([], lambda _: {str(d): 0.1 for d in range(10)}, canvas, bars, api_name="predict_drawing")
    floor.queue(default_concurrency_limit=2)
    floor.launch()


def drive(url: str, canvas: Path, requests: int, students: int, process_pid: int, profiled: bool) -> tuple[int, float]:
    """`requests` predictions one after another or, with `students`, that many drawing for `requests / students`
    seconds (one a second each); the answers and the server's CPU seconds meanwhile. Each session has sent a few
    first: a new session costs the server more (its page's state is copied), once."""
    clients = connect(url, max(1, students))
    run_students(clients, [canvas], 3)
    if profiled:
        os.kill(process_pid, signal.SIGUSR1)  # the profile counts from here (SIGUSR1 would end a plain app)
    before = cpu_seconds(process_pid)
    if students:
        result = run_students(clients, [canvas], requests / students)
        if result.errors:
            raise RuntimeError(f"{result.errors} errors: {result.first_errors}")
        return result.requests, cpu_seconds(process_pid) - before
    for _ in range(requests):
        if not is_answer(clients[0].predict(sketch(canvas), api_name="/predict_drawing")):
            raise RuntimeError("no answer")
    return requests, cpu_seconds(process_pid) - before


def breakdown(stats: dict, per_request_ms: float) -> dict:
    """The profile's CPU by kind of code, as shares and as ms of the unprofiled request."""
    by_kind: dict[str, float] = defaultdict(float)
    for function, seconds in stats["own_s"].items():
        by_kind[kind_of(function)] += seconds
    whole = sum(by_kind.values())
    return {
        kind: {"share": round(s / whole, 3), "ms_per_request": round(per_request_ms * s / whole, 2)}
        for kind, s in sorted(by_kind.items(), key=lambda item: -item[1])
    }


def main() -> None:
    if os.environ.get(PROFILE_TO):
        serve_profiled(Path(os.environ[PROFILE_TO]))
        return
    if os.environ.get(FLOOR):
        serve_floor()
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--students", type=int, default=0, help="this many at once (0: one request at a time)")
    parser.add_argument("--top", type=int, default=25, help="functions listed by their own CPU time")
    args = parser.parse_args()

    def measure(name: str, env: dict[str, str], profiled: bool = False) -> tuple[int, float]:
        """The answers and the server's CPU ms an answer, on a server started with `env`."""
        os.environ.update(env)
        try:
            process, url = start_app(folder / name, PASSWORD, log=folder / f"{name}.log",
                                     script=this_script if env else APP, timeout_s=180)
        finally:
            for key in env:
                del os.environ[key]
        try:
            answers, cpu_s = drive(url, canvas, args.requests, args.students, process.pid, profiled)
        finally:
            process.terminate()
            process.wait(timeout=60)
        print(f"{name}: {1000 * cpu_s / answers:.2f} ms of server CPU a request", flush=True)
        return answers, 1000 * cpu_s / answers

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        canvas = mnist_canvases(folder, 1)[0]
        this_script = Path(__file__).resolve()
        answers, plain_ms = measure("app", {})
        _, floor_ms = measure("gradio_floor", {FLOOR: "1"})
        profiled_answers, profiled_ms = measure("app_profiled", {PROFILE_TO: str(folder / "profile.json")}, True)
        stats = json.loads((folder / "profile.json").read_text())

    n = profiled_answers
    top = sorted(stats["own_s"].items(), key=lambda item: -item[1])[: args.top]
    result = {
        "requests": answers,
        "students_at_once": args.students or 1,
        "server_cpu_ms_per_request": round(plain_ms, 2),
        "gradio_floor_cpu_ms_per_request": round(floor_ms, 2),
        "profiled_server_cpu_ms_per_request": round(profiled_ms, 2),
        "breakdown": breakdown(stats, plain_ms),
        "top_functions_own_ms_per_request_profiled": {f: round(1000 * s / n, 3) for f, s in top},
        "entry_points_total_ms_per_request_profiled": {
            f: round(1000 * s / n, 3) for f, s in sorted(stats["total_s"].items(), key=lambda item: -item[1])[:40]
        },
    }
    for kind, figures in result["breakdown"].items():
        print(f"{figures['ms_per_request']:6.2f} ms  {100 * figures['share']:5.1f}%  {kind}")
    print(f"server CPU a request: {plain_ms:.2f} ms, {profiled_ms:.2f} ms profiled; Gradio's floor {floor_ms:.2f} ms")
    save_result("server_profile", result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
