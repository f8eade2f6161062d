"""Export destinations: option checks, what may be replaced, and atomic folders.

An export is built in temporary folders beside its destinations and renamed only after every
check passed: an interrupted or failed export leaves no directory the runtime accepts, and a
folder in the way that is not an earlier export is never replaced.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
from pathlib import Path

from vidgen_tf.data.video_io import FPS_RANGES
from vidgen_tf.errors import VidgenError
from vidgen_tf.runtime.manifest import MANIFEST_NAME, MAX_FPS, MIN_FPS

DEFAULT_OPSET = 17
MAX_OPSET = 18  # tf2onnx 1.17 refuses newer opsets
# What an export writes into each of its two folders; anything else there is not ours to delete.
SAVEDMODEL_ENTRIES = frozenset({"saved_model.pb", "fingerprint.pb", "variables", "assets"})
ONNX_SUFFIXES = (".onnx", ".json")


def check_export_options(name: str, *, opset: int = DEFAULT_OPSET, fps: float | None = None,
                         quantize: str | None = None) -> None:
    """Raise VidgenError for a bad name, opset, fps or quantize value (cheap: no TensorFlow)."""
    check_name(name)
    if not 13 <= opset <= MAX_OPSET:
        raise VidgenError(f"opset must be between 13 and {MAX_OPSET} (tf2onnx 1.17 with "
                          f"onnxruntime); received opset={opset}")
    if fps is not None and not (math.isfinite(fps) and fps > 0):
        raise VidgenError(f"--fps must be a positive number of frames per second (for "
                          f"example --fps 8); received {fps:g}")
    if fps is not None and not MIN_FPS <= fps <= MAX_FPS:
        raise VidgenError(f"--fps must be between {MIN_FPS:g} and {MAX_FPS:g} frames per second "
                          f"(what `vidgen generate` can write: .gif up to "
                          f"{FPS_RANGES['.gif'][1]:g}, .mp4 up to {FPS_RANGES['.mp4'][1]:g}); "
                          f"received {fps:g}")
    if quantize not in (None, "int8"):
        raise VidgenError(f"quantize must be int8 (or omitted for float32); received {quantize!r}")


def check_name(name: str) -> None:
    separators = {"/", "\\", os.sep, os.altsep} - {None}
    if (not name or not name.strip() or ".." in name or name.startswith(".")
            or any(sep in name for sep in separators) or "\0" in name):
        raise VidgenError(f"--name must be a plain folder name (not empty, no path separators, "
                          f"no '..', not starting with '.'); received {name!r}")
    if len(name.encode()) > 255:
        raise VidgenError(f"--name is too long for a folder name ({len(name.encode())} bytes, "
                          f"the limit is 255); choose a shorter one")


def existing_exports(name: str, *, saved_models_dir: str | os.PathLike = "saved_models",
                     export_dir: str | os.PathLike = "export", replace: bool = True
                     ) -> list[Path]:
    """The folders of an earlier export named `name` that exporting again would replace.

    Raises VidgenError when something in the way is not an earlier export (a file, or a folder
    holding anything an export does not write): replacing it would lose data. With
    `replace=False`, an earlier export is an error too.
    """
    found = []
    for final, allowed, marker, what in (
            (Path(saved_models_dir) / name, SAVEDMODEL_ENTRIES, "saved_model.pb", "SavedModel"),
            (Path(export_dir) / name, None, MANIFEST_NAME, "ONNX export")):
        if not final.exists() and not final.is_symlink():
            continue
        if final.is_symlink() or not final.is_dir():
            raise VidgenError(f"{final} exists and is not a plain folder (a file or a link); "
                              "nothing was replaced: move it away or choose another --name")
        entries = {entry.name for entry in final.iterdir()}
        if not entries:
            continue  # an empty folder: nothing to lose, nothing worth reporting
        if allowed is not None:
            foreign = sorted(entries - allowed)
        else:  # an ONNX export: its graphs, manifest and JSON assets
            foreign = sorted(e for e in entries
                             if not e.endswith(ONNX_SUFFIXES) or e.startswith("."))
        if foreign or marker not in entries:
            reason = (f"it holds {', '.join(foreign[:3])}" if foreign else f"it has no {marker}")
            raise VidgenError(f"{final} is in the way and is not an earlier {what} ({reason}); "
                              "nothing was replaced: move it away or choose another --name")
        found.append(final)
    if found and not replace:
        raise VidgenError(f"an export named {name!r} already exists ("
                          f"{' and '.join(str(p) for p in found)}); choose another --name, or "
                          "drop --no-replace to replace it")
    return found


@contextlib.contextmanager
def staging(final: Path):
    """A fresh temporary folder beside `final`, removed unless it was committed."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{final.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def commit(tmp: Path, final: Path) -> None:
    """Rename `tmp` to `final`, replacing an older export of the same name; never after a
    SIGTERM, even one that the code it landed in swallowed."""
    from vidgen_tf.interrupts import raise_if_terminated

    raise_if_terminated()
    old = final.parent / f".{final.name}.old-{os.getpid()}"
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
