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
from vidgen_tf.runtime.manifest import ManifestError, file_sha256, label_input, load_manifest

logger = logging.getLogger(__name__)

# Refuse requests whose uint8 result alone would exceed this; `iter_generate` streams instead.
MAX_RESULT_BYTES = 4 << 30
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
            (the attribute) says what the session got.
        batch_size: int, default 8. Videos per onnxruntime call: bounds the float memory
            of large requests.
        threads: int or None. onnxruntime intra-op threads (None: one per core).

    Example:
        >>> gen = VideoGenerator("export/mocogan_shapes")
        >>> video = gen.generate(4, seed=0)  # uint8 (4, frames, height, width, 3)
    """

    def __init__(self, path: str | Path, providers: list[str] | None = None,
                 batch_size: int = 8, threads: int | None = None):
        import onnxruntime as ort

        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1; received batch_size={batch_size}")
        self.path = Path(path)
        self.manifest = load_manifest(self.path)
        self.batch_size = batch_size
        model_path = self.path / self.manifest["onnx"].get("file", "model.onnx")
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
        self.output_name = self.manifest["output"]["name"]
        self.input_names = [i.name for i in self.session.get_inputs()]
        missing = set(self.input_names) ^ set(self.manifest["inputs"])
        if missing:
            raise ManifestError(f"{model_path} inputs {sorted(self.input_names)} do not match "
                                f"the manifest's {sorted(self.manifest['inputs'])}; re-run "
                                "`vidgen export`")

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
        for start in range(0, num, self.batch_size):
            part = {k: v[start:start + self.batch_size] for k, v in noise.items()}
            yield float_to_uint8(self.run(part))

    def generate(self, num: int = 1, seed: int | None = None, label=None,
                 frames: int | None = None) -> np.ndarray:
        """Generate `num` videos: uint8 `(num, frames, height, width, channels)`, channels-last.

        Args:
            num: videos to generate (>= 1).
            seed: numpy seed of the noise; None draws fresh noise.
            label: class id (or name, or one per video) for a conditional model; None draws
                labels uniformly. An unconditional model refuses a label.
            frames: clip length; None uses the trained length. Only models whose manifest
                says `variable_frames` accept another length.
        """
        num = self._check_num(num)
        frames_out = self._check_frames(frames) or self.frames
        m = self.manifest
        size = num * frames_out * m["height"] * m["width"] * m["channels"]
        if size > MAX_RESULT_BYTES:
            raise ValueError(f"num={num} videos of {frames_out} frames would need "
                             f"{size / 2**30:.1f} GiB; generate at most "
                             f"{MAX_RESULT_BYTES / 2**30:.0f} GiB at once, or stream with "
                             "iter_generate()")
        return np.concatenate(list(self.iter_generate(num, seed, label, frames)), axis=0)

    # ------------------------------------------------------------------ checks

    def _check_num(self, num) -> int:
        if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 1:
            raise ValueError(f"num must be an integer >= 1; received num={num!r}")
        return int(num)

    def _check_frames(self, frames) -> int | None:
        if frames is None:
            return None
        if isinstance(frames, bool) or not isinstance(frames, (int, np.integer)) or frames < 1:
            raise ValueError(f"frames must be an integer >= 1; received frames={frames!r}")
        if frames != self.frames and not self.manifest.get("variable_frames"):
            raise ValueError(f"{self.path.name} ({self.manifest.get('family')}) generates "
                             f"exactly {self.frames} frames; received frames={frames}")
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


def _open_session(ort, model_path: str, options, providers: list[str] | None):
    """An InferenceSession; with `providers=None`, CUDA only if it really loads."""
    try:
        if providers is not None:
            return ort.InferenceSession(model_path, options, providers=providers)
        if CUDA in ort.get_available_providers():
            # onnxruntime-gpu lists CUDA even without a GPU and then falls back to CPU after
            # logging an error; keep that attempt quiet and check what the session got.
            previous = ort.get_default_logger_severity() if hasattr(
                ort, "get_default_logger_severity") else 2
            ort.set_default_logger_severity(4)
            try:
                quiet = ort.SessionOptions()
                quiet.log_severity_level = 4
                session = ort.InferenceSession(model_path, quiet, providers=[CUDA, CPU])
            finally:
                ort.set_default_logger_severity(previous)
            if session.get_providers()[0] == CUDA:
                return ort.InferenceSession(model_path, options, providers=[CUDA, CPU])
            logger.info("CUDA is listed by onnxruntime but did not load; using the CPU")
        return ort.InferenceSession(model_path, options, providers=[CPU])
    except Exception as exc:  # onnxruntime raises its own exception types
        raise ManifestError(f"onnxruntime cannot load {model_path}: {exc}".splitlines()[0]
                            ) from exc
