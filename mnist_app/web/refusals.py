"""Errors the user sees, and what the server log keeps of them.

A refusal is expected (a wrong password, a Save with no digit picked): the user reads why, and the log gets one
line. A fault is not (a disk that will not take a write): the user reads what failed, and the log keeps the
traceback to find the cause. Gradio prints a traceback for every gr.Error unless told not to.
"""

import logging

import gradio as gr

log = logging.getLogger("mnist_app")


def refused(message: str) -> gr.Error:
    """An expected refusal, to raise: one line in the server log, no traceback."""
    log.info("refused: %s", message)
    return gr.Error(message, print_exception=False)


def failed(message: str) -> gr.Error:
    """A real fault, to raise from inside the `except` that caught it: the log keeps its traceback."""
    log.exception("failed: %s", message)
    return gr.Error(message, print_exception=False)
