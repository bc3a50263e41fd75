"""mnist-app: read handwritten digits from drawings and photos with a small CNN.

The path of a pixel: reading/decode -> reading/segment -> reading/mnist_style -> reading/predict. Training lives
in training/, saved weights, model versions and corrections in storage/, the Gradio app in web/ (which only calls
into the others) and helpers for tests and benchmarks in testing/.
"""

from mnist_app.reading.decode import InvalidImageError, NoDigitError
from mnist_app.reading.predict import NumberReading, Prediction, Predictor

__all__ = ["InvalidImageError", "NoDigitError", "NumberReading", "Prediction", "Predictor"]
