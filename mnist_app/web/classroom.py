"""The classroom view, a page of its own at /classroom for a projector: the address students open on their phones
with its QR code, then two tabs: a big canvas with the prediction in large type, and the class wall of a lesson
(web/lesson_wall.py).

The canvas tab's layout is its own; the canvas, its handlers and its wiring are the Draw tab's.
"""

import os
from typing import Any, NamedTuple

import gradio as gr

from mnist_app.web import widgets
from mnist_app.web.accessibility import SEEN_ALT
from mnist_app.web.context import AppContext
from mnist_app.web.join_qr import qr_image
from mnist_app.web.lan_address import StudentAddress, student_address
from mnist_app.web.lesson_wall import lesson_wall
from mnist_app.web.steps_view import steps_view

CLASSROOM_PATH = "classroom"
CANVAS_HEIGHT = "72vh"  # most of the screen's height, whatever the projector's resolution
GRADIO_DEFAULT_PORT = 7860
QR_HEIGHT = 240  # CSS pixels: a phone's camera reads it from the back of a classroom


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


class AddressView(NamedTuple):
    markdown: str
    qr: Any  # the address's QR code, shown only when phones can open it


def address_view(address: StudentAddress) -> AddressView:
    if not address.reachable:  # no code for an address phones cannot open: the advice says what to do
        return AddressView(address_markdown(address), gr.update(value=None, visible=False))
    return AddressView(address_markdown(address), gr.update(value=qr_image(address.url), visible=True))


def classroom_page(ctx: AppContext, demo: gr.Blocks) -> None:
    """Built inside `demo.route(...)`, so its components and events belong to the /classroom page."""
    with gr.Row(equal_height=True):
        with gr.Column(scale=4):
            address = gr.Markdown(elem_id="classroom-address")
        qr = gr.Image(
            show_label=False, format="png", interactive=False, visible=False, height=QR_HEIGHT, scale=1,
            elem_id="classroom-qr", buttons=[],
        )
    with gr.Tabs():
        with gr.Tab("Canvas", id="canvas") as canvas_tab:
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
                    states = widgets.drawing_states()
                    steps = steps_view(ctx, states.drawn, "classroom")  # beside the canvas: on the screen, no scrolling
                    widgets.follow_drawing(ctx, sketch, explain, clear, (label, seen, hint), states, under=(steps,))
        with gr.Tab("Class wall", id="wall", elem_id="classroom-wall-tab") as wall_tab:
            wall_timer = lesson_wall(ctx)
    # The wall refreshes only while it is shown. The page selects the Canvas tab itself as it loads; the two selects
    # run one at a time, in the order sent, so that a quick click on the wall is answered after that select and
    # cannot be undone by it (the likely cause of a wall that never refreshed in CI).
    for tab, refreshing in ((wall_tab, True), (canvas_tab, False)):
        tab.select(
            lambda on=refreshing: gr.Timer(active=on), None, wall_timer, api_visibility="private",
            concurrency_id="wall-timer", concurrency_limit=1,
        )
    demo.load(
        lambda: address_view(served_address(demo)), None, list(AddressView(address, qr)), api_visibility="private"
    )
