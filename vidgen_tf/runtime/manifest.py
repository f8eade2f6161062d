"""The export manifest: what a runtime needs to know about an exported generator, and its checks.

`vidgen export` writes `manifest.json` next to `model.onnx`; `VideoGenerator` reads it back
without any Python from the training side. Numpy and the standard library only.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

from vidgen_tf.data.video_io import FPS_RANGES
from vidgen_tf.errors import VidgenError

FORMAT = "vidgen_tf.export"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
ONNX_NAME = "model.onnx"
OUTPUT_LAYOUT = "(batch, frames, height, width, channels)"
_DISTRIBUTIONS = ("normal", "uniform", "categorical")
_DTYPES = ("float16", "float32", "float64", "int32", "int64")
# The fps a video file can hold in at least one format `vidgen generate` writes.
MIN_FPS = min(low for low, _ in FPS_RANGES.values())
MAX_FPS = max(high for _, high in FPS_RANGES.values())
# onnxruntime's names of the tensor types in `_DTYPES`.
_ONNX_TYPES = {"tensor(float16)": "float16", "tensor(float)": "float32",
               "tensor(double)": "float64", "tensor(int32)": "int32", "tensor(int64)": "int64"}


class ManifestError(VidgenError):
    """An export directory whose manifest or model cannot be used."""


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_manifest(export_dir: str | Path) -> dict:
    """Read and validate `export_dir/manifest.json`; ManifestError says what is wrong."""
    export_dir = Path(export_dir)
    if not export_dir.is_dir():
        raise ManifestError(f"{export_dir} is not an export directory (it does not exist or is "
                            "not a folder); make one with `vidgen export`")
    path = export_dir / MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ManifestError(f"{export_dir} has no {MANIFEST_NAME}: it is not a finished "
                            "`vidgen export` (re-run the export)") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path} is not valid JSON ({exc}); re-run `vidgen export`") from exc
    check_manifest(manifest, path)
    return manifest


def check_manifest(manifest, where: str | Path = MANIFEST_NAME) -> None:
    """Raise ManifestError naming the first missing or malformed field."""

    def fail(message: str):
        raise ManifestError(f"{where}: {message}; re-run `vidgen export`")

    if not isinstance(manifest, dict):
        fail(f"expected a JSON object, found {type(manifest).__name__}")
    if manifest.get("format") != FORMAT:
        fail(f'"format" must be {FORMAT!r}, found {manifest.get("format")!r}')
    if manifest.get("format_version") != FORMAT_VERSION:
        fail(f'"format_version" {manifest.get("format_version")!r} is not supported by this '
             f"runtime (it reads version {FORMAT_VERSION})")
    if not isinstance(manifest.get("name"), str):
        fail(f'"name" must be a string, found {manifest.get("name")!r}')
    for key in ("frames", "height", "width", "channels"):
        if not _is_int(manifest.get(key)) or manifest[key] < 1:
            fail(f'"{key}" must be a positive integer, found {manifest.get(key)!r}')
    fps = manifest.get("fps")
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps < math.inf:
        fail(f'"fps" must be a positive number, found {fps!r}')
    if not MIN_FPS <= fps <= MAX_FPS:
        fail(f'"fps" must be between {MIN_FPS:g} and {MAX_FPS:g} (what a video file can hold), '
             f"found {fps!r}")
    if not isinstance(manifest.get("variable_frames", False), bool):
        fail(f'"variable_frames" must be true or false, found {manifest["variable_frames"]!r}')
    names = manifest.get("class_names")
    if names is not None and not (isinstance(names, list)
                                  and all(isinstance(n, str) for n in names)):
        fail(f'"class_names" must be a list of strings, found {names!r}')
    _check_inputs(manifest, fail)
    onnx = manifest.get("onnx")
    if not isinstance(onnx, dict) or not isinstance(onnx.get("sha256"), str):
        fail('"onnx" must hold the model file name and its "sha256"')
    file = onnx.get("file", ONNX_NAME)
    if not isinstance(file, str) or not file or Path(file).name != file:
        fail(f'"onnx": "file" must be the name of the model file next to the manifest, found '
             f"{file!r}")
    output = manifest.get("output")
    if not isinstance(output, dict) or not isinstance(output.get("name"), str):
        fail('"output" must name the output tensor')


def _check_inputs(manifest: dict, fail) -> None:
    inputs = manifest.get("inputs")
    if not isinstance(inputs, dict) or not inputs:
        fail('"inputs" must be a non-empty object of named inputs')
    for name, item in inputs.items():
        shape = item.get("shape") if isinstance(item, dict) else None
        if not isinstance(shape, list) or not all(_is_int(d) and d >= 1 for d in shape):
            fail(f'input {name!r} needs a "shape" list of positive integers (the per-sample '
                 f"shape), found {shape!r}")
        if item.get("distribution") not in _DISTRIBUTIONS:
            fail(f'input {name!r} has distribution {item.get("distribution")!r}; expected one '
                 f"of {', '.join(_DISTRIBUTIONS)}")
        dtype = item.get("dtype", "float32")
        if dtype not in _DTYPES:
            fail(f'input {name!r} has dtype {dtype!r}; expected one of {", ".join(_DTYPES)}')
        if item["distribution"] == "categorical":
            if not (_is_int(item.get("num_classes")) and item["num_classes"] >= 1):
                fail(f'categorical input {name!r} needs "num_classes" >= 1')
            if shape or not dtype.startswith("int"):
                fail(f"categorical input {name!r} must be one integer per sample (shape [], an "
                     f"int dtype), found shape {shape} and dtype {dtype!r}")
        if "time_axis" in item:
            # The runtime lengthens clips along the first per-sample axis only.
            if item["time_axis"] != 0 or isinstance(item["time_axis"], bool) or not shape:
                fail(f'input {name!r} has "time_axis" {item["time_axis"]!r}; the only '
                     "supported value is 0 (the first per-sample axis)")
            if shape[0] != manifest["frames"]:
                fail(f"input {name!r} has {shape[0]} steps on its time axis but the model "
                     f'makes "frames" {manifest["frames"]}')
    if manifest.get("variable_frames") and not any(
            isinstance(item, dict) and item.get("time_axis") == 0 for item in inputs.values()):
        fail('"variable_frames" is true but no input has "time_axis": 0, so the clip length '
             "cannot be changed")


def check_model_io(manifest: dict, graph_inputs, graph_outputs, where: str | Path) -> None:
    """Raise ManifestError unless the manifest's inputs and output match the ONNX graph.

    Args:
        manifest: a manifest that passed `check_manifest`.
        graph_inputs, graph_outputs: onnxruntime `session.get_inputs()` / `get_outputs()`
            (anything with `.name`, `.type` such as "tensor(float)", and `.shape`, whose
            named or None entries are dynamic).
        where: the model file, for the message.
    """

    def fail(message: str):
        raise ManifestError(f"{where} does not match its manifest: {message}; re-run "
                            "`vidgen export`")

    graph = {arg.name: arg for arg in graph_inputs}
    inputs = manifest["inputs"]
    if set(graph) != set(inputs):
        fail(f"the model's inputs are {sorted(graph)}, the manifest's {sorted(inputs)}")
    for name, item in sorted(inputs.items()):
        arg = graph[name]
        dtype = item.get("dtype", "float32")
        if _ONNX_TYPES.get(arg.type) != dtype:
            fail(f"input {name!r} is {arg.type} in the model but {dtype!r} in the manifest")
        dims, shape = list(arg.shape or []), item["shape"]
        if len(dims) != len(shape) + 1:
            fail(f"input {name!r} has {len(dims) - 1} per-sample axes in the model but shape "
                 f"{shape} in the manifest")
        if _is_int(dims[0]):
            fail(f"input {name!r} has a fixed batch size of {dims[0]} in the model")
        for axis, (dim, size) in enumerate(zip(dims[1:], shape, strict=True)):
            if axis == 0 and item.get("time_axis") == 0:
                if _is_int(dim):
                    fail(f"input {name!r} has a fixed time axis of {dim} in the model, but the "
                         'manifest says its length can change ("time_axis": 0)')
            elif _is_int(dim) and dim != size:
                fail(f"input {name!r} has per-sample shape {_shown(dims[1:])} in the model but "
                     f"{shape} in the manifest")
    output = {arg.name: arg for arg in graph_outputs}.get(manifest["output"]["name"])
    if output is None:
        fail(f"the model has no output {manifest['output']['name']!r} (its outputs: "
             f"{sorted(arg.name for arg in graph_outputs)})")
    expected = (manifest["frames"], manifest["height"], manifest["width"], manifest["channels"])
    dims = list(output.shape or [])
    if len(dims) != 5 or any(_is_int(d) and d != e for d, e in zip(dims[2:], expected[1:],
                                                                  strict=True)):
        fail(f"output {output.name!r} has shape {_shown(dims)} in the model; the manifest says "
             f"(batch, frames, {expected[1]}, {expected[2]}, {expected[3]})")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _shown(dims) -> list:
    return [d if _is_int(d) else "?" for d in dims]


def label_input(manifest: dict) -> str | None:
    """The name of the categorical (class label) input, or None for an unconditional model."""
    for name, item in manifest["inputs"].items():
        if item["distribution"] == "categorical":
            return name
    return None
