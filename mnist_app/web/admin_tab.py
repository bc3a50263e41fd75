"""The Admin tab: retrain, watch the curves, compare, deploy and roll back.

Hiding the tab protects nothing (a raw API caller reaches every handler), so each handler checks
the password itself before doing anything.
"""

import html
import math
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any, NamedTuple

import gradio as gr
import numpy as np
import pandas as pd

from mnist_app.reading.predict import Predictor
from mnist_app.storage.versions import VersionInfo
from mnist_app.storage.weights import read_metadata
from mnist_app.training.calibration import expected_calibration_error, reliability_figure
from mnist_app.training.data import MnistDataError
from mnist_app.training.engine import TrainConfig
from mnist_app.training.evaluate import confusion_figure
from mnist_app.training.fine_tune import deploy_refusal
from mnist_app.training.lesson import LESSON
from mnist_app.training.models import MODELS, build_model, parameter_count
from mnist_app.web.admin_corrections import corrections_section
from mnist_app.web.admin_lessons import lessons_section
from mnist_app.web.context import AppContext, require_admin
from mnist_app.web.jobs import JobStatus, RunResult, local_data_dir
from mnist_app.web.refusals import refused
from mnist_app.web.wall_view import png_data_uri, seen_png
from mnist_app.web.widgets import pixelated

REFRESH_S = 0.5  # the curves refresh this often while the tab is unlocked
WATCHED_TEST = "test (1,000 digits)"  # a lesson's second curve (training/lesson.py)
CURVE_COLOURS = {"train": "#1f77b4", "validation": "#ff7f0e", WATCHED_TEST: "#2ca02c"}
MNIST_TRAINING_IMAGES = 55_000  # MNIST's 60,000 less the 5,000 held out for validation
VALIDATIONS_IN_ONE_EPOCH = 4
VERSION_COLUMNS = ["version", "architecture", "parameters", "val accuracy %", "test accuracy %", "created", "served"]


def data_note(ctx: AppContext) -> str:
    """Where training data will come from, or how to provide it."""
    try:
        folder = local_data_dir(ctx.job.data_dir)
    except MnistDataError as e:
        return f"**No MNIST data.** {e}"
    if folder is None:
        return (
            "**No MNIST data on this machine.** Start will try to download it (about 12 MB). Offline, put the four "
            "IDX files (train-images-idx3-ubyte.gz, ...) in a folder and start the app with MNIST_DATA_DIR set to it."
        )
    return f"Training data: `{folder}`"


def percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 2)


def versions_table(ctx: AppContext) -> pd.DataFrame:
    rows = [
        [v.id, v.architecture, v.parameters, percent(v.val_accuracy), percent(v.test_accuracy), v.created[:19],
         "served" if v.served else ""]
        for v in ctx.versions.list()
    ]
    return pd.DataFrame(rows, columns=VERSION_COLUMNS)


def version_ids(ctx: AppContext) -> list[str]:
    return [v.id for v in ctx.versions.list()]


def version_choices(ctx: AppContext, selected: str | None = None) -> dict:
    ids = version_ids(ctx)
    return gr.update(choices=ids, value=selected if selected in ids else (ids[0] if ids else None))


def served_note(ctx: AppContext) -> str:
    meta = ctx.predictor.meta
    accuracy = meta.get("test_accuracy")
    served = ctx.versions.served()
    shown = f"**{100 * accuracy:.2f}%** test accuracy" if isinstance(accuracy, float) else "test accuracy unknown"
    note = f"Served model: {served.id if served else 'shipped'} ({meta.get('architecture')}), {shown}."
    return note + (f" Warning: {ctx.versions.warning}" if ctx.versions.warning else "")


