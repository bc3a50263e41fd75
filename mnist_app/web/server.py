"""Start the web app: `python app.py` or `mnist-app`.

Gradio's own GRADIO_SERVER_NAME and GRADIO_SERVER_PORT choose where it listens; MNIST_ADMIN_PASSWORD
sets the admin password (one is generated and printed when unset), MNIST_APP_HOME where retrained
models (and the students' corrections, unless MNIST_APP_DB names another file) are kept and
MNIST_DATA_DIR where the admin tab finds MNIST for training.
"""

import gc
import logging
import os

import torch

from mnist_app.reading.predict import Predictor
from mnist_app.storage.corrections import CorrectionStore
from mnist_app.storage.lessons import LessonStore
from mnist_app.storage.versions import ModelVersions
from mnist_app.web.app import CSS, HEAD, build_app
from mnist_app.web.auth import AdminAuth
from mnist_app.web.context import AppContext
from mnist_app.web.jobs import TrainingJob

MAX_UPLOAD = "20mb"
# Gradio's queue rebuilds a pandas table of its last 10,000 events after every event, for its /monitoring page,
# which this app does not use: 4 ms of a prediction's 24 ms of server CPU after 200 events, and growing with each
# event (docs/results.md, "Server CPU per prediction"). Once every 10,000 events, it is next to nothing.
ANALYTICS_EVERY = "10000"


def main() -> None:
    # One thread a request: two requests run side by side on two cores, and a lone forward pass of a
    # 28x28 image gains nothing from a second thread (measured: 1.5 ms on one, 20 ms on two when busy).
    torch.set_num_threads(1)
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", ANALYTICS_EVERY)
    log = logging.getLogger("mnist_app")  # refusals and faults (web/refusals.py): one line each, to stderr
    log.setLevel(logging.INFO)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    versions = ModelVersions()
    predictor = Predictor(versions.served_path())
    if versions.warning:
        print(versions.warning)
    auth = AdminAuth()
    announcement = auth.announce()
    if announcement:
        print(announcement, flush=True)
    corrections = CorrectionStore()
    context = AppContext(
        predictor, auth, versions, TrainingJob(versions, warm=True),  # warm: a lesson starts at once
        corrections=corrections, lessons=LessonStore(corrections),
    )
    demo = build_app(context)
    demo.launch(max_file_size=MAX_UPLOAD, css=CSS, head=HEAD, show_error=True, prevent_thread_lock=True)
    # The collector's full passes walked every object that torch, Gradio and the app had made at start, 250-400 ms
    # each with the server stopped, several a minute while a class drew: the p99's worst answers. Frozen, those
    # objects are never walked again (docs/results.md, "Server CPU per prediction").
    gc.freeze()
    demo.block_thread()
