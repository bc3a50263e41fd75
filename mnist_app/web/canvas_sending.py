"""How a canvas's drawing reaches the server, and how Clear gives the canvas a blank sheet, with the canvas never an
input or output of a server event.

Why: Gradio's page code (6.31) remembers every input of a server event once it has answered, and every output, and
on each status update of any event on the page it asks each remembered component for its value again. The Sketchpad
answers by encoding its images and uploading them anew. With the canvas an input of the stroke's prediction, one
stroke cost the server about 30 uploads, and each tick of the lesson-notice timer 9 (docs/results.md, "Uploads a
browser stroke costs").

So a stroke goes in two steps. The canvas's `change` runs in the page alone (`stroke_id_js`): the editor has just
sent the stroke's images to its own server function, and this passes the id it sent them under to a hidden
textbox, whose change is the server event; the server reads the images by that id (`sent_drawing`). Clear's server
event sets a hidden number to the new sheet's white, and that number's change, in the page alone, loads the blank
sheet into the canvas (`blank_sheet_js`).

Until a person draws on a blank sheet (or presses one of the canvas's buttons), the canvas's sends are not passed
on: they are its editor loading that sheet, on opening the page and after Clear. Loading it is two changes, each
sent; passed on, they cost a prediction of the empty sheet on every page load (the Sketchpad drops the first change
after it mounts) and two on every Clear (docs/architecture.md).
"""

import base64
import io
import json

import gradio as gr
import numpy as np
from gradio.components.image_editor import EditorData
from PIL import Image

from mnist_app.reading.predict import InvalidImageError

CANVAS_CLASS = "drawing-canvas"  # the canvases whose strokes are sent this way (widgets.drawing_canvas)
# The page's record of the canvases a person has drawn on since their blank sheet was loaded: a press that began on
# one and has ended (a stroke, or a click on its Undo), or a key pressed in it. A stroke ends with the pointer's
# release, before the editor sends it. Loading a blank sheet takes the canvas off the record (blank_sheet_js).
HEAD = f"""<script>
window.drawnOn = new Set();
(() => {{
  let pressed = null;
  const canvasOf = event => event.target.closest?.('.{CANVAS_CLASS}')?.id;
  document.addEventListener('pointerdown', event => {{ pressed = canvasOf(event); }}, true);
  for (const end of ['pointerup', 'pointercancel']) document.addEventListener(end, () => {{
    if (pressed) window.drawnOn.add(pressed);
    pressed = null;
  }}, true);
  document.addEventListener('keydown', event => {{
    const canvas = canvasOf(event);
    if (canvas) window.drawnOn.add(canvas);
  }}, true);
}})();
</script>"""


def stroke_id_js(elem_id: str) -> str:
    """The page's function from the Sketchpad's value to the stroke box's: just after the canvas sent a stroke its
    value is {"id": ...}, passed on once a person has drawn on it; anything else leaves the box as it is."""
    return f"(value) => (typeof value?.id === 'string' && window.drawnOn.has('{elem_id}') ? value.id : undefined)"


def stroke_box(sketch: gr.Sketchpad) -> gr.Textbox:
    """A hidden textbox that gets the id of each stroke the canvas sends: its `change` is the stroke's event."""
    box = gr.Textbox(visible="hidden", elem_id=f"{sketch.elem_id}-stroke")
    sketch.change(None, sketch, box, js=stroke_id_js(sketch.elem_id), show_progress="hidden", api_visibility="private")
    return box


def sent_drawing(sketch: gr.Sketchpad, stroke_id: str | None) -> dict | None:
    """The canvas's value (as the Sketchpad gives it to a handler) whose images its editor sent under `stroke_id`;
    None for an id already read or unknown. Gradio drops the images once read. InvalidImageError for images
    that are not images (only a hand-made request sends those)."""
    if not stroke_id:
        return None
    try:
        value = sketch.preprocess(EditorData(id=stroke_id))
    except (OSError, ValueError) as e:
        raise InvalidImageError(f"the canvas's images could not be decoded ({e})") from None
    if value is None or (value["background"] is None and value["composite"] is None and not value["layers"]):
        return None
    return value


def png_file_data(image: np.ndarray) -> dict:
    """An RGBA image as the page's FileData, carried in the page itself (a data: URL): no file on the server."""
    png = io.BytesIO()
    Image.fromarray(image, "RGBA").save(png, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode("ascii")
    return {"path": "blank.png", "url": url, "orig_name": "blank.png", "mime_type": "image/png",
            "meta": {"_type": "gradio.FileData"}}


def blank_sheet_js(elem_id: str, sheets: dict[int, dict]) -> str:
    """The page's function from a sheet's white to the canvas's value for that blank sheet (`sheets`: white ->
    the Sketchpad's value, numpy images), for the hidden sheet number's change; the canvas counts as not drawn on
    until the next stroke."""
    values = {
        str(white): {
            "background": png_file_data(sheet["background"]),
            "layers": [png_file_data(layer) for layer in sheet["layers"]],
            "composite": None,
            "id": None,
        }
        for white, sheet in sheets.items()
    }
    return f"(white) => {{ window.drawnOn.delete('{elem_id}'); return ({json.dumps(values)})[String(white)]; }}"


def load_blank_sheets(sheet: gr.Number, sketch: gr.Sketchpad, sheets: dict[int, dict]) -> None:
    """Whenever the server sets `sheet` (Clear), the page loads that white's blank sheet into the canvas."""
    js = blank_sheet_js(sketch.elem_id, sheets)
    sheet.change(None, sheet, sketch, js=js, show_progress="hidden", api_visibility="private")
