"""Benchmark results as JSON files under benchmarks/results/, with when, where and how they were measured."""

import json
import os
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

from mnist_app.storage.atomic import atomic_write_bytes
from mnist_app.training.machine import cpu_model

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"


def command() -> str:
    """The command line as run, the script's path relative to the repository where it lies inside it."""
    script = Path(sys.argv[0]).resolve()
    if script.is_relative_to(ROOT):
        script = script.relative_to(ROOT)
    return "python " + " ".join([str(script), *sys.argv[1:]])


def save_result(name: str, result: dict) -> Path:
    """Add "measured", "machine" and "command" to result and write it to benchmarks/results/<name>.json."""
    result["measured"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    result["machine"] = {
        "architecture": platform.machine(),
        "cores": len(os.sched_getaffinity(0)),
        "cpu": cpu_model(),
    }
    result["command"] = command()
    path = RESULTS / f"{name}.json"
    atomic_write_bytes(path, (json.dumps(result, indent=2) + "\n").encode())
    return path
