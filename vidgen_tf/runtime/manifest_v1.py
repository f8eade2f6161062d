"""Version-1 manifests (vidgen_tf 0.1.x: one "onnx" graph, noise and category inputs): their
checks, kept so that old exports fail as they did, and their upgrade to version 2 in memory."""

from __future__ import annotations

import copy

from vidgen_tf.runtime.manifest import (
    _DTYPES,
    DISTRIBUTIONS,
    FORMAT,
    MAX_FRAMES_FACTOR,
    ONNX_NAME,
    _check_fps,
    _is_int,
    _plain_name,
)


def check_v1(manifest: dict, fail) -> None:
    """The checks of the version-1 reader, kept so that old exports fail as they did."""
    if not isinstance(manifest.get("name"), str):
        fail(f'"name" must be a string, found {manifest.get("name")!r}')
    for key in ("frames", "height", "width", "channels"):
        if not _is_int(manifest.get(key)) or manifest[key] < 1:
            fail(f'"{key}" must be a positive integer, found {manifest.get(key)!r}')
    _check_fps(manifest.get("fps"), fail)
    if not isinstance(manifest.get("variable_frames", False), bool):
        fail(f'"variable_frames" must be true or false, found {manifest["variable_frames"]!r}')
    names = manifest.get("class_names")
    if names is not None and not (isinstance(names, list)
                                  and all(isinstance(n, str) for n in names)):
        fail(f'"class_names" must be a list of strings, found {names!r}')
    inputs = manifest.get("inputs")
    if not isinstance(inputs, dict) or not inputs:
        fail('"inputs" must be a non-empty object of named inputs')
    for name, item in inputs.items():
        shape = item.get("shape") if isinstance(item, dict) else None
        if not isinstance(shape, list) or not all(_is_int(d) and d >= 1 for d in shape):
            fail(f'input {name!r} needs a "shape" list of positive integers (the per-sample '
                 f"shape), found {shape!r}")
        if item.get("distribution") not in DISTRIBUTIONS:
            fail(f'input {name!r} has distribution {item.get("distribution")!r}; expected one '
                 f"of {', '.join(DISTRIBUTIONS)}")
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
    onnx = manifest.get("onnx")
    if not isinstance(onnx, dict) or not isinstance(onnx.get("sha256"), str):
        fail('"onnx" must hold the model file name and its "sha256"')
    if not _plain_name(onnx.get("file", ONNX_NAME)):
        fail(f'"onnx": "file" must be the name of the model file next to the manifest, found '
             f"{onnx.get('file', ONNX_NAME)!r}")
    output = manifest.get("output")
    if not isinstance(output, dict) or not isinstance(output.get("name"), str):
        fail('"output" must name the output tensor')


def upgrade_v1(manifest: dict) -> dict:
    """A checked version-1 manifest as version 2, in memory. Its inputs keep their names and
    order, so a seed draws the same noise and the export generates the same bytes."""
    m = copy.deepcopy(manifest)
    frames = m["frames"]
    variable = bool(m.get("variable_frames"))
    inputs = {}
    for name, item in m["inputs"].items():
        shape = list(item["shape"])
        if item.get("time_axis") == 0:
            shape[0] = "frames"
        new = {"role": "label" if item["distribution"] == "categorical" else "noise",
               "shape": shape, "dtype": item.get("dtype", "float32"),
               "distribution": item["distribution"]}
        if new["role"] == "label":
            new.update(num_classes=item["num_classes"], class_names=m.get("class_names") or [],
                       optional=True)
        inputs[name] = new
    onnx = m["onnx"]
    out = m["output"]["name"]
    graph = {k: v for k, v in onnx.items() if k != "file"}
    graph.update(file=onnx.get("file", ONNX_NAME),
                 inputs={n: ["batch", *item["shape"]] for n, item in inputs.items()},
                 outputs={out: ["batch", "frames", m["height"], m["width"], m["channels"]]})
    return {
        "format": FORMAT, "format_version": 2, "upgraded_from": 1,
        "name": m["name"], "family": m.get("family"), "task": "generation",
        "video": {"frames": frames, "height": m["height"], "width": m["width"],
                  "channels": m["channels"], "fps": m["fps"]},
        "dims": {"frames": {"default": frames, "min": 1 if variable else frames,
                            "max": MAX_FRAMES_FACTOR * frames if variable else frames}},
        "inputs": inputs,
        "graphs": {"generator": graph},
        "sampler": {"name": "single_pass", "params": {"graph": "generator", "output": out}},
        "sampling": m.get("sampling"),  # checked (or filled in) by check_manifest
        "assets": {},
        "output": {**m["output"], "graph": "generator"},
        "parity": m.get("parity", {}),
        "provenance": m.get("provenance", {}),
        "generator": m.get("generator"), "generator_config": m.get("generator_config"),
    }
