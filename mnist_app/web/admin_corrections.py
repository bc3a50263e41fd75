"""The Admin tab's Corrections section: browse and delete the students' corrections, export them,
and fine-tune the served model on MNIST plus corrections. Every handler checks the password first."""

import io
import shutil
import sqlite3
import tempfile
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import gradio as gr
from PIL import Image

from mnist_app.storage.corrections import Correction
from mnist_app.storage.weights import read_metadata
from mnist_app.training.data import MnistDataError
from mnist_app.training.fine_tune import (
    CORRECTION_SHARE,
    EPOCHS,
    FONT_SHARE,
    LR,
    MAX_MNIST_DROP_POINTS,
    FineTune,
    fine_tune_config,
)
from mnist_app.web.context import AppContext, require_admin
from mnist_app.web.correction_row import as_digit, store_of
from mnist_app.web.refusals import failed, refused
from mnist_app.web.widgets import pixelated

SHOWN = 200  # corrections in the gallery at most, newest first
ALL = "all"


def digit_filter(value: object) -> int | None:
    """The gallery's filter: "all" (or nothing) or one digit."""
    if value in (None, "", ALL):
        return None
    digit = as_digit(value)
    if digit is None:
        raise refused(f"Filter by a digit from 0 to 9 or {ALL!r}, not {value!r}")
    return digit


def picture(correction: Correction) -> Image.Image:
    """The student's original when it was kept, else what the model saw."""
    if correction.original_png:
        with Image.open(io.BytesIO(correction.original_png)) as image:
            return image.convert("RGB")
    return Image.fromarray(pixelated(correction.input28 / 255.0, 3))


def caption(correction: Correction) -> str:
    read = "?" if correction.predicted is None else correction.predicted
    return f"#{correction.id}: read {read}, is {correction.label}" + (" (held out)" if correction.held_out else "")


def gallery_view(ctx: AppContext, digit: object) -> tuple[list, str, list[int]]:
    store = store_of(ctx)
    chosen = digit_filter(digit)
    shown = store.list(chosen, limit=SHOWN)
    total, held = store.count(), store.count_held_out()
    which = "" if chosen is None else f" labelled {chosen}"
    summary = (
        f"{total} correction{'' if total == 1 else 's'}, {held} of them held out "
        "(never trained on, used to measure fine-tunes). "
        f"Showing {len(shown)}{which}, newest first. Click one to mark it for deletion. Database: `{store.path}`"
    )
    return [(picture(c), caption(c)) for c in shown], summary, [c.id for c in shown]


def browse_corrections(ctx: AppContext, password: str, digit: object) -> tuple[list, str, list[int]]:
    """API /admin_corrections: the gallery (newest first), a summary, and the ids shown."""
    require_admin(ctx, password)
    return gallery_view(ctx, digit)


def pick_correction(shown_ids: list[int], marked: str, evt: gr.SelectData) -> str:
    """A click in the gallery adds that correction's id to the ones to delete."""
    ids = marked_ids(marked)
    if isinstance(evt.index, int) and 0 <= evt.index < len(shown_ids) and shown_ids[evt.index] not in ids:
        ids.append(shown_ids[evt.index])
    return ", ".join(str(i) for i in ids)


def marked_ids(text: object) -> list[int]:
    words = str(text or "").replace(",", " ").split()
    if not all(w.lstrip("#").isdigit() for w in words):
        raise refused(f"Correction ids are whole numbers separated by commas, not {text!r}")
    return [int(w.lstrip("#")) for w in words]


def delete_corrections(ctx: AppContext, password: str, marked: str, digit: object) -> tuple:
    """API /admin_delete_corrections: delete the listed ids; the message, then the refreshed gallery."""
    require_admin(ctx, password)
    ids = marked_ids(marked)
    if not ids:
        raise refused("Click the corrections to delete in the gallery first (or type their ids).")
    deleted = store_of(ctx).delete(ids)
    return f"Deleted {deleted} correction(s).", "", *gallery_view(ctx, digit)


