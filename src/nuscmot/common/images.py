"""Image files that are whole: a truncated JPEG or PNG is an error naming the file, never a
silently partial frame.

libjpeg only *warns* on a file cut short ("Premature end of JPEG file", on stderr, no file
name) and ``cv2.imread`` returns the part it decoded with the rest grey, so a truncated
frame would reach the detector as a real one. The end of the file is checked first: a JPEG
must end with its end-of-image marker ``FF D9`` (zero padding after it allowed), a PNG with
its ``IEND`` chunk. Other formats are left to the decoder (``None`` -> an error).

:func:`check_image_tail` reads only the first and last bytes (``convert`` runs it on every
image it uses); :func:`decode_image` reads the file once, checks its ends and decodes it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

JPEG_SOI, JPEG_EOI = b"\xff\xd8", b"\xff\xd9"
PNG_SIGNATURE, PNG_IEND = b"\x89PNG\r\n\x1a\n", b"IEND\xaeB`\x82"
TAIL = 64  # bytes read from the end: room for zero padding after a JPEG's EOI


def tail_problem(head: bytes, tail: bytes) -> str | None:
    """Why a file that starts with ``head`` and ends with ``tail`` is cut short, or None."""
    if head.startswith(JPEG_SOI) and not tail.rstrip(b"\x00").endswith(JPEG_EOI):
        return "truncated JPEG (no end-of-image marker FF D9)"
    if head.startswith(PNG_SIGNATURE) and not tail.endswith(PNG_IEND):
        return "truncated PNG (no IEND chunk)"
    return None


def check_image_tail(path: str | Path) -> str | None:
    """:func:`tail_problem` of a file, reading its first 8 and last :data:`TAIL` bytes only;
    an unreadable file is a problem too."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(PNG_SIGNATURE))
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(0, size - TAIL))
            tail = fh.read()
    except OSError as exc:
        return f"cannot read image ({exc.strerror or exc})"
    return tail_problem(head, tail)


def decode_image(path: str | Path) -> tuple[np.ndarray | None, str]:
    """``(BGR uint8 image, "")``, or ``(None, why)`` when the file is unreadable, cut short or
    not decodable."""
    import cv2

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return None, f"cannot read image ({exc.strerror or exc})"
    problem = tail_problem(data[: len(PNG_SIGNATURE)], data[-TAIL:])
    if problem is not None:
        return None, f"cannot decode image: {problem}"
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
    return (img, "") if img is not None else (None, "cannot decode image")
