"""A safer Admin tab, as plain handlers: Delete asks first and takes the deleted version's results off the page,
Stop and a second Start say plainly what happened, and a fine-tune stopped early says so."""

from dataclasses import replace

import gradio as gr
import numpy as np
import pytest

from mnist_app.testing.app_process import ADMIN_PASSWORD
from mnist_app.training.calibration import confidence_bins
from mnist_app.training.fine_tune import fine_tune_summary
from mnist_app.training.models import build_model
from mnist_app.web import admin_tab
from mnist_app.web.jobs import JobStatus, RunResult, progress_message


def test_delete_asks_first_and_a_deleted_versions_results_leave_the_page(ctx, monkeypatch):
    version = ctx.versions.add(build_model("fast"), {"architecture": "fast", "test_accuracy": 0.1})
    question = admin_tab.ask_to_delete(version.id)
    assert question.row["visible"] and version.id in question.question and "for good" in question.question
    assert not admin_tab.ask_to_delete(None).row["visible"]
    assert [v.id for v in ctx.versions.list()] == [version.id, "shipped"]  # asking deleted nothing

    one_reading = confidence_bins(np.full((1, 10), 0.1), np.array([0]))
    finished = JobStatus("finished", [], f"Finished: saved as version {version.id}. Deploy it to serve it.",
                         RunResult(version, 0.1, [[0] * 10] * 10, one_reading, []))
    monkeypatch.setattr(ctx.job, "status", lambda: finished)
    assert admin_tab.refresh(ctx, ADMIN_PASSWORD, {}).compare != gr.skip()  # its results are shown...
    deleted = admin_tab.delete_on_page(ctx, ADMIN_PASSWORD, version.id)
    assert deleted.compare.startswith(f"Deleted version {version.id}.")
    assert (deleted.confusion, deleted.reliability, deleted.mistakes) == (None, None, None)
    assert not deleted.confirm["visible"]
    after = admin_tab.refresh(ctx, ADMIN_PASSWORD, {})  # ...and not again once it is gone, even on a fresh page
    assert after.compare == gr.skip() and after.confusion == gr.skip()
    assert "has since been deleted" in after.progress and "Deploy it" not in after.progress


def test_stop_with_nothing_running_says_so_and_a_refused_start_leaves_no_error_badge(ctx, monkeypatch):
    assert admin_tab.stop_training(ctx, ADMIN_PASSWORD) == "Nothing is running: there is nothing to stop."
    monkeypatch.setattr(ctx.job, "start", lambda cfg: (_ for _ in ()).throw(RuntimeError("A run is going.")))
    assert admin_tab.start_on_page(
        admin_tab.start_training, ctx, ADMIN_PASSWORD, "fast", 1, 128, 0.1
    ) == "**Not started.** A run is going."
    with pytest.raises(gr.Error, match="A run is going"):  # the API still answers with an error
        admin_tab.start_training(ctx, ADMIN_PASSWORD, "fast", 1, 128, 0.1)


def test_a_fine_tune_summary_is_plain_and_a_stopped_one_says_it_stopped_early():
    meta = {
        "fine_tuned_from": "v1", "corrections_trained": 4, "correction_repeats": 688, "base_test_accuracy": 0.99,
        "test_accuracy": 0.989, "held_out_corrections": 1, "held_out_right_before": 0, "held_out_right_after": 1,
    }
    finished = fine_tune_summary("v2", meta)
    assert "each shown 688 times an epoch" in finished and finished.endswith("Deploy it to serve it.")
    stopped = fine_tune_summary("v2", meta, stopped=True)
    assert stopped.startswith("Stopped early") and "Deploy it to serve it" not in stopped


def test_the_job_passes_on_that_a_run_was_stopped(ctx):
    version = ctx.versions.add(build_model("fast"), {"architecture": "fast", "test_accuracy": 0.1})
    fine_tune = {
        "fine_tuned_from": "shipped", "corrections_trained": 4, "correction_repeats": 688, "base_test_accuracy": 0.99,
        "held_out_corrections": 0, "held_out_right_before": 0, "held_out_right_after": 0,
    }
    result = replace(RunResult(version, 0.99, [], [], [], fine_tune), stopped=True)
    assert result.fine_tune_summary().startswith("Stopped early")


def test_a_one_epoch_run_is_validated_often_enough_to_draw_a_validation_curve(ctx, monkeypatch):
    started = []
    monkeypatch.setattr(ctx.job, "start", started.append)
    admin_tab.start_training(ctx, ADMIN_PASSWORD, "fast", 1, 128, 0.1)
    admin_tab.start_training(ctx, ADMIN_PASSWORD, "fast", 3, 128, 0.1)
    one_epoch, three_epochs = started
    assert one_epoch.eval_every == 55_000 // 128 // 4 and three_epochs.eval_every == 0
    assert admin_tab.validation_steps(1, "lots") == 0  # start refuses such settings with its own message


def test_once_a_stop_takes_effect_the_status_says_the_run_stopped_and_what_it_does_next():
    done = {"kind": "done"}
    assert progress_message(done, 2, stopping=True).startswith("Stopped: measuring accuracy on the test set")
    assert progress_message(done, 2).startswith("Training done")
