"""VideoGenerator: generate uint8 video from a `vidgen export` directory with onnxruntime.

Numpy and onnxruntime only (PyAV when writing files): this is what other apps import, and it
must work where TensorFlow and Keras are not installed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from vidgen_tf.data.pixels import float_to_uint8
from vidgen_tf.noise import sample_noise
from vidgen_tf.runtime.manifest import (
    MANIFEST_NAME,
    MAX_FRAMES_FACTOR,
    ManifestError,
    check_files,
    check_graph_io,
    condition_inputs,
    label_input,
    load_manifest,
)
from vidgen_tf.runtime.samplers import get_sampler, predicts_any_length, session_graph
from vidgen_tf.runtime.sampling import check_sampling
from vidgen_tf.runtime.sessions import CPU, CUDA, check_providers, open_session  # noqa: F401

logger = logging.getLogger(__name__)

# Refuse requests whose uint8 result alone would exceed this; `iter_generate` streams instead.
MAX_RESULT_BYTES = 4 << 30
# The keyword of `generate` that gives each condition role.
KEYWORDS = {"label": "label", "text": "prompt", "first_frame": "first_frame",
            "context": "context", "actions": "actions", "source": "source"}


class VideoGenerator:
    """An export of `vidgen export`, run by onnxruntime and a numpy sampler.

    The noise is drawn with numpy from the manifest's input spec, so a seed gives the same
    video on any machine; the result equals the Keras networks' on the same inputs, within
    uint8 rounding. Conditions (a label, a prompt, a first frame) are checked against what
    the manifest says the export takes.

    Sampling, which the manifest's "sampling" field states as data for apps that run the
    ONNX graph themselves (`vidgen_tf.runtime.sampling`):

    1. one `numpy.random.default_rng(seed)` per call of `generate` (or `iter_generate`,
       `inputs`, `noise`), shared by its `num` videos;
    2. the inputs that have a distribution, in sorted name order (`sampling["order"]`), each
       drawn for all `num` videos at once: `rng.standard_normal((num, *shape))`,
       `rng.uniform(-1.0, 1.0, (num, *shape))` or `rng.integers(0, num_classes,
       size=(num,))`, in numpy's float64 / int64, then cast to the input's dtype; a named
       axis "frames" is the clip length asked for;
    3. a given label replaces its draw, which is still made, so later draws do not move;
       prompts and first frames are given, never drawn;
    4. the graph runs on consecutive slices of `batch_size` videos.

    So the batch size does not change the draws, but `num` does: each input is drawn for all
    videos before the next, and video 0 of `generate(4, seed=0)` is not `generate(1,
    seed=0)`. The same num, seed, frames and conditions always give the same videos.

    Args:
        path: an export directory holding `manifest.json` and the files it lists.
        providers: onnxruntime execution providers to use, e.g. ["CPUExecutionProvider"].
            None picks CUDA only when a CUDA session really loads, else CPU; `providers`
            (the attribute) says what the session got. A named provider that onnxruntime
            does not have, or that does not load, is a ValueError.
        batch_size: int, default 8. Videos per onnxruntime call: bounds the float memory
            of large requests.
        threads: int or None. onnxruntime intra-op threads, >= 1 (None: one per core).

    Example:
        >>> gen = VideoGenerator("export/mocogan_shapes")
        >>> video = gen.generate(4, seed=0)  # uint8 (4, frames, height, width, 3)
    """

    def __init__(self, path: str | Path, providers: list[str] | None = None,
                 batch_size: int = 8, threads: int | None = None):
        import onnxruntime as ort

        if not _is_int(batch_size) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1; received "
                             f"batch_size={batch_size!r}")
        if threads is not None and (not _is_int(threads) or threads < 1):
            raise ValueError(f"threads must be None or an integer >= 1; received "
                             f"threads={threads!r}")
        providers = check_providers(ort, providers)
        self.path = Path(path)
        self.manifest = load_manifest(self.path)
        self.batch_size = batch_size
        check_files(self.manifest, self.path)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            options.intra_op_num_threads = threads
        self.sessions = {}
        for name, graph in self.manifest["graphs"].items():
            model_path = self.path / graph["file"]
            session = open_session(ort, str(model_path), options, providers)
            check_graph_io(self.manifest, name, session.get_inputs(), session.get_outputs(),
                           model_path)
            self.sessions[name] = session
        check_sampling(self.manifest, self._manifest_error)  # what it states is what we draw
        self.session = next(iter(self.sessions.values()))
        self.providers = self.session.get_providers()
        self.output_name = self.manifest["output"]["name"]
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.sampler = get_sampler(self.manifest, {
            name: session_graph(session) for name, session in self.sessions.items()})
        self.tokenizer = None
        for item in self.manifest["inputs"].values():
            if item["role"] == "text":
                from vidgen_tf.runtime.tokenizer import WordTokenizer

                try:
                    self.tokenizer = WordTokenizer.load(self.path / item["tokenizer"])
                except (ValueError, OSError) as exc:
                    raise ManifestError(f"{self.path / item['tokenizer']} is not a usable "
                                        f"tokenizer ({exc}); re-run `vidgen export`") from exc

    # ------------------------------------------------------------------ properties

    @property
    def name(self) -> str:
        return self.manifest["name"]

    @property
    def frames(self) -> int:
        return self.manifest["video"]["frames"]

    @property
    def num_classes(self) -> int:
        name = label_input(self.manifest)
        return self.manifest["inputs"][name]["num_classes"] if name else 0

    @property
    def class_names(self) -> list[str]:
        name = label_input(self.manifest)
        return list(self.manifest["inputs"][name].get("class_names") or []) if name else []

    @property
    def fps(self) -> float:
        return float(self.manifest["video"]["fps"])

    @property
    def conditions(self) -> tuple[str, ...]:
        """The condition roles the export takes: () or any of "label", "text",
        "first_frame", "context", "actions", "source"."""
        return tuple(item["role"] for item in condition_inputs(self.manifest).values())

    @property
    def max_frames(self) -> int:
        return self.manifest["dims"].get("frames", {}).get("max", self.frames)

    # ------------------------------------------------------------------ generation

    def noise(self, num: int, seed: int | None = None, label=None,
              frames: int | None = None) -> dict[str, np.ndarray]:
        """The drawn inputs (noise, and labels unless given) for `num` videos, from `seed`."""
        num = self._check_num(num)
        frames = self._check_frames(frames)
        seed = self._check_seed(seed)
        if label is not None:
            label = self._label_ids(label, num)
        return sample_noise(self.manifest["inputs"], num, seed, labels=label, frames=frames,
                            default_frames=self.frames)

    def inputs(self, num: int, seed: int | None = None, *, frames: int | None = None,
               **conditions) -> dict[str, np.ndarray]:
        """Every graph input for `num` videos: the drawn noise and the given conditions,
        checked against the manifest (see `generate` for the keywords)."""
        given = {key: value for key, value in conditions.items() if value is not None}
        unknown = set(given) - set(KEYWORDS.values())
        if unknown:
            raise TypeError(f"generate() got unexpected keyword(s) {', '.join(sorted(unknown))}")
        takes = {KEYWORDS[item["role"]]: (name, item)
                 for name, item in condition_inputs(self.manifest).items()}
        refused = [key for key in given if key not in takes]
        if refused:
            what = (", ".join(_described(k) for k in takes) if takes
                    else "no condition (it is unconditional)")
            raise ValueError(f"{self.name} does not take {_described(refused[0])}; it takes "
                             f"{what}")
        missing = [key for key, (_, item) in takes.items()
                   if key not in given and not item.get("optional", False)]
        if missing == ["context"]:
            shape = takes["context"][1]["shape"]
            raise ValueError(f"{self.name} predicts frames: give it the frames to continue, "
                             f"context= (--context FILE: a video, or a .npy of uint8 clips "
                             f"(N, {shape[0]}, H, W, C))")
        if missing:
            optional = [k for k in takes if k not in missing]
            also = (f"; it also takes {', '.join(map(_described, optional))}" if optional
                    else "")
            raise ValueError(f"{self.name} needs {', '.join(map(_described, missing))}{also}")
        num = self._check_num(num)
        feeds = self.noise(num, seed, given.get("label"), frames)
        for key, value in given.items():
            name, item = takes[key]
            if key == "prompt":
                feeds[name] = self._tokens(value, num)
            elif key == "first_frame":
                feeds[name] = self._first_frames(value, num, item["shape"])
            elif key == "context":
                from vidgen_tf.runtime.contexts import prepare_context

                feeds[name] = prepare_context(value, num, item["shape"])
            elif key == "actions":
                from vidgen_tf.runtime.contexts import parse_actions

                feeds[name] = parse_actions(value, item["action_names"],
                                            self._check_frames(frames) or self.frames, num)
            elif key != "label":
                raise ValueError(f"{self.name}: the {key}= condition is not supported by this "
                                 "vidgen_tf; upgrade vidgen_tf")
        return feeds

    def run(self, inputs: dict[str, np.ndarray], **sampler_params) -> np.ndarray:
        """The sampler on prepared inputs: float32 video in [-1, 1], channels-last."""
        return self.sampler(inputs, **sampler_params)

    def iter_generate(self, num: int, seed: int | None = None, label=None,
                      frames: int | None = None, **kwargs) -> Iterator[np.ndarray]:
        """Yield uint8 `(n, frames, height, width, channels)` batches, `batch_size` at most,
        for `num` videos in all: the same videos `generate` returns, with bounded memory."""
        conditions, sampler_params = _split(kwargs)
        num = _clips_given(num, conditions.get("context"))
        feeds = self.inputs(num, seed, frames=frames, label=label, **conditions)
        if predicts_any_length(self.manifest["sampler"]["name"]):  # any horizon in bounds
            sampler_params = {"frames": frames or self.frames, **sampler_params}
        video = self.manifest["video"]
        expected = (frames or self.frames, video["height"], video["width"], video["channels"])
        for start in range(0, num, self.batch_size):
            part = {k: v[start:start + self.batch_size] for k, v in feeds.items()}
            out = self.run(part, **sampler_params)
            if out.shape[1:] != expected:  # never hand out clips of another length or size
                raise ManifestError(f"{self.path}: the model made videos of shape "
                                    f"{out.shape[1:]} but the manifest promises {expected} "
                                    "(frames, height, width, channels); re-run `vidgen export`")
            yield float_to_uint8(out)

    def generate(self, num: int = 1, seed: int | None = None, label=None, prompt=None,
                 first_frame=None, context=None, actions=None, source=None,
                 frames: int | None = None, **sampler_params) -> np.ndarray:
        """Generate `num` videos: uint8 `(num, frames, height, width, channels)`, channels-last.

        Args:
            num: videos to generate (>= 1).
            seed: numpy seed of the noise (an integer >= 0); None draws fresh noise. See
                the class docstring (and the manifest's "sampling") for how it is used.
            label: class id (or name, or one per video) for a model that takes a label;
                None draws labels uniformly.
            prompt: a text prompt (or one per video) for a model that takes text.
            first_frame: uint8 image `(height, width, 3)` (or one per video,
                `(num, height, width, 3)`) for a model that animates a given frame; resized
                and center-cropped like the datasets.
            context, actions, source: for the families that take them.
            frames: clip length; None uses the trained length. Only models whose "frames"
                dimension may change accept another length, within its bounds.
            **sampler_params: parameters of the export's sampler.

        Asking for a condition the export does not take is a ValueError naming what it takes.
        A predictor given n context clips `(n, frames, height, width, channels)` predicts n
        videos (num may stay 1).
        """
        num = self._check_num(_clips_given(num, context))
        frames_out = self._check_frames(frames) or self.frames
        video = self.manifest["video"]
        self._check_seed(seed)
        size = num * frames_out * video["height"] * video["width"] * video["channels"]
        if size > MAX_RESULT_BYTES:
            raise ValueError(f"num={num} videos of {frames_out} frames would need "
                             f"{size / 2**30:.1f} GiB; generate at most "
                             f"{MAX_RESULT_BYTES / 2**30:.0f} GiB at once, or stream with "
                             "iter_generate()")
        return np.concatenate(list(self.iter_generate(
            num, seed, label, frames, prompt=prompt, first_frame=first_frame, context=context,
            actions=actions, source=source, **sampler_params)), axis=0)

    # ------------------------------------------------------------------ checks

    def _manifest_error(self, message: str):
        raise ManifestError(f"{self.path / MANIFEST_NAME}: {message}; re-run `vidgen export`")

    def _check_num(self, num) -> int:
        if not _is_int(num) or num < 1:
            raise ValueError(f"num must be an integer >= 1; received num={num!r}")
        return int(num)

    def _check_seed(self, seed) -> int | None:
        # numpy takes any integer >= 0; a negative one fails deep inside with no name.
        if seed is not None and (not _is_int(seed) or seed < 0):
            raise ValueError(f"seed must be None or an integer >= 0; received seed={seed!r}")
        return None if seed is None else int(seed)

    def _check_frames(self, frames) -> int | None:
        if frames is None:
            return None
        if not _is_int(frames) or frames < 1:
            raise ValueError(f"frames must be an integer >= 1; received frames={frames!r}")
        bounds = self.manifest["dims"].get("frames", {"min": self.frames, "max": self.frames})
        if bounds["min"] == bounds["max"] and frames != self.frames:
            raise ValueError(f"{self.path.name} ({self.manifest.get('family')}) generates "
                             f"exactly {self.frames} frames; received frames={frames}")
        if frames > bounds["max"]:
            raise ValueError(f"frames must be at most {bounds['max']} ({MAX_FRAMES_FACTOR} x the "
                             f"trained {self.frames}); received frames={frames}")
        if frames < bounds["min"]:
            raise ValueError(f"frames must be at least {bounds['min']}; received "
                             f"frames={frames}")
        return int(frames)

    def _label_ids(self, label, num: int) -> np.ndarray:
        if label_input(self.manifest) is None:
            raise ValueError(f"{self.path.name} is an unconditional model: it takes no "
                             f"label; received label={label!r}")
        names = self.class_names
        values = np.atleast_1d(np.asarray(label, dtype=object))
        if values.size not in (1, num):
            raise ValueError(f"label must be one value or one per video ({num}); received "
                             f"{values.size} labels")
        ids = [self._label_id(value, names) for value in values]
        count = self.num_classes
        bad = [i for i in ids if not 0 <= i < count]
        if bad:
            shown = f" ({', '.join(names)})" if names else ""
            raise ValueError(f"label must be in [0, {count - 1}]{shown}; received label={bad[0]}")
        return np.asarray(ids, dtype=np.int64)

    def _label_id(self, value, names: list[str]) -> int:
        """One label: an int is a class index; a str is a class name, or "#INDEX" for an
        index, so that with classes named "class_0", "class_1", "class_3" a "3" never means
        the third class. A digit string is an index only for a model without class names."""
        if not isinstance(value, str):
            return int(value)
        if value in names:
            return names.index(value)
        index = value[1:] if value.startswith("#") else (value if not names else None)
        if index is not None and index.lstrip("-").isdigit():
            return int(index)
        named = f"a class name ({', '.join(names)}) or " if names else ""
        raise ValueError(f"unknown label {value!r}; a label is {named}#INDEX for a class "
                         f"index in [0, {self.num_classes - 1}], e.g. '#0'")

    def _tokens(self, prompt, num: int) -> np.ndarray:
        prompts = [prompt] if isinstance(prompt, str) else list(prompt)
        if len(prompts) not in (1, num):
            raise ValueError(f"prompt must be one text or one per video ({num}); received "
                             f"{len(prompts)} prompts")
        tokens = self.tokenizer.encode(prompts)
        return np.repeat(tokens, num, axis=0) if len(prompts) == 1 else tokens

    def _first_frames(self, image, num: int, shape: list) -> np.ndarray:
        from vidgen_tf.data.pixels import uint8_to_float
        from vidgen_tf.data.video_io import resize_frame

        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim not in (3, 4) or image.shape[-1] != 3:
            raise ValueError("first_frame must be a uint8 RGB image (height, width, 3) or one "
                             f"per video (num, height, width, 3); received {image.dtype} "
                             f"{image.shape}")
        images = image[None] if image.ndim == 3 else image
        if len(images) not in (1, num):
            raise ValueError(f"first_frame must be one image or one per video ({num}); "
                             f"received {len(images)}")
        if min(images.shape[1:3]) < 1:
            raise ValueError(f"first_frame is empty: shape {image.shape}")
        size = shape[0]
        frames = np.stack([resize_frame(i, size) for i in images])
        frames = uint8_to_float(frames).astype(np.float32)
        return np.repeat(frames, num, axis=0) if len(frames) == 1 else frames


def _described(keyword: str) -> str:
    """A condition as the Python keyword and the CLI flag that give it."""
    return f"{keyword}= (--{keyword.replace('_', '-')})"


def _clips_given(num, context):
    """num, or the number of context clips when several are given and num is left at 1."""
    if context is not None and num == 1 and np.ndim(context) == 5:
        return len(context)
    return num


def _split(kwargs: dict) -> tuple[dict, dict]:
    """`**kwargs` of `iter_generate` -> (conditions, sampler parameters)."""
    conditions = {k: v for k, v in kwargs.items() if k in KEYWORDS.values()}
    return conditions, {k: v for k, v in kwargs.items() if k not in conditions}


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)
