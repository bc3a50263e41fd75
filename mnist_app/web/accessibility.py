"""Keyboard and screen-reader access: what a screen reader announces after a stroke, the region it is announced
from, and fixes to Gradio's own markup (a visible focus ring, contrast, ARIA) for the page's head.

Gradio's markup needs a few fixes that CSS cannot make, so `HEAD` carries a short script as well as a style; it
only sets attributes and wires the tabs' arrow keys, and changes nothing a pointer user sees.
"""

import gradio as gr

from mnist_app.reading.not_a_digit import NOT_A_DIGIT, drawing_doubt
from mnist_app.reading.predict import Prediction

SEEN_ALT = (
    "Your drawing as the network sees it: 28 by 28 pixels, enlarged. With Explain on, ink that counted for the "
    "top digit is light orange and ink that counted for the runner-up is dark blue; the text above names both."
)
# The live region is a block of its own that Gradio keeps while it replaces its content, so a screen reader, which
# announces changes inside a region it already knows, reads each new answer.
LIVE_REGION_ON_LOAD = "element.setAttribute('role', 'status'); element.setAttribute('aria-live', 'polite');"

HEAD = """<style>
/* A focus ring every control shows: Gradio gives its radios and checkboxes none, its buttons a thin one, its text
   fields a pale blue one (outline: none !important, hence `html body` to outrank it). */
html body :is(button, a, input, select, textarea, summary, [tabindex]):focus-visible {
  outline: 3px solid #1d4ed8 !important; outline-offset: 2px;
}
/* Gradio's light gray text (#bbbbc2 on white, 1.9:1) fails WCAG's 4.5:1 in its footer, the pages' links and the
   upload box's "- or -". The page's text colour follows light and dark mode. */
footer, footer :is(a, button), nav a[data-sveltekit-reload], .upload-container .or {
  color: var(--body-text-color) !important;
}
/* White on Gradio's orange and red buttons (Start, Deploy, Stop, Delete) is 2.8:1 and 3.8:1: darker shades. */
html:root, html .dark {
  --button-primary-background-fill: #c2410c; --button-primary-background-fill-hover: #9a3412;
  --button-primary-text-color: #fff; --button-primary-text-color-hover: #fff;
  --button-cancel-background-fill: #b91c1c; --button-cancel-background-fill-hover: #991b1b;
  --button-cancel-text-color: #fff; --button-cancel-text-color-hover: #fff;
}
.screen-reader-only {
  position: absolute !important; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%);
  white-space: nowrap;
}
</style>
<script>
(() => {
  const fix = () => {
    // An empty output's placeholder has aria-label on a plain div, which ARIA forbids: name it as the image it is.
    document.querySelectorAll('.empty[aria-label]:not([role])').forEach(e => e.setAttribute('role', 'img'));
    // Each bar is a button, clickable only when the app listens to it; ours do not: keep them out of Tab's way.
    document.querySelectorAll('button.confidence-set:not(.selectable)').forEach(e => { e.tabIndex = -1; });
    // A bar's meter has the value 0..1 and aria-valuenow 0..100: say which, "70 percent".
    document.querySelectorAll('meter[aria-valuenow]').forEach(e => {
      const text = e.getAttribute('aria-valuenow') + ' percent';
      if (e.getAttribute('aria-valuetext') !== text) e.setAttribute('aria-valuetext', text);
    });
    // Gradio names each option of a radio apart (and renames the picked one), so the options were ten Tab stops
    // and the arrows did nothing: one name a group makes it one stop whose option the arrow keys pick.
    document.querySelectorAll('fieldset[id] input[type=radio]').forEach(e => {
      const group = e.closest('fieldset').id;
      if (e.name !== group) e.name = group;
    });
  };
  new MutationObserver(fix).observe(document, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow', 'name'],
  });
  // The tabs: the left and right arrows open the neighbouring tab, as ARIA's tab pattern has it.
  document.addEventListener('keydown', event => {
    const tab = event.target.closest && event.target.closest('[role=tab]');
    if (!tab || (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight')) return;
    const tabs = Array.from(tab.parentElement.querySelectorAll('[role=tab]'));
    const next = tabs[(tabs.indexOf(tab) + (event.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length];
    event.preventDefault();
    next.focus();
    next.click();
  });
})();
</script>"""


def spoken_answer(prediction: Prediction) -> str:
    """What a screen reader says after a stroke: "7, 98 percent", rounded as a person would say it."""
    if drawing_doubt(prediction):
        return NOT_A_DIGIT
    percent = round(100 * prediction.probabilities[prediction.digit])
    return f"{'Not sure: maybe ' if not prediction.confident else ''}{prediction.digit}, {percent} percent"


def live_region(elem_id: str) -> gr.HTML:
    """A line, hidden from the eye (the bars show the same), that screen readers announce when its text changes."""
    return gr.HTML("", elem_id=elem_id, elem_classes="screen-reader-only", js_on_load=LIVE_REGION_ON_LOAD)
