"""Conditional exports in the runtime and `vidgen generate`: prompts, first frames and labels,
what an export refuses, a damaged tokenizer asset, one-line CLI errors, and provenance."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.test_case import encode_with_pyav, moving_bar_video, one_line_error, run_cli
from vidgen_tf import __version__
from vidgen_tf.data.pixels import uint8_to_float
from vidgen_tf.data.shapes import HELD_OUT_CAPTIONS
from vidgen_tf.data.video_io import read_video, read_video_metadata
from vidgen_tf.runtime import ManifestError, VideoGenerator
from vidgen_tf.runtime.manifest import file_sha256
from vidgen_tf.runtime.tokenizer import WordTokenizer

SHIPPED = Path(__file__).resolve().parents[2] / "export" / "mocogan_shapes"
RED_CIRCLE = "a red circle moves left"
BLUE_SQUARE = "a blue square moves up"
SHAPE = (8, 16, 16, 3)  # the tiny preset's clips


def image(seed: int, height: int = 16, width: int = 16) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def text_gen(tiny_text_export):
    return VideoGenerator(tiny_text_export["export"])


@pytest.fixture(scope="module")
def frame_gen(tiny_first_frame_export):
    return VideoGenerator(tiny_first_frame_export["export"])


@pytest.fixture(scope="module")
def label_gen(tiny_label_export):
    return VideoGenerator(tiny_label_export["export"])


# --------------------------------------------------------------------------- the runtime


def test_conditions_property_says_what_each_export_takes(text_gen, frame_gen, label_gen,
                                                         tiny_export):
    # Guards the manifest's input roles as an app sees them.
    assert text_gen.conditions == ("text",)
    assert frame_gen.conditions == ("first_frame",)
    assert label_gen.conditions == ("label",)
    assert label_gen.num_classes == 12 and len(label_gen.class_names) == 12
    assert VideoGenerator(tiny_export["export"]).conditions == ()
    assert VideoGenerator(SHIPPED).conditions == ()


def test_text_export_ships_its_tokenizer(tiny_text_export, text_gen):
    # Guards the asset: the tokenizer of the run (trained captions only), hashed in the manifest.
    manifest, export = tiny_text_export["manifest"], tiny_text_export["export"]
    assert manifest["assets"]["tokenizer.json"]["sha256"] == file_sha256(export /
                                                                         "tokenizer.json")
    assert manifest["inputs"]["prompt_tokens"]["tokenizer"] == "tokenizer.json"
    assert manifest["dims"]["tokens"] == {"min": 1, "max": 5}
    assert manifest["conditioning"]["held_out_captions"] == list(HELD_OUT_CAPTIONS)
    assert text_gen.tokenizer.max_tokens == 5 and len(text_gen.tokenizer.vocabulary) == 18


def test_prompt_same_seed_same_bytes_and_different_prompts_differ(text_gen):
    # Guards determinism by (prompt, seed) and that the prompt reaches the graph.
    a = text_gen.generate(2, seed=5, prompt=RED_CIRCLE)
    assert a.shape == (2, *SHAPE) and a.dtype == np.uint8
    assert a.tobytes() == text_gen.generate(2, seed=5, prompt=RED_CIRCLE).tobytes()
    b = text_gen.generate(2, seed=5, prompt=BLUE_SQUARE)
    assert np.abs(a.astype(int) - b).max() > 0
    # Case and punctuation are not words: the same ids, the same bytes.
    assert text_gen.generate(2, seed=5, prompt="A RED circle, moves LEFT!").tobytes() == \
        a.tobytes()
    # One prompt per video: video i is made from prompt i and noise i.
    both = text_gen.generate(2, seed=5, prompt=[BLUE_SQUARE, RED_CIRCLE])
    np.testing.assert_array_equal(both[0], b[0])
    np.testing.assert_array_equal(both[1], a[1])


def test_prompt_tokens_are_the_tokenizers(text_gen):
    # Guards the feed: the runtime gives the graph the tokenizer's ids, padded to max_tokens.
    feeds = text_gen.inputs(3, seed=0, prompt="a magenta triangle moves up")  # held out
    assert set(feeds) == {"content", "motion", "prompt_tokens"}
    expected = WordTokenizer(text_gen.tokenizer.vocabulary, 5).encode(
        ["a magenta triangle moves up"] * 3)
    np.testing.assert_array_equal(feeds["prompt_tokens"], expected)
    assert feeds["prompt_tokens"].dtype == np.int32


def test_unknown_word_is_a_value_error_naming_it(text_gen):
    # Guards against a prompt silently losing a word the model never learned.
    with pytest.raises(ValueError, match=r"the word 'purple', which the model never saw"):
        text_gen.generate(1, seed=0, prompt="a purple circle moves left")
    with pytest.raises(ValueError, match=r"one text or one per video \(3\); received 2"):
        text_gen.generate(3, seed=0, prompt=[RED_CIRCLE, BLUE_SQUARE])


def test_first_frame_steers_and_is_fed_as_the_datasets_do(frame_gen):
    # Guards the first-frame condition: determinism, effect, and its preprocessing
    # (uint8 -> [-1, 1], resized and center-cropped to the frame size).
    one, two = image(1), image(2)
    a = frame_gen.generate(2, seed=3, first_frame=one)
    assert a.shape == (2, *SHAPE)
    assert a.tobytes() == frame_gen.generate(2, seed=3, first_frame=one).tobytes()
    assert np.abs(a.astype(int) - frame_gen.generate(2, seed=3, first_frame=two)).max() > 0
    feeds = frame_gen.inputs(2, seed=3, first_frame=one)
    np.testing.assert_array_equal(feeds["first_frame"],
                                  np.repeat(one[None] / np.float32(127.5) - 1, 2, axis=0))
    # A larger image is resized (shorter side) then center-cropped: 32x48 -> 16x24 -> 16x16.
    wide = np.repeat(np.repeat(image(4, 16, 24), 2, axis=0), 2, axis=1)
    resized = frame_gen.inputs(1, seed=3, first_frame=wide)["first_frame"][0]
    np.testing.assert_allclose(resized, uint8_to_float(wide[::2, 8:40:2]), atol=2 / 127.5)
    with pytest.raises(ValueError, match=r"first_frame must be a uint8 RGB image"):
        frame_gen.generate(1, seed=0, first_frame=one.astype(np.float32))


def test_label_steers_and_is_optional(label_gen):
    # Guards the label condition: ids and names agree, labels differ, and without one the
    # label is drawn from the seed (the manifest marks it optional).
    a = label_gen.generate(2, seed=1, label=3)
    assert a.tobytes() == label_gen.generate(2, seed=1, label=label_gen.class_names[3]).tobytes()
    assert np.abs(a.astype(int) - label_gen.generate(2, seed=1, label=4)).max() > 0
    assert label_gen.manifest["inputs"]["label"]["optional"] is True
    drawn = label_gen.noise(2, seed=1)["label"]
    np.testing.assert_array_equal(drawn, label_gen.noise(2, seed=1)["label"])
    assert label_gen.generate(2, seed=1).shape == (2, *SHAPE)
    with pytest.raises(ValueError, match=r"label must be in \[0, 11\]"):
        label_gen.generate(1, seed=0, label=12)


def test_a_label_means_one_class_by_name_or_by_hash_index(tiny_label_export):
    # Guards against the ambiguity of class folders class_0, class_1, class_3, ...: "class_3"
    # is the class of that name (index 2), "#3" is index 3, and a bare "3" is refused with
    # both forms named instead of silently meaning one of them.
    gen = VideoGenerator(tiny_label_export["export"])
    names = [f"class_{i}" for i in range(13) if i != 2]
    gen.manifest["inputs"]["label"]["class_names"] = names
    by_name = gen.noise(1, seed=0, label="class_3")["label"]
    assert by_name.tolist() == [2] == gen.noise(1, seed=0, label=2)["label"].tolist()
    assert gen.noise(1, seed=0, label="#3")["label"].tolist() == [3]
    with pytest.raises(ValueError, match=r"unknown label '3'; a label is a class name "
                                         r"\(class_0, class_1, class_3, .*\) or #INDEX "
                                         r"for a class index in \[0, 11\]"):
        gen.noise(1, seed=0, label="3")
    with pytest.raises(ValueError, match=r"label must be in \[0, 11\]"):
        gen.noise(1, seed=0, label="#12")


def test_a_given_label_replaces_the_drawn_one_and_keeps_the_noise(label_gen):
    # Guards the manifest's "sampling" contract (the label is drawn in "order" even when it
    # is given, which then replaces the draw): giving the label the seed would have drawn
    # changes nothing, so an app that follows the manifest draws the same noise.
    sampling = label_gen.manifest["sampling"]
    assert sampling["order"] == ["content", "label", "motion"]
    assert sampling["conditions"]["label"]["drawn"] is True
    assert "still drawn" in sampling["conditions"]["label"]["how"]
    drawn = label_gen.noise(2, seed=1)
    given = label_gen.noise(2, seed=1, label=list(drawn["label"]))
    np.testing.assert_array_equal(given["motion"], drawn["motion"])
    np.testing.assert_array_equal(label_gen.generate(2, seed=1),
                                  label_gen.generate(2, seed=1, label=list(drawn["label"])))


@pytest.mark.parametrize("export, kwargs, message", [
    ("text", {"first_frame": image(1)},
     r"does not take first_frame= \(--first-frame\); it takes prompt= \(--prompt\)"),
    ("text", {"prompt": RED_CIRCLE, "label": 2},
     r"does not take label= \(--label\); it takes prompt= \(--prompt\)"),
    ("first_frame", {"prompt": RED_CIRCLE},
     r"does not take prompt= \(--prompt\); it takes first_frame= \(--first-frame\)"),
    ("label", {"prompt": RED_CIRCLE}, r"does not take prompt= \(--prompt\); it takes label="),
    ("shipped", {"prompt": RED_CIRCLE},
     r"does not take prompt= \(--prompt\); it takes no condition \(it is unconditional\)"),
])
def test_a_condition_the_export_does_not_take_names_what_it_takes(export, kwargs, message,
                                                                  request):
    # Guards against a condition being silently ignored.
    gen = VideoGenerator(SHIPPED) if export == "shipped" else request.getfixturevalue(
        {"text": "text_gen", "first_frame": "frame_gen", "label": "label_gen"}[export])
    with pytest.raises(ValueError, match=message):
        gen.generate(1, seed=0, **kwargs)


def test_a_missing_required_condition_is_an_error(text_gen, frame_gen):
    # Guards against generating from an all-padding prompt or a missing frame.
    with pytest.raises(ValueError, match=r"needs prompt= \(--prompt\)"):
        text_gen.generate(1, seed=0)
    with pytest.raises(ValueError, match=r"needs first_frame= \(--first-frame\)"):
        frame_gen.generate(1, seed=0)


def test_a_missing_or_altered_tokenizer_is_a_manifest_error(tiny_text_export, tmp_path):
    # Guards the asset check: a prompt must never be encoded with another vocabulary.
    missing = shutil.copytree(tiny_text_export["export"], tmp_path / "missing")
    (missing / "tokenizer.json").unlink()
    with pytest.raises(ManifestError, match=r"tokenizer.json is missing \(asset of the manifest"):
        VideoGenerator(missing)
    altered = shutil.copytree(tiny_text_export["export"], tmp_path / "altered")
    data = json.loads((altered / "tokenizer.json").read_text())
    data["vocabulary"][0], data["vocabulary"][1] = data["vocabulary"][1], data["vocabulary"][0]
    (altered / "tokenizer.json").write_text(json.dumps(data, indent=1))
    with pytest.raises(ManifestError, match=r"tokenizer.json does not match its manifest"):
        VideoGenerator(altered)
    # A tokenizer that matches its (re-hashed) manifest but cannot be read.
    broken = shutil.copytree(tiny_text_export["export"], tmp_path / "broken")
    (broken / "tokenizer.json").write_text(json.dumps({**data, "pattern": r"\w+"}))
    manifest = json.loads((broken / "manifest.json").read_text())
    manifest["assets"]["tokenizer.json"]["sha256"] = file_sha256(broken / "tokenizer.json")
    (broken / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ManifestError, match=r"is not a usable tokenizer \(the tokenizer splits "
                                            r"words differently"):
        VideoGenerator(broken)


# --------------------------------------------------------------------------- the CLI


def generate_cli(export, out, *args):
    return run_cli("generate", str(export), "--num", "2", "--seed", "3", "--out", str(out),
                   "--provider", "CPUExecutionProvider", *args)


def test_cli_prompt_writes_what_the_runtime_generates(tiny_text_export, text_gen, tmp_path):
    # Guards `--prompt`: the CLI passes the prompt and seed through unchanged.
    result = generate_cli(tiny_text_export["export"], tmp_path / "v.npy", "--prompt", RED_CIRCLE)
    assert result.returncode == 0, result.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "v.npy"),
                                  text_gen.generate(2, seed=3, prompt=RED_CIRCLE))


def test_cli_first_frame_from_a_png(tiny_first_frame_export, frame_gen, tmp_path):
    # Guards `--first-frame FILE.png`: a lossless image (written by PyAV, not vidgen_tf) is
    # used as it is, resized by the runtime like any image.
    picture = image(6, 20, 24)
    png = encode_with_pyav(tmp_path / "start.png", picture[None], "png", pix_fmt="rgb24",
                           fmt="image2")
    result = generate_cli(tiny_first_frame_export["export"], tmp_path / "v.npy",
                          "--first-frame", str(png))
    assert result.returncode == 0, result.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "v.npy"),
                                  frame_gen.generate(2, seed=3, first_frame=picture))


def test_cli_first_frame_of_a_video(tiny_first_frame_export, frame_gen, tmp_path):
    # Guards `--first-frame FILE.mp4`: the video's first frame is used, not another one.
    bar = moving_bar_video(frames=12)
    mp4 = encode_with_pyav(tmp_path / "start.mp4", bar, "libx264")
    decoded = read_video(mp4)
    assert np.abs(decoded[0].astype(int) - bar[0]).mean() < 3  # lossy, but frame 0
    result = generate_cli(tiny_first_frame_export["export"], tmp_path / "v.npy",
                          "--first-frame", str(mp4))
    assert result.returncode == 0, result.stderr
    got = np.load(tmp_path / "v.npy")
    np.testing.assert_array_equal(got, frame_gen.generate(2, seed=3, first_frame=decoded[0]))
    assert np.abs(got.astype(int) - frame_gen.generate(2, seed=3, first_frame=decoded[-1])
                  ).max() > 0


@pytest.fixture(scope="module")
def bad_first_frames(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad_first_frames")
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.png").write_text("this is not an image\n" * 20)
    return folder


@pytest.mark.parametrize("case, args, fragment", [
    ("text", ["--prompt", "a purple circle moves left"], "the word 'purple'"),
    ("text", ["--prompt", "a red circle moves left left"], "has 6 words"),
    ("text", [], "needs prompt= (--prompt)"),
    ("first_frame", ["--first-frame", "{bad}/empty.png"], "empty.png: empty file (0 bytes)"),
    ("first_frame", ["--first-frame", "{bad}/notes.png"], "is not a readable image or video"),
    ("first_frame", ["--first-frame", "{bad}/nowhere.png"], "no such file"),
    ("label", ["--label", "#12"], "label must be in [0, 11]"),
    ("label", ["--label", "3"], "unknown label '3'; a label is a class name (circle_left, "),
    ("label", ["--label", "hexagon"], "unknown label 'hexagon'"),
    ("tiny", ["--prompt", RED_CIRCLE], "does not take prompt= (--prompt); it takes no condition"),
    ("shipped", ["--prompt", RED_CIRCLE], "does not take prompt= (--prompt)"),
    ("first_frame", ["--prompt", RED_CIRCLE],
     "does not take prompt= (--prompt); it takes first_frame= (--first-frame)"),
])
def test_cli_errors_are_one_line_and_write_nothing(case, args, fragment, request,
                                                   bad_first_frames, tmp_path):
    # Guards the user-facing errors: exit 2, one `vidgen: error:` line, no file left behind.
    export = {"text": "tiny_text_export", "first_frame": "tiny_first_frame_export",
              "label": "tiny_label_export", "tiny": "tiny_export"}
    path = SHIPPED if case == "shipped" else request.getfixturevalue(export[case])["export"]
    args = [a.replace("{bad}", str(bad_first_frames)) for a in args]
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = generate_cli(path, out_dir / "v.gif", *args)
    one_line_error(result, fragment)
    assert list(out_dir.iterdir()) == []


# --------------------------------------------------------------------------- provenance


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_provenance_of_a_prompted_video(suffix, tiny_text_export, tmp_path):
    # Guards the metadata: who made the file, from which export (by hash), seed and prompt.
    out = tmp_path / f"v{suffix}"
    result = generate_cli(tiny_text_export["export"], out, "--prompt", "A red circle moves left")
    assert result.returncode == 0, result.stderr
    meta = read_video_metadata(out)
    manifest = tiny_text_export["manifest"]
    assert meta["generator"] == f"vidgen_tf {__version__}"
    assert meta["export"] == "tiny_text" == manifest["name"]
    assert meta["model_sha256"] == {"generator": manifest["graphs"]["generator"]["sha256"]}
    assert meta["model_sha256"]["generator"] == file_sha256(tiny_text_export["export"] /
                                                            "model.onnx")
    assert (meta["seed"], meta["num"]) == (3, 2)
    assert meta["conditions"] == {"prompt": "A red circle moves left"}


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_provenance_of_first_frame_and_label_videos(suffix, tiny_first_frame_export,
                                                    tiny_label_export, tmp_path):
    # Guards the conditions recorded for the other two kinds of condition.
    png = encode_with_pyav(tmp_path / "start.png", image(2)[None], "png", pix_fmt="rgb24",
                           fmt="image2")
    out = tmp_path / f"frame{suffix}"
    result = generate_cli(tiny_first_frame_export["export"], out, "--first-frame", str(png))
    assert result.returncode == 0, result.stderr
    meta = read_video_metadata(out)
    assert meta["export"] == "tiny_first_frame" and meta["seed"] == 3
    assert meta["conditions"] == {"first_frame": str(png)}
    assert meta["model_sha256"]["generator"] == \
        tiny_first_frame_export["manifest"]["graphs"]["generator"]["sha256"]
    out = tmp_path / f"label{suffix}"
    result = generate_cli(tiny_label_export["export"], out, "--label", "#5")
    assert result.returncode == 0, result.stderr
    meta = read_video_metadata(out)
    assert (meta["export"], meta["seed"], meta["conditions"]) == ("tiny_label", 3,
                                                                  {"label": "#5"})