def export_corrections(ctx: AppContext, password: str) -> tuple[str, str]:
    """API /admin_export_corrections: IDX files in a folder beside the model store, and a zip of them."""
    require_admin(ctx, password)
    folder = ctx.versions.root.parent / "exports" / f"corrections-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}"
    try:
        archive = store_of(ctx).export(folder)
        # Gradio only serves files from the working or temp folder: the download is a copy there.
        download = Path(tempfile.mkdtemp(prefix="mnist-corrections-")) / archive.name
        shutil.copyfile(archive, download)
    except (OSError, sqlite3.Error) as e:
        raise failed(f"Could not export the corrections: {e}") from None
    message = (
        f"Exported to `{folder}`: train-* hold the corrections fine-tuning trains on, t10k-* the held-out ones "
        "(MNIST's IDX format: `mnist_app.training.data.load_mnist` and the training CLI's `--data` read the folder)."
    )
    return message, str(download)


def start_fine_tune(ctx: AppContext, password: str) -> str:
    """API /admin_fine_tune: fine-tune the served model on MNIST + corrections, as a background run."""
    require_admin(ctx, password)
    store = store_of(ctx)
    images, labels = store.arrays(held_out=False)
    if len(labels) == 0:
        raise refused("No corrections to train on yet (every fifth one is held out to measure with).")
    served = ctx.versions.served()
    if served is None:
        raise refused("The served model's files cannot be read: deploy or roll back first.")
    try:
        cfg = fine_tune_config(read_metadata(served.path))
        ctx.job.start(cfg, FineTune(served.id, served.path, images, labels, *store.arrays(held_out=True)))
    except (RuntimeError, ValueError, TypeError, MnistDataError) as e:
        raise refused(str(e)) from None
    fonts = (
        " and digits and letters drawn in the development split's handwriting fonts (a minute or two of drawing)"
        if cfg.font_digits or cfg.font_letters else ""
    )
    return (
        f"Fine-tuning {served.id} on MNIST + {len(labels)} corrections{fonts} for {cfg.epochs} epochs "
        f"(peak lr {cfg.lr}). When it ends, the status above compares it with the served model; deploying stays your "
        "decision."
    )


def corrections_section(ctx: AppContext, password: gr.Textbox) -> None:
    with gr.Accordion("Corrections from the class", open=False, elem_id="admin-corrections"):
        gr.Markdown(
            f"Students' answers to \"Wrong? It is a ...\". Fine-tuning starts from the served model and trains "
            f"{EPOCHS} epochs at a peak lr of {LR} (the last on unwarped digits, as the served model's recipe ends) "
            "on MNIST with the corrections repeated to make "
            f"{100 * CORRECTION_SHARE:.0f}% of each epoch. A model that learnt from handwriting fonts (other hands, "
            f"doubt of letters) sees some of their digits and letters again ({100 * FONT_SHARE:.0f}% of each epoch), "
            "so that it keeps those lessons. "
            f"A result that loses more than {MAX_MNIST_DROP_POINTS} point of MNIST test accuracy cannot be deployed."
        )
        with gr.Row():
            digit = gr.Dropdown([ALL, *range(10)], value=ALL, label="Labelled", scale=1, elem_id="corrections-digit")
            show = gr.Button("Show", scale=1, elem_id="corrections-show")
            export = gr.Button("Export (IDX)", scale=1, elem_id="corrections-export")
            fine_tune = gr.Button(
                "Fine-tune on MNIST + corrections", variant="primary", scale=2, elem_id="corrections-fine-tune"
            )
        summary = gr.Markdown(elem_id="corrections-summary")
        gallery = gr.Gallery(label="Corrections", columns=8, height=300, elem_id="corrections-gallery")
        with gr.Row():
            marked = gr.Textbox(label="Marked for deletion (ids)", scale=3, elem_id="corrections-marked")
            delete = gr.Button("Delete marked", variant="stop", scale=1, elem_id="corrections-delete")
        message = gr.Markdown(elem_id="corrections-message")
        download = gr.File(label="Exported corrections", interactive=False, elem_id="corrections-file")
    shown_ids = gr.State([])

    gr.on(
        [show.click, digit.change], partial(browse_corrections, ctx), [password, digit], [gallery, summary, shown_ids],
        api_name="admin_corrections",
    )
    gallery.select(pick_correction, [shown_ids, marked], marked, api_visibility="private")
    delete.click(
        partial(delete_corrections, ctx), [password, marked, digit], [message, marked, gallery, summary, shown_ids],
        api_name="admin_delete_corrections",
    )
    export.click(partial(export_corrections, ctx), password, [message, download], api_name="admin_export_corrections")
    fine_tune.click(partial(start_fine_tune, ctx), password, message, api_name="admin_fine_tune")
