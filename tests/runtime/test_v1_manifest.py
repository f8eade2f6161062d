"""A version-1 export (the shipped export/mocogan_shapes) is upgraded in memory and generates
exactly what its manifest and graph say: numpy draws in sorted-name order, one onnxruntime call,
round((x + 1) * 127.5) clipped."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vidgen_tf.runtime import VideoGenerator
from vidgen_tf.runtime.manifest import MAX_FRAMES_FACTOR, load_manifest

SHIPPED = Path(__file__).resolve().parents[2] / "export" / "mocogan_shapes"


def test_shipped_v1_manifest_loads_upgraded_in_memory(v1_copy):
    # Guards the upgrade: v1 fields land in the v2 schema, and the file is not rewritten.
    before = (v1_copy / "manifest.json").read_bytes()
    assert json.loads(before)["format_version"] == 1
    manifest = load_manifest(v1_copy)
    assert (manifest["format_version"], manifest["upgraded_from"]) == (2, 1)
    assert manifest["video"] == {"frames": 16, "height": 32, "width": 32, "channels": 3,
                                 "fps": 8.0}
    assert manifest["dims"]["frames"] == {"default": 16, "min": 1,
                                          "max": MAX_FRAMES_FACTOR * 16}
    assert manifest["inputs"] == {
        "content": {"role": "noise", "shape": [50], "dtype": "float32",
                    "distribution": "normal"},
        "motion": {"role": "noise", "shape": ["frames", 10], "dtype": "float32",
                   "distribution": "normal"}}
    graph = manifest["graphs"]["generator"]
    assert graph["file"] == "model.onnx" and graph["sha256"] == json.loads(before)["onnx"][
        "sha256"]
    assert manifest["sampler"] == {"name": "single_pass",
                                   "params": {"graph": "generator", "output": "video"}}
    generator = VideoGenerator(v1_copy)
    assert generator.conditions == () and generator.frames == 16
    assert (v1_copy / "manifest.json").read_bytes() == before


def _by_hand(num: int, seed: int, frames: int) -> np.ndarray:
    """What the manifest promises, computed without vidgen_tf: numpy draws for "content" then
    "motion" (sorted names), onnxruntime on model.onnx, then round((x + 1) * 127.5) clipped."""
    import onnxruntime as ort

    rng = np.random.default_rng(seed)
    feeds = {"content": rng.standard_normal((num, 50)).astype(np.float32),
             "motion": rng.standard_normal((num, frames, 10)).astype(np.float32)}
    session = ort.InferenceSession(str(SHIPPED / "model.onnx"),
                                   providers=["CPUExecutionProvider"])
    x = session.run(["video"], feeds)[0]
    assert x.shape == (num, frames, 32, 32, 3)
    assert x.dtype == np.float32  # the manifest's output dtype: the arithmetic stays float32
    return np.clip(np.rint((x + np.float32(1)) * np.float32(127.5)), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("frames", [None, 24])
def test_v1_export_generates_the_bytes_its_manifest_describes(frames):
    # Guards the noise contract of old exports: draw order ("content" (4, 50) before "motion"
    # (4, frames, 10)), dtypes, the clip length on the time axis, and the uint8 conversion.
    generator = VideoGenerator(SHIPPED, providers=["CPUExecutionProvider"])
    got = generator.generate(4, seed=0, frames=frames)
    expected = _by_hand(4, 0, frames or 16)
    assert got.dtype == np.uint8 and got.shape == expected.shape
    assert got.tobytes() == expected.tobytes()