def curves(events: list[dict[str, Any]], watch_test: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Loss and accuracy against images seen, train and validation (a lesson's test subset), for the line plots."""
    held_out = WATCHED_TEST if watch_test else "validation"
    # Gradio's LinePlot keeps the series it drew first, and validation only comes after an epoch:
    # a missing point at 0 for each curve makes both exist from the start.
    start = [(0, math.nan, "train"), (0, math.nan, held_out)]
    loss, accuracy, last_step = list(start), list(start), -1
    for ev in events:
        seen = ev.get("images_seen", 0)
        # An event right after another saw no steps, and a lesson's check before its first step none at all.
        if ev["kind"] in ("step", "eval") and ev["step"] > max(last_step, 0):
            loss.append((seen, ev["loss"], "train"))
            accuracy.append((seen, 100 * ev["train_acc"], "train"))
            last_step = ev["step"]
        if ev["kind"] == "eval":
            loss.append((seen, ev["val_loss"], held_out))
            accuracy.append((seen, 100 * ev["val_acc"], held_out))
    columns = ["images seen", "value", "curve"]
    return pd.DataFrame(loss, columns=columns), pd.DataFrame(accuracy, columns=columns)


def readings_html(status: JobStatus) -> str:
    """A lesson's ten test digits, 0 to 9, each with the network's reading at the last check: green when right."""
    if not status.watch_test or status.watched is None:
        return ""
    images, labels = status.watched
    checks = [e for e in status.events if e.get("val_readings")]
    readings = checks[-1]["val_readings"] if checks else [None] * len(labels)
    seen = f" after {checks[-1]['images_seen']:,} images" if checks else ""
    figures = []
    for image, label, reading in zip(images, labels, readings, strict=True):
        colour = "#888" if reading is None else ("#2e9d4c" if reading == label else "#d9534f")
        figures.append(
            f'<figure class="watched" data-label="{label}" style="margin:0;text-align:center">'
            f'<img src="{png_data_uri(seen_png(image))}" alt="test digit {label}" '
            'style="width:56px;height:56px;image-rendering:pixelated">'
            f'<figcaption style="font-size:1.8rem;font-weight:700;color:{colour}">'
            f'{"?" if reading is None else reading}</figcaption></figure>'
        )
    return (
        f"<div id='admin-readings-now'><b>Ten test digits, as the network reads them{seen}</b>"
        f"<div style='display:flex;gap:12px;flex-wrap:wrap'>{''.join(figures)}</div></div>"
    )


def progress_html(status: JobStatus) -> str:
    fraction = 0.0
    if status.events:
        last = status.events[-1]
        fraction = last["step"] / max(1, last["total_steps"])
    running = status.state == "running"
    bar = f'<progress value="{fraction:.3f}" max="1" style="width:100%"></progress>' if running else ""
    return f"<div id='admin-progress'><b>{html.escape(status.state)}</b>: {html.escape(status.message)}{bar}</div>"


def result_views(ctx: AppContext, result: RunResult) -> dict[str, Any]:
    """Confusion matrix, reliability diagram, the test digits it got wrong, and its accuracy beside the served
    model's: AdminRefresh's fields for a finished run."""
    mistakes = [(pixelated(image / 255.0, 3), f"{true} → {predicted}")
                for image, true, predicted in result.mistakes]
    ece = expected_calibration_error(result.calibration)
    compare = result.fine_tune_summary() or (
        f"New model {result.version.id} ({result.version.architecture}): "
        f"**{100 * result.test_accuracy:.2f}%** test accuracy. {served_note(ctx)}"
    )
    compare += f" Its probabilities are off by {100 * ece:.2f}% on average (expected calibration error)."
    return {
        "confusion": confusion_figure(np.asarray(result.confusion)),
        "reliability": reliability_figure(result.calibration), "mistakes": mistakes, "compare": compare,
    }


def unlock(ctx: AppContext, password: str) -> tuple:
    """Check the password, then show the controls and start refreshing."""
    require_admin(ctx, password)
    return (
        gr.update(visible=True), gr.Timer(active=True), data_note(ctx), versions_table(ctx), version_choices(ctx),
        served_note(ctx),
    )


def validation_steps(epochs: object, batch_size: object) -> int:
    """Steps between validations: a 1-epoch run is validated every quarter epoch, or its validation curve would
    be one point, which a line plot does not draw; 0 (once an epoch) otherwise and for settings start refuses."""
    if epochs != 1 or isinstance(batch_size, bool) or not isinstance(batch_size, (int, float)) or batch_size < 1:
        return 0
    return max(1, int(MNIST_TRAINING_IMAGES // batch_size) // VALIDATIONS_IN_ONE_EPOCH)


def start_training(
    ctx: AppContext, password: str, architecture: str, epochs: float, batch_size: float, lr: float
) -> str:
    require_admin(ctx, password)
    try:
        ctx.job.start(TrainConfig(
            model=architecture, epochs=epochs, batch_size=batch_size, lr=lr,
            eval_every=validation_steps(epochs, batch_size),
        ))
    except (RuntimeError, ValueError, TypeError, MnistDataError) as e:
        raise refused(str(e)) from None
    return f"Training {architecture} for {int(epochs)} epoch(s) started."


def start_lesson(ctx: AppContext, password: str) -> str:
    """API /admin_lesson: train a fresh `lesson` net on all of MNIST while the class watches (about ten seconds)."""
    require_admin(ctx, password)
    try:
        ctx.job.start(LESSON)
    except (RuntimeError, ValueError, MnistDataError) as e:
        raise refused(str(e)) from None
    return "Training a new network from scratch: watch its accuracy on 1,000 test digits it never sees in training."


def stop_training(ctx: AppContext, password: str) -> str:
    require_admin(ctx, password)
    if ctx.job.status().state != "running":
        return "Nothing is running: there is nothing to stop."
    ctx.job.stop()
    return "Stop requested: the run ends after the current step and keeps its best checkpoint."


def start_on_page(start: Callable[..., str], ctx: AppContext, *values: object) -> str:
    """Start (or the lesson), as the page calls it: a refusal (a run already going) replaces the message, with no
    "Error" badge left beside it; the API's /admin_start still answers with an error."""
    try:
        return start(ctx, *values)
    except gr.Error as e:
        return f"**Not started.** {e.message}"


def training_status(ctx: AppContext, password: str) -> dict[str, Any]:
    """API /admin_status: the run's state, message, every event so far and the result's summary."""
    require_admin(ctx, password)
    status = ctx.job.status()
    result = status.result
    return {
        "state": status.state,
        "message": status.message,
        "events": status.events,
        "result": None if result is None else {"version": result.version.id, "test_accuracy": result.test_accuracy},
    }


class AdminRefresh(NamedTuple):
    """The timer's outputs, in the order `admin_tab` wires them; gr.skip() leaves a component as it is."""

    shown: dict  # what the page already shows: the number of events and the last result's version
    timer: Any = gr.skip()
    panel: Any = gr.skip()
    progress: Any = gr.skip()
    loss: Any = gr.skip()
    accuracy: Any = gr.skip()
    readings: Any = gr.skip()
    confusion: Any = gr.skip()
    reliability: Any = gr.skip()
    mistakes: Any = gr.skip()
    compare: Any = gr.skip()
    versions: Any = gr.skip()
    version: Any = gr.skip()


def refresh(ctx: AppContext, password: str, shown: dict) -> AdminRefresh:
    """Timer tick: progress, curves when new events came, and the result views once per finished run.
    A wrong password stops the timer and hides the controls instead of failing every second."""
    if not ctx.auth.check(password):
        return AdminRefresh(shown, timer=gr.Timer(active=False), panel=gr.update(visible=False))
    status = ctx.job.status()
    if status.result is not None and status.result.version.id not in version_ids(ctx):
        status = replace(status, message=f"Its version {status.result.version.id} has since been deleted.", result=None)
    view = AdminRefresh(
        {"events": len(status.events), "result": status.result.version.id if status.result else None},
        progress=progress_html(status),
    )
    if len(status.events) != shown.get("events"):
        loss, accuracy = curves(status.events, status.watch_test) if status.events else (None, None)  # new: empty
        view = view._replace(loss=loss, accuracy=accuracy, readings=readings_html(status))
    result_id = view.shown["result"]
    if result_id is not None and result_id != shown.get("result") and result_id in version_ids(ctx):
        view = view._replace(
            **result_views(ctx, status.result), versions=versions_table(ctx), version=version_choices(ctx, result_id),
        )
    return view


def serve(ctx: AppContext, choose: Callable[[], VersionInfo]) -> None:
    """Record the version to serve and load it, as one step: two admins deploying at once cannot leave
    the app serving one model while the store names the other."""
    try:
        with ctx.serving:
            ctx.predictor = Predictor(choose().path)
    except (ValueError, OSError) as e:  # WeightsError is a ValueError
        raise refused(str(e)) from None


def version_metadata(ctx: AppContext, version_id: object) -> dict[str, Any]:
    """The version's JSON metadata; empty when it cannot be read (deploying then says why)."""
    try:
        return read_metadata(ctx.versions.path_of(version_id))
    except (ValueError, OSError):  # WeightsError is a ValueError
        return {}


def deploy(ctx: AppContext, password: str, version_id: str) -> tuple[str, pd.DataFrame]:
    """Serve this version from the next request on, with no restart; not a fine-tune that lost MNIST accuracy."""
    require_admin(ctx, password)
    refusal = deploy_refusal(version_id, version_metadata(ctx, version_id))
    if refusal is not None:
        raise refused(refusal)
    serve(ctx, lambda: ctx.versions.deploy(version_id))
    return served_note(ctx), versions_table(ctx)


def roll_back(ctx: AppContext, password: str) -> tuple[str, pd.DataFrame]:
    require_admin(ctx, password)
    serve(ctx, ctx.versions.rollback)
    return served_note(ctx), versions_table(ctx)


def delete_version(ctx: AppContext, password: str, version_id: str) -> tuple[str, pd.DataFrame]:
    require_admin(ctx, password)
    try:
        ctx.versions.delete(version_id)
    except (ValueError, OSError) as e:
        raise refused(str(e)) from None
    return f"Deleted version {version_id}. {served_note(ctx)}", versions_table(ctx)


class Deleted(NamedTuple):
    """Delete's outputs on the page: what happened, the versions left, and no results of a version that is gone."""

    compare: str
    versions: pd.DataFrame
    confusion: None = None
    reliability: None = None
    mistakes: None = None
    confirm: dict = gr.update(visible=False)


def delete_on_page(ctx: AppContext, password: str, version_id: str) -> Deleted:
    return Deleted(*delete_version(ctx, password, version_id))


class DeleteQuestion(NamedTuple):
    """Delete asks first, in a row of its own: a version's weights cannot be brought back."""

    row: dict
    question: str = ""


def ask_to_delete(version_id: str | None) -> DeleteQuestion:
    if not version_id:
        return DeleteQuestion(gr.update(visible=False))
    return DeleteQuestion(
        gr.update(visible=True), f"Delete version **{version_id}** for good? Its weights cannot be brought back.",
    )


def admin_tab(ctx: AppContext) -> None:
    gr.Markdown("Retrain the network. The admin password is printed when the app starts (or set MNIST_ADMIN_PASSWORD).")
    with gr.Row():
        password = gr.Textbox(label="Admin password", type="password", scale=3, elem_id="admin-password")
        unlock_button = gr.Button("Unlock", scale=1, elem_id="admin-unlock")
    with gr.Column(visible=False, elem_id="admin-panel") as panel:
        data = gr.Markdown(elem_id="admin-data")  # filled on unlock: the page's config is public, the panel's not
        with gr.Row():
            architecture = gr.Dropdown(
                [(f"{name} ({parameter_count(build_model(name)):,} parameters)", name) for name in MODELS],
                value="fast", label="Architecture",
            )
            epochs = gr.Number(3, label="Epochs", precision=0, minimum=1, maximum=100)
            batch_size = gr.Dropdown([32, 64, 128, 256, 512], value=128, label="Batch size")
            lr = gr.Number(0.1, label="Learning rate (peak)", minimum=0.0001, maximum=10)
        with gr.Row():
            start = gr.Button("Start", variant="primary", elem_id="admin-start")
            stop = gr.Button("Stop", variant="stop", elem_id="admin-stop")
            lesson = gr.Button("Train from scratch for the class (about 10 s)", elem_id="admin-lesson")
        message = gr.Markdown(elem_id="admin-message")
        progress = gr.HTML(elem_id="admin-status")
        with gr.Row():
            # A fixed colour map: the validation curve only starts after the first epoch, and without it the
            # plot keeps the colours (series) it saw first.
            loss_plot = gr.LinePlot(
                x="images seen", y="value", color="curve", color_map=CURVE_COLOURS, y_title="loss", label="Loss",
                elem_id="loss",
            )
            accuracy_plot = gr.LinePlot(
                x="images seen", y="value", color="curve", color_map=CURVE_COLOURS, y_title="accuracy %",
                label="Accuracy", elem_id="accuracy",
            )
        readings = gr.HTML(elem_id="admin-readings")
        compare = gr.Markdown(elem_id="admin-compare")
        with gr.Row():
            confusion = gr.Plot(label="Confusion matrix (MNIST test set)", format="png")
            reliability = gr.Plot(label="How honest its probabilities are (MNIST test set)", format="png")
        mistakes = gr.Gallery(label="Test digits it got wrong (true → predicted)", columns=8, height=330)
        with gr.Row():
            version = gr.Dropdown(label="Version", scale=3, allow_custom_value=True, elem_id="admin-version")
            deploy_button = gr.Button("Deploy", variant="primary", elem_id="admin-deploy")
            rollback_button = gr.Button("Roll back", elem_id="admin-rollback")
            delete_button = gr.Button("Delete", variant="stop", elem_id="admin-delete")
        with gr.Row(visible=False, elem_id="admin-delete-confirm") as confirm_row:
            confirm_text = gr.Markdown()
            confirm_button = gr.Button("Yes, delete it", variant="stop", elem_id="admin-delete-yes")
            cancel_button = gr.Button("Keep it", elem_id="admin-delete-no")
        versions = gr.Dataframe(
            headers=VERSION_COLUMNS, interactive=False, label="Saved versions", elem_id="admin-versions",
        )
        status_json = gr.JSON(visible=False)
        corrections_section(ctx, password)
        lessons_section(ctx, password)
    timer = gr.Timer(REFRESH_S, active=False)
    shown = gr.State({})

    gr.on(
        [unlock_button.click, password.submit], partial(unlock, ctx), password,
        [panel, timer, data, versions, version, compare], api_name="admin_unlock",
    )
    settings = [password, architecture, epochs, batch_size, lr]
    start.click(partial(start_on_page, start_training, ctx), settings, message, api_visibility="private")
    lesson.click(partial(start_on_page, start_lesson, ctx), password, message, api_visibility="private")
    gr.on([], partial(start_lesson, ctx), password, message, api_name="admin_lesson")
    gr.on([], partial(start_training, ctx), settings, message, api_name="admin_start")
    stop.click(partial(stop_training, ctx), password, message, api_name="admin_stop")
    timer.tick(
        partial(refresh, ctx), [password, shown],
        list(AdminRefresh(shown, timer, panel, progress, loss_plot, accuracy_plot, readings, confusion, reliability,
                          mistakes, compare, versions, version)),
        # No queue: a queued tick shows Gradio's "processing | 0.4s" over the status, twice a second.
        show_progress="hidden", api_visibility="private", queue=False,
    )
    gr.on([], partial(training_status, ctx), password, status_json, api_name="admin_status")
    deploy_button.click(partial(deploy, ctx), [password, version], [compare, versions], api_name="admin_deploy")
    rollback_button.click(partial(roll_back, ctx), password, [compare, versions], api_name="admin_rollback")
    delete_button.click(
        ask_to_delete, version, list(DeleteQuestion(confirm_row, confirm_text)), api_visibility="private",
    )
    cancel_button.click(lambda: gr.update(visible=False), None, confirm_row, api_visibility="private")
    confirm_button.click(
        partial(delete_on_page, ctx), [password, version],
        list(Deleted(compare, versions, confusion, reliability, mistakes, confirm_row)), api_visibility="private",
    ).then(partial(version_choices, ctx), None, version, api_visibility="private")
    gr.on([], partial(delete_version, ctx), [password, version], [compare, versions], api_name="admin_delete")
