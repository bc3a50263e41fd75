import re
import subprocess
import sys

import numpy as np

from mnist_app.testing.mnist_files import write_mnist
from mnist_app.training.evaluate import confusion_matrix, parser


def test_confusion_matrix_rows_are_true_digits():
    m = confusion_matrix(np.array([1, 1, 2, 3]), np.array([1, 2, 2, 3]))
    assert m[1, 1] == 1 and m[2, 1] == 1 and m[2, 2] == 1 and m[3, 3] == 1 and m.sum() == 4


def test_cli_prints_accuracy_parameters_and_confusion(tmp_path):
    data = write_mnist(tmp_path / "data", n_train=100, n_test=1000)
    plot = tmp_path / "confusion.png"
    done = subprocess.run(
        [sys.executable, "-m", "mnist_app.training.evaluate", "--data", str(data), "--plot", str(plot)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    accuracy = re.fullmatch(r"test accuracy: (\d+\.\d\d)%", lines[0])
    assert accuracy and float(accuracy.group(1)) >= 97.0  # the shipped model on real MNIST digits
    parameters = re.fullmatch(r"parameters: (\d+)", lines[1])
    assert parameters and 0 < int(parameters.group(1)) <= 200_000
    assert lines[2].startswith("per-digit accuracy: 0: ")
    rows = [[int(v) for v in line.split()[1:]] for line in lines[5:15]]
    assert len(rows) == 10 and all(len(r) == 10 for r in rows) and sum(map(sum, rows)) == 1000
    assert plot.stat().st_size > 5000 and plot.read_bytes()[:4] == b"\x89PNG"


def test_cli_help_explains_every_option_and_its_default():
    text = " ".join(parser().format_help().split())  # argparse wraps lines to the terminal
    assert text.count("(default: ") == 3 and "--weights PATH safetensors file to evaluate" in text
