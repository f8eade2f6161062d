"""The manifest's "sampling" field is the whole recipe: an app with numpy, onnxruntime and the
export's files alone (no vidgen_tf) generates the runtime's videos bit for bit; and the runtime
refuses a manifest that states a procedure it does not follow."""

from __future__ import annotations

import json
import re
import shutil
import string
from pathlib import Path

import numpy as np
import pytest

from vidgen_tf.runtime import ManifestError, VideoGenerator, load_manifest

EXPORTS = Path(__file__).resolve().parents[2] / "export"


# ---------------------------------------------------------------- an app without vidgen_tf
# Written from manifest.json (its "sampling", "inputs", "output" and graph file) and
# tokenizer.json only, as the docs tell an app to: nothing here imports vidgen_tf.


def draw_inputs(manifest: dict, num: int, seed: int, frames: int | None = None) -> dict:
    sampling = manifest["sampling"]
    assert sampling["generator"] == "numpy.random.default_rng(seed)"
    rng = np.random.default_rng(seed)
    values = {"num": num, "frames": frames or sampling["defaults"]["frames"]}
    feeds = {}
    for name in sampling["order"]:
        draw = sampling["draws"][name]
        size = tuple(values[d] if isinstance(d, str) else d for d in draw["size"])
        x = getattr(rng, draw["method"])(*draw["args"], size=size)
        assert x.dtype == draw["draw_dtype"]
        feeds[name] = x.astype(draw["dtype"])
    return feeds


def prompt_tokens(export: Path, prompt: str, num: int) -> np.ndarray:
    tok = json.loads((export / "tokenizer.json").read_text())
    ids = {word: i + 1 for i, word in enumerate(tok["vocabulary"])}
    words = re.findall(tok["pattern"], prompt.translate(
        str.maketrans(string.ascii_uppercase, string.ascii_lowercase)))
    row = np.zeros(tok["max_tokens"], np.int32)
    row[:len(words)] = [ids[w] for w in words]
    return np.repeat(row[None], num, axis=0)


