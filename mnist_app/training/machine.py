"""What the CPU is and what it can do: the recipes choose bf16 by it, weights and benchmarks record it."""

import functools
import statistics
import time
from pathlib import Path

import torch

from mnist_app.training.models import build_model

SPEED_PROBE_BATCH = 128  # the recipes' batch
SPEED_PROBE_ROUNDS = 8  # float32 and bf16 passes timed in turn, so that a busy moment slows both alike
# bf16 is asked for only where a pass takes at most this share of float32's time. A training step took 0.39 and 0.53
# of it on the two CPUs where bf16 pays; where the two are close, the share timed swings from one process to the
# next (0.95-1.21 on one Xeon: docs/training.md), and float32 keeps its precision.
BF16_MOST_TIME = 0.8


def cpu_model() -> str | None:
    """The "model name" line of /proc/cpuinfo (Linux); None where there is none."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return None
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), None)


def cpu_has_bf16() -> bool:
    """Whether this CPU multiplies bf16 in hardware (AMX tiles or AVX-512 BF16); elsewhere torch emulates bf16 and a
    step takes 13x longer than in float32 (an AMD EPYC with AVX2 only: docs/training.md)."""
    return torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported()


def step_seconds(net: torch.nn.Module, x: torch.Tensor, bf16: bool) -> float:
    """Seconds of one forward and backward pass of `net` on `x`, in float32 or under bf16 autocast."""
    start = time.perf_counter()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        loss = net(x).float().sum()
    loss.backward()
    return time.perf_counter() - start


@functools.cache
def bf16_trains_faster(model: str, threads: int) -> bool:
    """Whether bf16 autocast trains the net `model` clearly faster than float32 here (BF16_MOST_TIME), on `threads`
    CPU threads; timed once a process (about 3 s for `full_res` on 2 threads). bf16 in hardware does not settle it:
    it trained the shipped net 2.5x faster on an Intel Xeon with AMX and 1.9x faster on an AMD EPYC with AVX-512
    BF16, but 1.2x slower on an Intel Xeon with AVX-512 BF16 and no AMX (docs/training.md). Emulated bf16 is not
    timed: it is always far slower."""
    if not cpu_has_bf16():
        return False
    torch_threads = torch.get_num_threads()
    torch.set_num_threads(threads or torch_threads)
    try:
        net = build_model(model).to(memory_format=torch.channels_last)
        x = torch.rand(SPEED_PROBE_BATCH, 1, 28, 28).contiguous(memory_format=torch.channels_last)
        # the first round warms up: oneDNN builds its kernels
        rounds = [[step_seconds(net, x, bf16) for bf16 in (False, True)] for _ in range(1 + SPEED_PROBE_ROUNDS)]
    finally:
        torch.set_num_threads(torch_threads)
    return statistics.median(in_bf16 / in_float32 for in_float32, in_bf16 in rounds[1:]) <= BF16_MOST_TIME
