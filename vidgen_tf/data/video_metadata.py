"""Provenance in video files: metadata written into MP4 tags and a GIF comment, and read back.

`write_video(..., metadata=...)` (video_io) stores one JSON text: in an MP4, as the container's
"comment" tag; in a GIF, as a GIF Comment Extension right after the global colour table
(FFmpeg's GIF writer ignores metadata, and its reader exposes the extension as "comment").
`read_video_metadata` reads either back with PyAV.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from vidgen_tf.errors import VidgenError


def _json_value(value):
    """`json.dumps` fallback: numpy scalars/arrays and paths as plain JSON; anything else fails."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def metadata_json(metadata: Mapping[str, object], *, ascii_only: bool) -> str | None:
    """The JSON text `write_video` stores for `metadata` (None when empty); bad metadata fails
    here, before anything is written."""
    if not isinstance(metadata, Mapping) or not all(isinstance(k, str) for k in metadata):
        raise TypeError(f"metadata must be a dict with str keys or None; received "
                        f"metadata={metadata!r}")
    if not metadata:
        return None
    try:
        return json.dumps(dict(metadata), ensure_ascii=ascii_only, allow_nan=False,
                          default=_json_value)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"metadata must hold only JSON values (str, finite numbers, bool, None, "
                        f"lists, dicts): {exc}; received metadata={metadata!r}") from exc


def insert_gif_comment(path: Path, text: str) -> None:
    """Insert a GIF Comment Extension holding ASCII `text` after the global colour table."""
    data = path.read_bytes()
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 13:
        raise VidgenError(f"cannot add metadata to {path}: not a GIF file")
    flags = data[10]  # logical screen descriptor: global colour table flag and size
    start = 13 + (3 << ((flags & 0x07) + 1) if flags & 0x80 else 0)
    if start >= len(data):
        raise VidgenError(f"cannot add metadata to {path}: the GIF ends in its colour table")
    payload = text.encode("ascii")
    blocks = b"".join(bytes([len(payload[i:i + 255])]) + payload[i:i + 255]
                      for i in range(0, len(payload), 255))
    # Extension blocks are GIF89a; FFmpeg writes 89a already, 87a would need the new version.
    path.write_bytes(b"GIF89a" + data[6:start] + b"\x21\xfe" + blocks + b"\x00" + data[start:])


def read_video_metadata(path: str | os.PathLike) -> dict[str, object]:
    """Read the container metadata of a video file with PyAV (FFmpeg's demuxers).

    Returns:
        The dict `write_video(..., metadata=...)` stored, decoded from the JSON object in the
        "comment" item (mp4 `©cmt`, gif Comment Extension), with its nested values.
        For any other file (no comment, or a comment that is not a JSON object), the raw
        container metadata as strings, e.g. `{"major_brand": "isom", "encoder": ...}` for
        mp4 or `{}` for a gif without comments.

    Raises:
        VideoReadError: the file is missing, empty or not a readable video.

    Example:
        >>> read_video_metadata("clip.gif")["seed"]  # doctest: +SKIP
        3
    """
    from vidgen_tf.data.video_io import _open

    container, _ = _open(path)
    try:
        raw = dict(container.metadata)
    finally:
        container.close()
    try:
        stored = json.loads(raw.get("comment", ""))
    except ValueError:
        return raw
    return stored if isinstance(stored, dict) else raw
