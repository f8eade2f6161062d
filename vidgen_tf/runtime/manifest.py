"""The export manifest: what a runtime needs to know about an exported generator, and its checks.

`vidgen export` writes `manifest.json` next to `model.onnx`; `VideoGenerator` reads it back
without any Python from the training side. Numpy and the standard library only.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from vidgen_tf.errors import VidgenError

FORMAT = "vidgen_tf.export"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
ONNX_NAME = "model.onnx"
OUTPUT_LAYOUT = "(batch, frames, height, width, channels)"
_DISTRIBUTIONS = ("normal", "uniform", "categorical")


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
    for key in ("frames", "height", "width", "channels"):
        if not isinstance(manifest.get(key), int) or manifest[key] < 1:
            fail(f'"{key}" must be a positive integer, found {manifest.get(key)!r}')
    if not isinstance(manifest.get("fps"), (int, float)) or manifest["fps"] <= 0:
        fail(f'"fps" must be a positive number, found {manifest.get("fps")!r}')
    inputs = manifest.get("inputs")
    if not isinstance(inputs, dict) or not inputs:
        fail('"inputs" must be a non-empty object of named inputs')
    for name, item in inputs.items():
        if not isinstance(item, dict) or not isinstance(item.get("shape"), list):
            fail(f'input {name!r} needs a "shape" list')
        if item.get("distribution") not in _DISTRIBUTIONS:
            fail(f'input {name!r} has distribution {item.get("distribution")!r}; expected one '
                 f"of {', '.join(_DISTRIBUTIONS)}")
        if item["distribution"] == "categorical" and not (
                isinstance(item.get("num_classes"), int) and item["num_classes"] >= 1):
            fail(f'categorical input {name!r} needs "num_classes" >= 1')
    onnx = manifest.get("onnx")
    if not isinstance(onnx, dict) or not isinstance(onnx.get("sha256"), str):
        fail('"onnx" must hold the model file name and its "sha256"')
    output = manifest.get("output")
    if not isinstance(output, dict) or not isinstance(output.get("name"), str):
        fail('"output" must name the output tensor')


def label_input(manifest: dict) -> str | None:
    """The name of the categorical (class label) input, or None for an unconditional model."""
    for name, item in manifest["inputs"].items():
        if item["distribution"] == "categorical":
            return name
    return None
