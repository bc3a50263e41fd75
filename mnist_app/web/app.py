"""The web app: the Draw, Upload and Admin tabs, and the classroom view at /classroom.

Each tab is a module of its own; this one lays them out. The web package calls into reading, training and
storage; nothing imports it.
"""

import gradio as gr

from mnist_app.web import accessibility, canvas_sending, upload_tab
from mnist_app.web.admin_tab import admin_tab
from mnist_app.web.classroom import CLASSROOM_PATH, classroom_page
from mnist_app.web.context import AppContext
from mnist_app.web.draw_tab import draw_tab

CSS = """
#draw-seen img, #upload-crops img { image-rendering: pixelated; }
/* Our Clear button empties the canvas and keeps the pen; the Sketchpad's own one drops the pen. */
#canvas button[aria-label="Clear canvas"] { display: none; }
.hint { min-height: 2.5em; }
/* Not a digit (widgets.not_a_digit_hint): the bars stay, their headline digit is no answer. */
.column:has(.not-a-digit) [data-testid=label-output-value] { visibility: hidden; }
.correct-note { min-height: 1.5em; }
/* One screen, no jump (draw_tab.py): the bars' box is as tall empty as with ten bars; the hint has room for a doubt.
   Not on a phone, upright or on its side (HEAD): there the bars come below or beside the canvas in two columns. */
@media (min-width: 601px) and (min-height: 501px) {
  #draw-label { min-height: 468px; } #draw-hint { min-height: 4.5em; }
}
/* The pen: black only, and one size that reads well (a 100 px pen made blobs of digits). */
#canvas button[aria-label="Color"], #canvas button[aria-label="Brush Size"],
#classroom-canvas button[aria-label="Color"], #classroom-canvas button[aria-label="Brush Size"] { display: none; }
"""
# The classroom view (/classroom, mnist_app/web/classroom.py): readable from the back of a room.
CSS += """
#classroom-canvas button[aria-label="Clear canvas"] { display: none; }
#classroom-seen img { image-rendering: pixelated; }
#classroom-address p { font-size: 2rem; line-height: 1.3; text-align: center; }
#classroom-address strong { font-size: 3.2rem; font-family: var(--font-mono); }
#classroom-label [data-testid=label-output-value] { font-size: 9rem; line-height: 1; }
#classroom-label .label { font-size: 2.5rem; }
#classroom-label meter.bar { height: 1.2rem; }
#classroom-hint p, #classroom-clear { font-size: 1.6rem; }
"""
# Phones: the canvas fills the width; Clear and all ten bars fit a 390x844 screen below it. Touch needs
# no rule: PixiJS puts touch-action: none on its canvas, so a stroke there draws and never scrolls or zooms the page
# (tests/test_browser_phone.py checks it). Pan/zoom and the tool column (only the pen is needed; Clear and Undo stay)
# would be fingertip-sized targets over the sheet. A <style> in the page's head, not `CSS`: Gradio confines `CSS` to
# its content box, and inside @media keeps no copy reaching the page's padding outside that box.
HEAD = """<style>
@media (max-width: 600px) {
  .gradio-container { --layout-gap: 8px; }
  .gradio-container .main.app { padding: 8px 8px 0; }
  .prose h1 { font-size: 1.3rem; margin: 0; }
  .prose h1 + p { display: none; }
  .tab-container button { min-height: 44px; }
  .gradio-container .tabs .tab-wrapper { margin-bottom: 0; }
  #canvas { height: auto !important; aspect-ratio: 1 / 1.1; }  /* a little taller: the sheet clears Undo */
  #canvas .toolbar-wrap, #canvas .zoom-number, #canvas .separator, #canvas button[aria-label="Pan"],
  #canvas button[aria-label^="Zoom"] { display: none; }
  #canvas .top-panel button { min-width: 44px; min-height: 44px; }
  #clear { min-height: 48px; }
  #draw-hint, #draw-hint .hint { min-height: 0; }  /* below the canvas, so its growing moves no stroke */
  #draw-label .container { display: grid; grid: auto repeat(5, auto) / 1fr 1fr; grid-auto-flow: column; gap: 0 16px; }
  #draw-label .output-class { grid-area: 1 / 1 / 2 / 3; padding: 4px; }
  #draw-label .confidence-set { margin-bottom: 0; }
}
/* Tablets (820x1180 upright): the page uses the whole width, so the canvas beside the bars is as wide as it can be
   (Gradio keeps 768 px of it). The desktop layout fits a tablet on its side (1180x820) as it is. */
@media (min-width: 601px) and (max-width: 1000px) {
  .gradio-container .main.app, .gradio-container .fillable { max-width: none; }
  .gradio-container .main.app { padding-left: 12px; padding-right: 12px; }
}
/* A phone on its side (844x390): no title, the canvas as tall as the screen leaves under the tabs with Clear
   below it, and the ten bars in two columns beside it. */
@media (max-height: 500px) and (orientation: landscape) {
  .gradio-container { --layout-gap: 6px; }
  .gradio-container .main.app { padding: 4px 12px 0; max-width: none; }
  .nav-holder { padding: 0; }
  .prose h1, .prose h1 + p { display: none; }
  .tab-container button { min-height: 44px; }
  .gradio-container .tabs .tab-wrapper { margin-bottom: 0; }
  #canvas { height: calc(100vh - 170px) !important; min-height: 180px; }
  #canvas .zoom-number, #canvas .separator, #canvas button[aria-label="Pan"], #canvas button[aria-label^="Zoom"] {
    display: none;
  }
  #clear { min-height: 44px; }
  #draw-hint, #draw-hint .hint { min-height: 0; }
  #draw-label .container { display: grid; grid: auto repeat(5, auto) / 1fr 1fr; grid-auto-flow: column; gap: 0 16px; }
  #draw-label .output-class { grid-area: 1 / 1 / 2 / 3; padding: 2px; font-size: 1.6rem; }
  #draw-label .confidence-set { margin-bottom: 0; }
}
</style>"""
HEAD += accessibility.HEAD + upload_tab.HEAD + canvas_sending.HEAD


def build_app(ctx: AppContext) -> gr.Blocks:
    with gr.Blocks(title="MNIST: draw a digit") as demo:
        gr.Markdown("# Handwritten digits\nDraw a digit or upload a photo, and watch the network read it.")
        with gr.Tabs():
            with gr.Tab("Draw", id="draw"):
                draw_tab(ctx)
            with gr.Tab("Upload", id="upload"):
                upload_tab.upload_tab(ctx)
            with gr.Tab("Admin", id="admin"):
                admin_tab(ctx)
    with demo.route("Classroom", CLASSROOM_PATH):
        classroom_page(ctx, demo)
    demo.queue(default_concurrency_limit=2)  # two CPU cores: more at once would only queue inside torch
    return demo
