"""The classroom view, a page of its own at /classroom for a projector: a big canvas, the prediction in large
type, and the address students open on their phones.

Only the layout is its own: the canvas, its handlers and its wiring are the Draw tab's.
"""

import os

import gradio as gr

from mnist_app.web import widgets
from mnist_app.web.accessibility import SEEN_ALT
from mnist_app.web.context import AppContext
from mnist_app.web.lan_address import StudentAddress, student_address
from mnist_app.web.steps_view import steps_view

CLASSROOM_PATH = "classroom"
CANVAS_HEIGHT = "72vh"  # most of the screen's height, whatever the projector's resolution
GRADIO_DEFAULT_PORT = 7860


def served_address(demo: gr.Blocks) -> StudentAddress:
    """Where phones reach this app: Gradio sets server_name and server_port once launched; before that
    (the app mounted some other way) its environment variables say where it will listen."""
    server_name = getattr(demo, "server_name", None) or os.environ.get("GRADIO_SERVER_NAME")
    port = getattr(demo, "server_port", None) or int(os.environ.get("GRADIO_SERVER_PORT", GRADIO_DEFAULT_PORT))
    return student_address(server_name, port, getattr(demo, "protocol", None) or "http")


def address_markdown(address: StudentAddress) -> str:
    if address.reachable:
        return f"On your phone, open **{address.url}**"
    return f"Phones cannot open this app yet. {address.advice}"


def classroom_page(ctx: AppContext, demo: gr.Blocks) -> None:
    """Built inside `demo.route(...)`, so its components and events belong to the /classroom page."""
    address = gr.Markdown(elem_id="classroom-address")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            sketch = widgets.drawing_canvas("classroom-canvas", CANVAS_HEIGHT)
            clear = gr.Button("Clear", variant="secondary", size="lg", elem_id="classroom-clear")
        with gr.Column(scale=2):
            label = gr.Label(num_top_classes=3, show_label=False, elem_id="classroom-label")
            hint = gr.Markdown(widgets.START_HINT, elem_id="classroom-hint", elem_classes="hint")
            seen = gr.Image(
                label="What the model sees", format="png", interactive=False,
                height=200, elem_id="classroom-seen", buttons=[], alt_text=SEEN_ALT,
            )
            explain = gr.Checkbox(label=widgets.EXPLAIN_LABEL, elem_id="classroom-explain")
            states = widgets.follow_drawing(ctx, sketch, explain, clear, (label, seen, hint))
            steps_view(ctx, states, "classroom")  # beside the canvas: on the screen, no scrolling
    demo.load(lambda: address_markdown(served_address(demo)), None, address, api_visibility="private")