def generate_by_hand(export: Path, num: int, seed: int, frames: int | None = None,
                     label: str | None = None, prompt: str | None = None,
                     first_frame: np.ndarray | None = None) -> np.ndarray:
    import onnxruntime as ort

    manifest = json.loads((export / "manifest.json").read_text())
    feeds = draw_inputs(manifest, num, seed, frames)
    roles = {item["role"]: name for name, item in manifest["sampling"]["conditions"].items()}
    inputs = manifest["inputs"]
    if label is not None:  # replaces the drawn labels (which were drawn all the same)
        name = roles["label"]
        index = inputs[name]["class_names"].index(label)
        feeds[name] = np.full(num, index, inputs[name]["dtype"])
    if prompt is not None:
        feeds[roles["text"]] = prompt_tokens(export, prompt, num)
    if first_frame is not None:  # already at the frame size: no resize
        image = first_frame.astype(np.float32) / np.float32(127.5) - np.float32(1.0)
        feeds[roles["first_frame"]] = np.repeat(image[None], num, axis=0)
    graph = (manifest["onnx"] if manifest["format_version"] == 1
             else manifest["graphs"][manifest["output"]["graph"]])
    session = ort.InferenceSession(str(export / graph["file"]),
                                   providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    video = session.run([manifest["output"]["name"]], {k: feeds[k] for k in names})[0]
    return np.clip(np.rint((video + np.float32(1)) * np.float32(127.5)), 0, 255
                   ).astype(np.uint8)


# ---------------------------------------------------------------- the tests


FIRST_FRAME = (np.arange(32 * 32 * 3).reshape(32, 32, 3) * 7 % 256).astype(np.uint8)


@pytest.mark.parametrize("name, num, seed, kwargs", [
    ("mocogan_shapes", 4, 0, {}),                        # the version-1 manifest
    ("mocogan_shapes", 3, 11, {"frames": 24}),
    ("mocogan_shapes_label", 5, 2, {}),                  # labels drawn from the seed
    ("mocogan_shapes_label", 5, 2, {"label": "circle_left"}),
    ("mocogan_shapes_text", 3, 1, {"prompt": "a red circle moves left"}),
    ("mocogan_shapes_image", 3, 4, {"first_frame": FIRST_FRAME}),
])
def test_an_app_repeats_the_shipped_exports_bit_for_bit(name, num, seed, kwargs):
    # Guards the "sampling" contract of issue 21: an app that follows the manifest gets the
    # runtime's bytes, with no guess about the generator, the draw order or the dtypes. The
    # runtime runs 2 videos per graph call, the app all at once.
    export = EXPORTS / name
    runtime = VideoGenerator(export, providers=["CPUExecutionProvider"], batch_size=2)
    got = runtime.generate(num, seed=seed, **kwargs)
    expected = generate_by_hand(export, num, seed, **kwargs)
    assert got.shape == expected.shape and got.dtype == np.uint8
    assert got.tobytes() == expected.tobytes()


def test_an_app_repeats_a_new_export_bit_for_bit(tiny_export):
    # A new export states the procedure itself (the shipped ones were refreshed).
    manifest = json.loads((tiny_export["export"] / "manifest.json").read_text())
    assert manifest["sampling"]["order"] == ["content", "motion"]
    assert manifest["sampling"]["draws"]["motion"]["size"] == ["num", "frames", 4]
    runtime = VideoGenerator(tiny_export["export"], providers=["CPUExecutionProvider"],
                             batch_size=3)
    for num, seed, frames in ((4, 0, None), (7, 5, 12)):
        expected = generate_by_hand(tiny_export["export"], num, seed, frames)
        assert runtime.generate(num, seed=seed, frames=frames).tobytes() == expected.tobytes()


def test_the_manifest_states_what_num_changes():
    # Guards the "num" sentence: the first input's rows agree across num, later ones do not.
    manifest = load_manifest(EXPORTS / "mocogan_shapes")
    assert "video 0 of a request for 4" in manifest["sampling"]["num"]
    runtime = VideoGenerator(EXPORTS / "mocogan_shapes", providers=["CPUExecutionProvider"])
    one, four = runtime.noise(1, seed=0), runtime.noise(4, seed=0)
    np.testing.assert_array_equal(one["content"][0], four["content"][0])
    assert not np.array_equal(one["motion"][0], four["motion"][0])


def test_the_shipped_manifests_state_the_procedure_as_data():
    manifest = json.loads((EXPORTS / "mocogan_shapes_label" / "manifest.json").read_text())
    sampling = manifest["sampling"]
    assert sampling["order"] == ["content", "label", "motion"]
    assert sampling["draws"]["label"] == {
        "method": "integers", "args": [0, 12], "size": ["num"], "draw_dtype": "int64",
        "dtype": "int32", "code": "rng.integers(0, 12, size=(num,)).astype('int32')"}
    assert sampling["defaults"] == {"frames": 16}
    assert sampling["conditions"]["label"]["drawn"] is True
    v1 = json.loads((EXPORTS / "mocogan_shapes" / "manifest.json").read_text())
    assert v1["format_version"] == 1 and v1["sampling"]["order"] == ["content", "motion"]


@pytest.fixture
def label_copy(tmp_path):
    return shutil.copytree(EXPORTS / "mocogan_shapes_label", tmp_path / "label")


def _edit_sampling(export: Path, edit) -> None:
    path = export / "manifest.json"
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest))


@pytest.mark.parametrize("edit, message", [
    (lambda s: s.update(generator="numpy.random.SeedSequence(seed).spawn(num)"),
     "which this vidgen_tf does not implement"),
    (lambda s: s.update(order=["motion", "label", "content"]), "sorted name order"),
    (lambda s: s["draws"]["content"].update(dtype="float16"), "the draw of 'content'"),
    (lambda s: s["draws"]["label"].update(args=[0, 11]), "the draw of 'label'"),
    (lambda s: s.update(defaults={"frames": 8}), '"defaults"'),
])
def test_a_manifest_stating_another_procedure_is_refused(label_copy, edit, message):
    # An export whose field says something this runtime would not do must not generate
    # other videos than the ones it promises.
    _edit_sampling(label_copy, lambda m: edit(m["sampling"]))
    with pytest.raises(ManifestError, match=message):
        VideoGenerator(label_copy)


def test_older_manifests_without_the_structured_field_still_load(label_copy):
    # vidgen_tf 0.1.9 wrote sentences under "sampling"; earlier exports wrote nothing. Both
    # drew the same way, and read as the structured field.
    expected = VideoGenerator(label_copy).generate(2, seed=1)
    prose = {"rng": "numpy.random.default_rng(seed)",
             "order": "the inputs that have a 'distribution', in sorted name order, each "
                      "drawn for the whole batch at once"}
    for edit in (lambda m: m.update(sampling=prose), lambda m: m.pop("sampling")):
        _edit_sampling(label_copy, edit)
        runtime = VideoGenerator(label_copy)
        assert runtime.manifest["sampling"]["order"] == ["content", "label", "motion"]
        assert runtime.generate(2, seed=1).tobytes() == expected.tobytes()
