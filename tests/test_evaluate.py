import json
import re
import shutil
import subprocess
import sys

import numpy as np

from mnist_app.reading.predict import Predictor
from mnist_app.storage.weights import PACKAGE_WEIGHTS, metadata_path
from mnist_app.testing.mnist_files import write_mnist
from mnist_app.training.data import load_mnist
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
    # How many readings the app itself would mark "not sure": the Predictor's own rule on the same test digits
    flagged = re.search(r"flagged not sure \(the app's rule\): (\d+\.\d\d)% of the readings; (\d+\.\d\d)% of "
                        r"those read right, (\d+) of the (\d+) misread", done.stdout)
    assert flagged, done.stdout
    test = load_mnist(data)
    readings = Predictor().classify(test.test_images.numpy() / 255.0)
    doubted = np.array([not r.confident for r in readings])
    right = np.array([r.digit for r in readings]) == test.test_labels.numpy()
    assert float(flagged.group(1)) == round(100 * doubted.mean(), 2) and doubted.any()
    assert float(flagged.group(2)) == round(100 * doubted[right].mean(), 2)
    assert (int(flagged.group(3)), int(flagged.group(4))) == (doubted[~right].sum(), (~right).sum())


def test_cli_help_explains_every_option_and_its_default():
    text = " ".join(parser().format_help().split())  # argparse wraps lines to the terminal
    assert text.count("(default: ") == 6 and "--weights PATH safetensors file to evaluate" in text
    assert "--reliability PNG also save the reliability diagram" in text


def test_cli_fits_and_stores_a_temperature_and_reports_the_calibration_error(tmp_path):
    """Older weights get their temperature from the validation split; ECE and the reliability diagram follow."""
    data = write_mnist(tmp_path / "data", n_train=600, n_test=500)
    weights = tmp_path / "old.safetensors"
    shutil.copy(PACKAGE_WEIGHTS, weights)
    meta = json.loads(metadata_path(PACKAGE_WEIGHTS).read_text())
    del meta["temperature"]
    metadata_path(weights).write_text(json.dumps(meta))
    reliability = tmp_path / "reliability.png"

    def evaluate(*flags: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "mnist_app.training.evaluate", "--weights", str(weights), "--data", str(data),
             *flags], capture_output=True, text=True, timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def ece(output: str) -> float:
        found = re.search(r"expected calibration error \(15 bins\): (\d+\.\d\d)%", output)
        assert found, output
        return float(found.group(1))

    before = ece(evaluate())
    after_output = evaluate("--fit-temperature", "--val-size", "300", "--reliability", str(reliability))
    stored = json.loads(metadata_path(weights).read_text())
    assert 0.05 <= stored["temperature"] < 1  # label smoothing made the net unsure: the temperature sharpens
    assert {k: v for k, v in stored.items() if k != "temperature"} == meta  # nothing else changed
    assert f"temperature {stored['temperature']:.4f}" in after_output
    assert ece(after_output) < before / 3  # the shipped net's label smoothing costs ~9 points of ECE
    assert reliability.read_bytes()[:4] == b"\x89PNG" and reliability.stat().st_size > 5000
    assert ece(evaluate()) == ece(after_output)  # later runs use the stored temperature
