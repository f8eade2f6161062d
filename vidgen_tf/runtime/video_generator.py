"""VideoGenerator: generate uint8 video from a `vidgen export` directory with onnxruntime.

Numpy and onnxruntime only (PyAV when writing files): this is what other apps import, and it
must work where TensorFlow and Keras are not installed.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from vidgen_tf.data.pixels import float_to_uint8
from vidgen_tf.noise import sample_noise
from vidgen_tf.runtime.manifest import (
    ONNX_NAME,
    ManifestError,
    check_model_io,
    file_sha256,
    label_input,
    load_manifest,
)

logger = logging.getLogger(__name__)

# Refuse requests whose uint8 result alone would exceed this; `iter_generate` streams instead.
MAX_RESULT_BYTES = 4 << 30
# A variable-length model generates at most this many times its trained clip length: far beyond
# it the motion was never trained, and a mistyped length would run for minutes.
MAX_FRAMES_FACTOR = 16
CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


class VideoGenerator:
    """A generator exported by `vidgen export`, run by onnxruntime.

    The noise is drawn with numpy from the manifest's input spec, so a seed gives the same
    video on any machine; the result equals the Keras generator's on the same noise, within
    uint8 rounding.

    Args:
        path: an export directory holding `manifest.json` and the ONNX file it names.
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
        providers = _check_providers(ort, providers)
        self.path = Path(path)
        self.manifest = load_manifest(self.path)
        self.batch_size = batch_size
        model_path = self.path / self.manifest["onnx"].get("file", ONNX_NAME)
        if not model_path.is_file():
            raise ManifestError(f"{model_path} is missing: the export is incomplete; re-run "
                                "`vidgen export`")
        digest = file_sha256(model_path)
        if digest != self.manifest["onnx"]["sha256"]:
            raise ManifestError(f"{model_path} does not match its manifest (sha256 {digest[:12]}"
                                f"... != {self.manifest['onnx']['sha256'][:12]}...): the file "
                                "was changed or damaged; re-run `vidgen export`")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            options.intra_op_num_threads = threads
        self.session = _open_session(ort, str(model_path), options, providers)
        self.providers = self.session.get_providers()
        check_model_io(self.manifest, self.session.get_inputs(), self.session.get_outputs(),
                       model_path)
        self.output_name = self.manifest["output"]["name"]
        self.input_names = [i.name for i in self.session.get_inputs()]

    # ------------------------------------------------------------------ properties

    @property
    def frames(self) -> int:
        return self.manifest["frames"]

    @property
    def num_classes(self) -> int:
        name = label_input(self.manifest)
        return self.manifest["inputs"][name]["num_classes"] if name else 0

    @property
    def class_names(self) -> list[str]:
        return list(self.manifest.get("class_names") or [])

    @property
    def fps(self) -> float:
        return float(self.manifest["fps"])

    # ------------------------------------------------------------------ generation

    def noise(self, num: int, seed: int | None = None, label=None,
              frames: int | None = None) -> dict[str, np.ndarray]:
        """The named inputs for `num` videos, drawn with numpy from the manifest's spec."""
        num = self._check_num(num)
        frames = self._check_frames(frames)
        seed = self._check_seed(seed)
        label_name = label_input(self.manifest)
        if label is not None:
            if label_name is None:
                raise ValueError(f"{self.path.name} is an unconditional model: it takes no "
                                 f"label; received label={label!r}")
            label = self._label_ids(label, num)
        return sample_noise(self.manifest["inputs"], num, seed, labels=label, frames=frames)

    def run(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """One onnxruntime call on prepared inputs: float32 video in [-1, 1], channels-last."""
        return self.session.run([self.output_name], {k: inputs[k] for k in self.input_names})[0]

    def iter_generate(self, num: int, seed: int | None = None, label=None,
                      frames: int | None = None) -> Iterator[np.ndarray]:
        """Yield uint8 `(n, frames, height, width, channels)` batches, `batch_size` at most,
        for `num` videos in all: the same videos `generate` returns, with bounded memory."""
        noise = self.noise(num, seed, label, frames)
        m = self.manifest
        expected = (frames or self.frames, m["height"], m["width"], m["channels"])
        for start in range(0, num, self.batch_size):
            part = {k: v[start:start + self.batch_size] for k, v in noise.items()}
            video = self.run(part)
            if video.shape[1:] != expected:  # never hand out clips of another length or size
                raise ManifestError(f"{self.path}: the model made videos of shape "
                                    f"{video.shape[1:]} but the manifest promises {expected} "
                                    "(frames, height, width, channels); re-run `vidgen export`")
            yield float_to_uint8(video)

    def generate(self, num: int = 1, seed: int | None = None, label=None,
                 frames: int | None = None) -> np.ndarray:
        """Generate `num` videos: uint8 `(num, frames, height, width, channels)`, channels-last.

        Args:
            num: videos to generate (>= 1).
            seed: numpy seed of the noise (an integer >= 0); None draws fresh noise.
            label: class id (or name, or one per video) for a conditional model; None draws
                labels uniformly. An unconditional model refuses a label.
            frames: clip length; None uses the trained length. Only models whose manifest
                says `variable_frames` accept another length, up to `MAX_FRAMES_FACTOR` times
                the trained one.
        """
        num = self._check_num(num)
        frames_out = self._check_frames(frames) or self.frames
        m = self.manifest
        self._check_seed(seed)
        size = num * frames_out * m["height"] * m["width"] * m["channels"]
        if size > MAX_RESULT_BYTES:
            raise ValueError(f"num={num} videos of {frames_out} frames would need "
                             f"{size / 2**30:.1f} GiB; generate at most "
                             f"{MAX_RESULT_BYTES / 2**30:.0f} GiB at once, or stream with "
                             "iter_generate()")
        return np.concatenate(list(self.iter_generate(num, seed, label, frames)), axis=0)

    # ------------------------------------------------------------------ checks

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
        if frames != self.frames and not self.manifest.get("variable_frames"):
            raise ValueError(f"{self.path.name} ({self.manifest.get('family')}) generates "
                             f"exactly {self.frames} frames; received frames={frames}")
        limit = MAX_FRAMES_FACTOR * self.frames
        if frames > limit:
            raise ValueError(f"frames must be at most {limit} ({MAX_FRAMES_FACTOR} x the trained "
                             f"{self.frames}); received frames={frames}")
        return int(frames)

    def _label_ids(self, label, num: int) -> np.ndarray:
        names = self.class_names
        values = np.atleast_1d(np.asarray(label, dtype=object))
        if values.size not in (1, num):
            raise ValueError(f"label must be one value or one per video ({num}); received "
                             f"{values.size} labels")
        ids = []
        for value in values:
            if isinstance(value, str) and not value.lstrip("-").isdigit():
                if value not in names:
                    raise ValueError(f"unknown label {value!r}; choose one of: "
                                     f"{', '.join(names) or '(the model has no class names)'}")
                ids.append(names.index(value))
            else:
                ids.append(int(value))
        count = self.num_classes
        bad = [i for i in ids if not 0 <= i < count]
        if bad:
            shown = f" ({', '.join(names)})" if names else ""
            raise ValueError(f"label must be in [0, {count - 1}]{shown}; received label={bad[0]}")
        return np.asarray(ids, dtype=np.int64)


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_providers(ort, providers) -> list[str] | None:
    """`providers` as a list, or ValueError: onnxruntime would only warn and use the CPU."""
    if providers is None:
        return None
    if isinstance(providers, str):
        providers = [providers]
    providers = list(providers)
    available = ort.get_available_providers()
    if not providers:
        raise ValueError(f"providers must name at least one onnxruntime provider; available "
                         f"here: {', '.join(available)}")
    # An entry may be a (name, options) pair, as onnxruntime allows.
    unknown = [_provider_name(p) for p in providers if _provider_name(p) not in available]
    if unknown:
        raise ValueError(f"unknown onnxruntime provider {unknown[0]!r}; available here: "
                         f"{', '.join(available)}")
    return providers


def _provider_name(provider) -> str:
    return provider[0] if isinstance(provider, tuple) else provider


def _open_session(ort, model_path: str, options, providers: list | None):
    """An InferenceSession; with `providers=None`, CUDA only if it really loads. A provider
    asked for by name that does not load is a ValueError, not a silent fall-back to the CPU,
    unless the list names the CPU as its fall-back (the usual `[CUDA, CPU]`)."""
    try:
        if providers is None:
            if CUDA in ort.get_available_providers():
                if _first_provider_loads(ort, model_path, [CUDA, CPU]):
                    return ort.InferenceSession(model_path, options, providers=[CUDA, CPU])
                logger.info("CUDA is listed by onnxruntime but did not load; using the CPU")
            return ort.InferenceSession(model_path, options, providers=[CPU])
        names = [_provider_name(p) for p in providers]
        if names[0] == CPU or _first_provider_loads(ort, model_path, providers):
            return ort.InferenceSession(model_path, options, providers=providers)
        if CPU in names:  # e.g. [CUDA, CPU]: the caller named the CPU as the fall-back
            logger.info("%s did not load; using %s", names[0], CPU)
            return ort.InferenceSession(model_path, options,
                                        providers=providers[names.index(CPU):])
    except Exception as exc:  # onnxruntime raises its own exception types
        raise ManifestError(f"onnxruntime cannot load {model_path}: {exc}".splitlines()[0]
                            ) from exc
    raise ValueError(f"onnxruntime provider {_provider_name(providers[0])} did not load on this "
                     "machine (onnxruntime lists it, but its libraries or device are missing); "
                     f"use {CPU}, or no provider to pick one automatically")


def _first_provider_loads(ort, model_path: str, providers: list) -> bool:
    """Whether a session gets `providers[0]`. onnxruntime-gpu lists CUDA even without a GPU
    and then falls back to the CPU after logging an error: try quietly and look. (For a
    provider that fails to register, such as TensorRT without its libraries, onnxruntime also
    `print`s an "EP Error" banner to standard output, where it would mix with the caller's
    output: it is swallowed too.)"""
    previous = ort.get_default_logger_severity() if hasattr(
        ort, "get_default_logger_severity") else 2
    ort.set_default_logger_severity(4)
    try:
        quiet = ort.SessionOptions()
        quiet.log_severity_level = 4
        with contextlib.redirect_stdout(io.StringIO()):
            session = ort.InferenceSession(model_path, quiet, providers=providers)
    finally:
        ort.set_default_logger_severity(previous)
    return session.get_providers()[0] == _provider_name(providers[0])
