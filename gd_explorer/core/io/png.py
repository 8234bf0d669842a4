"""A small PNG writer (zlib and struct only): the core writes images without Qt or Pillow."""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np

from gd_explorer.core.io.export import ExportError, atomic_write_bytes

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png_bytes(rgba: np.ndarray) -> bytes:
    """The PNG file of an image ``(h, w, 4)`` or ``(h, w, 3)`` of uint8, row 0 at the top."""
    img = np.asarray(rgba)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] not in (3, 4) \
            or img.shape[0] < 1 or img.shape[1] < 1:
        raise ValueError(f"a PNG image is (h, w, 3 or 4) uint8, got {img.dtype} {img.shape}")
    h, w, c = img.shape
    header = struct.pack(">IIBBBBB", w, h, 8, 6 if c == 4 else 2, 0, 0, 0)
    rows = np.empty((h, 1 + w * c), dtype=np.uint8)
    rows[:, 0] = 0  # filter type "none" for every row
    rows[:, 1:] = np.ascontiguousarray(img).reshape(h, w * c)
    return (_SIGNATURE + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + _chunk(b"IEND", b""))


def write_png(path: str | os.PathLike, rgba: np.ndarray, scale: int = 1) -> None:
    """Write ``rgba`` (row 0 at the top) to ``path`` atomically, each pixel a
    ``scale`` x ``scale`` block.

    Raises
    ------
    ExportError
        When the file cannot be written (nothing is left behind).
    """
    if scale > 1:
        rgba = np.repeat(np.repeat(rgba, scale, axis=0), scale, axis=1)
    atomic_write_bytes(path, png_bytes(rgba))


__all__ = ["ExportError", "png_bytes", "write_png"]
