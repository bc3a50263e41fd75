"""The QR code of the address students open, drawn on the server by segno (pure Python): nothing is fetched from
the internet, and a phone's camera opens the app without anyone typing the address."""

import io

import segno
from PIL import Image

MODULE_PX = 10  # each black or white square of the code, in image pixels: sharp when the page scales it
QUIET_ZONE = 4  # white modules around the code, as the QR standard asks


def qr_image(url: str) -> Image.Image:
    """`url` as a black-on-white QR code (error correction M: a smudged projector still reads)."""
    code = segno.make_qr(url, error="m", boost_error=False)
    out = io.BytesIO()
    code.save(out, kind="png", scale=MODULE_PX, border=QUIET_ZONE)
    out.seek(0)
    with Image.open(out) as image:
        return image.convert("L")
