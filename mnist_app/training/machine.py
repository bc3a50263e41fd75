"""What the CPU is and what it can do: the recipes choose bf16 by it, weights and benchmarks record it."""

from pathlib import Path

import torch


def cpu_model() -> str | None:
    """The "model name" line of /proc/cpuinfo (Linux); None where there is none."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return None
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), None)


def cpu_has_bf16() -> bool:
    """Whether this CPU multiplies bf16 in hardware (AMX tiles or AVX-512 BF16). There bf16 autocast trains the
    recipe's net 2.5x faster than float32 (an Intel Xeon); elsewhere torch emulates bf16 and a step takes 13x longer
    than in float32 (an AMD EPYC with AVX2 only). docs/training.md has both measurements."""
    return torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported()
