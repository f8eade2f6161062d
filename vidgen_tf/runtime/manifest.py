"""The export manifest, version 2: what a TensorFlow-free app needs to run an export, and its
checks. Numpy and the standard library only: the exporter writes it, the runtime reads it.

`vidgen export` writes `manifest.json` beside the graphs (`*.onnx`) and assets (such as
`tokenizer.json`). Version 2 holds:

- "video": the clip it makes (frames, height, width, channels, fps);
- "dims": the named dimensions that input and graph shapes use, with their bounds
  ("frames": default, min, max; "tokens": max);
- "inputs": every input with its "role" (noise, label, text, first_frame, context, actions,
  source), per-sample "shape" (integers and dimension names), "dtype" and "optional";
  noise inputs carry their "distribution";
- "graphs": each graph's file, sha256 and named inputs and outputs;
- "sampler": the numpy sampler (`vidgen_tf.runtime.samplers`) that drives the graphs, and
  its parameters;
- "sampling": how the inputs are drawn from a seed, as data (`vidgen_tf.runtime.sampling`):
  the generator, the draw order, each draw's numpy call, size and dtype, so that another app
  repeats a seed's videos bit for bit;
- "assets": other files (a tokenizer vocabulary) with their sha256;
- "parity": the figures the export was checked to, and "provenance".

A version-1 manifest (vidgen_tf 0.1.x: one "onnx" graph, noise and category inputs) is
upgraded in memory by `upgrade_v1`; it generates exactly what it did before.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

from vidgen_tf.data.video_io import FPS_RANGES
from vidgen_tf.errors import VidgenError
from vidgen_tf.runtime.samplers import predicts_any_length
from vidgen_tf.runtime.sampling import read_sampling

FORMAT = "vidgen_tf.export"
FORMAT_VERSION = 2
SUPPORTED_VERSIONS = (1, 2)
MANIFEST_NAME = "manifest.json"
ONNX_NAME = "model.onnx"
OUTPUT_LAYOUT = "(batch, frames, height, width, channels)"
ROLES = ("noise", "label", "text", "first_frame", "context", "actions", "source")
CONDITION_ROLES = ROLES[1:]
DISTRIBUTIONS = ("normal", "uniform", "categorical")
_DTYPES = ("float16", "float32", "float64", "int32", "int64")
# The fps a video file can hold in at least one format `vidgen generate` writes.
MIN_FPS = min(low for low, _ in FPS_RANGES.values())
MAX_FPS = max(high for _, high in FPS_RANGES.values())
# A variable-length model generates at most this many times its trained clip length.
MAX_FRAMES_FACTOR = 16
# onnxruntime's names of the tensor types in `_DTYPES`.
_ONNX_TYPES = {"tensor(float16)": "float16", "tensor(float)": "float32",
               "tensor(double)": "float64", "tensor(int32)": "int32", "tensor(int64)": "int64"}


class ManifestError(VidgenError):
    """An export directory whose manifest, graphs or assets cannot be used."""


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_manifest(export_dir: str | Path) -> dict:
    """Read, check and (version 1) upgrade `export_dir/manifest.json` to version 2.

    ManifestError says what is wrong. The graphs' and assets' hashes are checked by
    `check_files`.
    """
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
    return check_manifest(manifest, path)


def check_manifest(manifest, where: str | Path = MANIFEST_NAME) -> dict:
    """The manifest as version 2 (upgraded from version 1), with its "sampling" as the
    structured field (`vidgen_tf.runtime.sampling.read_sampling`); ManifestError naming the
    first missing or malformed field. Whether "sampling" states the draws of the inputs is
    checked by `sampling.check_sampling`, after the graphs (`check_graph_io`)."""

    def fail(message: str):
        raise ManifestError(f"{where}: {message}; re-run `vidgen export`")

    if not isinstance(manifest, dict):
        fail(f"expected a JSON object, found {type(manifest).__name__}")
    if manifest.get("format") != FORMAT:
        fail(f'"format" must be {FORMAT!r}, found {manifest.get("format")!r}')
    version = manifest.get("format_version")
    if version not in SUPPORTED_VERSIONS:
        fail(f'"format_version" {version!r} is not supported by this runtime (it reads '
             f"versions {', '.join(map(str, SUPPORTED_VERSIONS))}); upgrade vidgen_tf, or")
    if version == 1:
        from vidgen_tf.runtime.manifest_v1 import check_v1, upgrade_v1

        check_v1(manifest, fail)
        manifest = upgrade_v1(manifest)
    _check_v2(manifest, fail)
    return {**manifest, "sampling": read_sampling(manifest, fail)}


# --------------------------------------------------------------------------- version 2


def _check_v2(m: dict, fail) -> None:
    if not isinstance(m.get("name"), str):
        fail(f'"name" must be a string, found {m.get("name")!r}')
    video = m.get("video")
    if not isinstance(video, dict):
        fail('"video" must describe the clip (frames, height, width, channels, fps)')
    for key in ("frames", "height", "width", "channels"):
        if not _is_int(video.get(key)) or video[key] < 1:
            fail(f'"video": "{key}" must be a positive integer, found {video.get(key)!r}')
    _check_fps(video.get("fps"), fail)
    dims = m.get("dims", {})
    if not isinstance(dims, dict):
        fail(f'"dims" must be an object of named dimensions, found {dims!r}')
    for name, bounds in dims.items():
        if not isinstance(bounds, dict) or not all(
                _is_int(bounds.get(k)) and bounds[k] >= 1 for k in ("min", "max")) or (
                bounds["min"] > bounds["max"]):
            fail(f'dimension {name!r} needs integer bounds "min" <= "max", found {bounds!r}')
    if "frames" in dims and not (dims["frames"]["min"] <= video["frames"]
                                 <= dims["frames"]["max"]):
        fail(f'"video": "frames" {video["frames"]} is outside the bounds of dimension "frames"')
    assets = m.get("assets", {})
    if not isinstance(assets, dict) or not all(
            _plain_name(k) and isinstance(v, dict) and isinstance(v.get("sha256"), str)
            for k, v in assets.items()):
        fail('"assets" must map file names next to the manifest to {"sha256": ...}')
    _check_inputs(m, dims, assets, fail)
    graphs = m.get("graphs")
    if not isinstance(graphs, dict) or not graphs:
        fail('"graphs" must name at least one graph')
    for name, graph in graphs.items():
        if not isinstance(graph, dict) or not isinstance(graph.get("sha256"), str):
            fail(f'graph {name!r} must hold its file name and "sha256"')
        if not _plain_name(graph.get("file")):
            fail(f'graph {name!r}: "file" must be the name of the model file next to the '
                 f"manifest, found {graph.get('file')!r}")
        for side in ("inputs", "outputs"):
            if not isinstance(graph.get(side), dict) or not graph[side]:
                fail(f'graph {name!r} must list its "{side}" with their shapes')
            for io_name, shape in graph[side].items():
                _check_shape(shape, dims, f"graph {name!r} {side[:-1]} {io_name!r}", fail,
                             batch=True)
    sampler = m.get("sampler")
    if not isinstance(sampler, dict) or not isinstance(sampler.get("name"), str) or (
            not isinstance(sampler.get("params", {}), dict)):
        fail('"sampler" must name the sampler and hold its "params"')
    output = m.get("output")
    if not isinstance(output, dict) or not isinstance(output.get("name"), str):
        fail('"output" must name the output tensor')
    graph = graphs.get(output.get("graph", next(iter(graphs))))
    shape = (graph or {}).get("outputs", {}).get(output["name"])
    if shape is None:
        fail(f'"output" names {output["name"]!r} of graph {output.get("graph")!r}, which the '
             "graphs do not list")
    expected = [video["height"], video["width"], video["channels"]]
    if predicts_any_length(sampler["name"]):  # a step graph's output is one frame, stacked
        shape = [shape[0], "frames", *shape[1:]]
    if len(shape) != 5 or shape[2:] != expected:
        fail(f"the output {output['name']!r} has shape {shape} but \"video\" says (batch, "
             f"frames, {', '.join(map(str, expected))})")


def _check_fps(fps, fail) -> None:
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps < math.inf:
        fail(f'"fps" must be a positive number, found {fps!r}')
    if not MIN_FPS <= fps <= MAX_FPS:
        fail(f'"fps" must be between {MIN_FPS:g} and {MAX_FPS:g} (what a video file can hold), '
             f"found {fps!r}")


def _check_inputs(m: dict, dims: dict, assets: dict, fail) -> None:
    inputs = m.get("inputs")
    if not isinstance(inputs, dict) or not inputs:
        fail('"inputs" must be a non-empty object of named inputs')
    for name, item in inputs.items():
        if not isinstance(item, dict):
            fail(f"input {name!r} must be an object")
        role = item.get("role")
        if role not in ROLES:
            fail(f"input {name!r} has role {role!r}; expected one of {', '.join(ROLES)}")
        shape = item.get("shape")
        _check_shape(shape, dims, f"input {name!r}", fail)
        dtype = item.get("dtype", "float32")
        if dtype not in _DTYPES:
            fail(f'input {name!r} has dtype {dtype!r}; expected one of {", ".join(_DTYPES)}')
        if not isinstance(item.get("optional", False), bool):
            fail(f'input {name!r}: "optional" must be true or false')
        distribution = item.get("distribution")
        if role == "noise" and distribution not in ("normal", "uniform"):
            fail(f"noise input {name!r} has distribution {distribution!r}; expected normal "
                 "or uniform")
        if distribution is not None and distribution not in DISTRIBUTIONS:
            fail(f"input {name!r} has distribution {distribution!r}; expected one of "
                 f"{', '.join(DISTRIBUTIONS)}")
        if role == "label":
            if not (_is_int(item.get("num_classes")) and item["num_classes"] >= 1):
                fail(f'label input {name!r} needs "num_classes" >= 1')
            if shape or not dtype.startswith("int"):
                fail(f"label input {name!r} must be one integer per sample (shape [], an int "
                     f"dtype), found shape {shape} and dtype {dtype!r}")
            names = item.get("class_names", [])
            if not (isinstance(names, list) and all(isinstance(n, str) for n in names)) or (
                    names and len(names) != item["num_classes"]):
                fail(f'label input {name!r}: "class_names" must be a list of '
                     f'{item["num_classes"]} strings, found {names!r}')
        if role == "text" and item.get("tokenizer") not in assets:
            fail(f'text input {name!r} needs a "tokenizer" listed in "assets", found '
                 f"{item.get('tokenizer')!r}")
        if role == "actions":
            names = item.get("action_names")
            if not (isinstance(names, list) and len(names) >= 2
                    and all(isinstance(n, str) and n for n in names)
                    and len(set(names)) == len(names)):
                fail(f'actions input {name!r} needs "action_names", a list of at least 2 '
                     f"distinct names, found {names!r}")
            if shape != ["frames"] or not dtype.startswith("int"):
                fail(f'actions input {name!r} must be one integer per frame (shape ["frames"], '
                     f"an int dtype), found shape {shape} and dtype {dtype!r}")
        if role == "first_frame" and not (len(shape) == 3 and all(map(_is_int, shape))):
            fail(f"first_frame input {name!r} needs a shape [height, width, channels], found "
                 f"{shape!r}")


def _check_shape(shape, dims: dict, what: str, fail, batch: bool = False) -> None:
    """A shape is a list of positive integers and names of dimensions in "dims" (and, for a
    graph's inputs and outputs, "batch")."""
    known = set(dims) | ({"batch"} if batch else set())
    if not isinstance(shape, list) or not all(
            (_is_int(d) and d >= 1) or (isinstance(d, str) and d in known) for d in shape):
        fail(f'{what} needs a "shape" list of positive integers and dimension names '
             f"({', '.join(sorted(known)) or 'none declared'}), found {shape!r}")


# --------------------------------------------------------------------------- files and graphs


def check_files(manifest: dict, export_dir: str | Path) -> None:
    """Every graph and asset the manifest lists is there, with its sha256."""
    export_dir = Path(export_dir)
    files = [(f"graph {name!r}", g["file"], g["sha256"]) for name, g in
             manifest["graphs"].items()]
    files += [("asset", name, a["sha256"]) for name, a in manifest.get("assets", {}).items()]
    for what, name, expected in files:
        path = export_dir / name
        if not path.is_file():
            raise ManifestError(f"{path} is missing ({what} of the manifest): the export is "
                                "incomplete; re-run `vidgen export`")
        digest = file_sha256(path)
        if digest != expected:
            raise ManifestError(f"{path} does not match its manifest (sha256 {digest[:12]}"
                                f"... != {expected[:12]}...): the file was changed or damaged; "
                                "re-run `vidgen export`")


def check_graph_io(manifest: dict, graph_name: str, graph_inputs, graph_outputs,
                   where: str | Path) -> None:
    """Raise ManifestError unless a graph's inputs and outputs match the manifest.

    Args:
        manifest: a version-2 manifest that passed `check_manifest`.
        graph_name: the graph's key in "graphs".
        graph_inputs, graph_outputs: onnxruntime `session.get_inputs()` / `get_outputs()`
            (anything with `.name`, `.type` such as "tensor(float)", and `.shape`, whose
            named or None entries are dynamic).
        where: the model file, for the message.
    """

    def fail(message: str):
        raise ManifestError(f"{where} does not match its manifest: {message}; re-run "
                            "`vidgen export`")

    spec = manifest["graphs"][graph_name]
    graph = {arg.name: arg for arg in graph_inputs}
    if set(graph) != set(spec["inputs"]):
        fail(f"the model's inputs are {sorted(graph)}, the manifest's {sorted(spec['inputs'])}")
    inputs = manifest["inputs"]
    for name, declared in sorted(spec["inputs"].items()):
        arg = graph[name]
        dtype = inputs[name].get("dtype", "float32") if name in inputs else None
        if dtype is not None and _ONNX_TYPES.get(arg.type) != dtype:
            fail(f"input {name!r} is {arg.type} in the model but {dtype!r} in the manifest")
        if name in inputs and declared[1:] != inputs[name]["shape"]:
            fail(f"graph input {name!r} has shape {declared[1:]} but the input {name!r} "
                 f"{inputs[name]['shape']}")
        _check_dims(name, list(arg.shape or []), declared, manifest["dims"], fail)
    outputs = {arg.name: arg for arg in graph_outputs}
    for name, declared in spec["outputs"].items():
        if name not in outputs:
            fail(f"the model has no output {name!r} (its outputs: {sorted(outputs)})")
        _check_dims(name, list(outputs[name].shape or []), declared, manifest["dims"], fail,
                    output=True)


def _check_dims(name: str, dims: list, declared: list, named: dict, fail,
                output: bool = False) -> None:
    kind = "output" if output else "input"
    if len(dims) != len(declared):
        fail(f"{kind} {name!r} has {len(dims) - 1} per-sample axes in the model but shape "
             f"{declared[1:]} in the manifest")
    if _is_int(dims[0]):
        fail(f"{kind} {name!r} has a fixed batch size of {dims[0]} in the model")
    for dim, want in zip(dims[1:], declared[1:], strict=True):
        if isinstance(want, str):
            bounds = named.get(want, {})
            if _is_int(dim) and bounds.get("min") != bounds.get("max"):
                fail(f"{kind} {name!r} has a fixed axis of {dim} in the model, but the "
                     f"manifest lets its {want!r} axis change")
        elif _is_int(dim) and dim != want:
            fail(f"{kind} {name!r} has per-sample shape {_shown(dims[1:])} in the model but "
                 f"{declared[1:]} in the manifest")


# --------------------------------------------------------------------------- queries


def condition_inputs(manifest: dict) -> dict[str, dict]:
    """{input name: item} of the inputs that are not noise."""
    return {name: item for name, item in manifest["inputs"].items() if item["role"] != "noise"}


def label_input(manifest: dict) -> str | None:
    """The name of the class-label input, or None for a model that takes no label."""
    for name, item in manifest["inputs"].items():
        if item["role"] == "label":
            return name
    return None


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _plain_name(name) -> bool:
    return isinstance(name, str) and bool(name) and Path(name).name == name and name != ".."


def _shown(dims) -> list:
    return [d if _is_int(d) else "?" for d in dims]
