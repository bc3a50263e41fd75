"""What every handler of the web app is given: the served model, the admin password, the model store, the
training job, the students' corrections and the lessons. Handlers are plain functions of an AppContext and the
components' values, so tests call them without a browser."""

import threading
from dataclasses import dataclass, field

from mnist_app.reading.predict import Predictor
from mnist_app.storage.corrections import CorrectionStore
from mnist_app.storage.lessons import LessonStore
from mnist_app.storage.versions import ModelVersions
from mnist_app.web.auth import AdminAuth
from mnist_app.web.jobs import TrainingJob
from mnist_app.web.refusals import refused


@dataclass
class AppContext:
    predictor: Predictor  # replaced (never mutated) on deploy, so requests in flight keep a whole model
    auth: AdminAuth
    versions: ModelVersions
    job: TrainingJob
    serving: threading.Lock = field(default_factory=threading.Lock)  # held while the served model changes
    corrections: CorrectionStore | None = None  # None: this server keeps no corrections
    lessons: LessonStore | None = None  # None: this server runs no lessons (in the corrections' database)


def require_admin(ctx: AppContext, password: object) -> None:
    """Every admin handler checks the password itself: hiding the tab protects nothing from a raw API caller."""
    if not ctx.auth.check(password):
        raise refused("Wrong admin password")
