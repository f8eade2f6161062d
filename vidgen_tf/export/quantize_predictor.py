"""int8 quantization of an exported predictor, for prediction at well over twice the speed of
float32 on CPUs with int8 dot products (AVX-512 VNNI, AMX).

Each graph goes through onnxruntime's static quantization (QDQ format: weights int8 per output
channel, activations uint8), calibrated on clips of the run's own training data, as they flow
through the model: the single-pass graph on context clips, a step graph on every step of the
rollout (the context, then its own predictions) with the recurrent states it carries. The
quality cost is measured against the float32 graphs on other clips of the data and recorded
in the manifest.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from vidgen_tf.data.pixels import float_to_uint8
from vidgen_tf.errors import VidgenError

logger = logging.getLogger(__name__)

CALIBRATION_CLIPS = 16
CALIBRATION_BATCH_SIZE = 4
CHECK_CLIPS = 16
CALIBRATION_SEED, CHECK_SEED = 1, 2


def data_contexts(data: str, num: int, context: int, size: int, channels: int,
                  seed: int) -> np.ndarray:
    """`num` context clips of a `--data` source as the model takes them: float32
    `(num, context, size, size, channels)` in [-1, 1]."""
    from vidgen_tf.data.pipeline import load_dataset, match_channels, pipeline_error

    try:
        batch = next(iter(load_dataset(data, frames=context, size=size, seed=seed,
                                       batch_size=num)))
    except Exception as exc:  # the pipeline's own VidgenError, carried through TensorFlow
        error = pipeline_error(exc)
        if error is None:
            raise
        raise error from None
    return np.asarray(match_channels(batch["video"], channels), np.float32)


def quantize_predictor_int8(trainer, onnx_paths: dict[str, Path], data: str | None) -> dict:
    """Replace each float32 graph in `onnx_paths` ({"predictor"} or {"step"}) with its int8
    version, calibrated on `data` (the run's --data); returns the method and the measured
    quality cost."""
    import onnxruntime as ort

    from vidgen_tf.export.quantize import quantize_qdq

    if data is None:
        raise VidgenError("int8 export of a predictor calibrates on its training data, which "
                          "only a run directory records: export the run directory, not a "
                          ".keras file (or drop --quantize)")
    shape = (trainer.context, trainer.size, trainer.channels)
    calibration = data_contexts(data, CALIBRATION_CLIPS, *shape, seed=CALIBRATION_SEED)
    check = data_contexts(data, CHECK_CLIPS, *shape, seed=CHECK_SEED)
    (onnx_path,) = onnx_paths.values()
    float_path = onnx_path.with_name(f".{onnx_path.stem}.float32.onnx")
    os.replace(onnx_path, float_path)
    try:
        reference = ort.InferenceSession(str(float_path), providers=["CPUExecutionProvider"])
        feeds = []
        predict = _predictor(reference, trainer, record=feeds)
        for start in range(0, CALIBRATION_CLIPS, CALIBRATION_BATCH_SIZE):
            predict(calibration[start:start + CALIBRATION_BATCH_SIZE])
        quantize_qdq(float_path, feeds, onnx_path, op_types=["Conv", "MatMul"])
        quantized = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        expected = float_to_uint8(_predictor(reference, trainer)(check)).astype(np.int16)
        got = float_to_uint8(_predictor(quantized, trainer)(check)).astype(np.int16)
    finally:
        float_path.unlink(missing_ok=True)
    error = np.abs(got - expected)
    return {"int8_method": "qdq_static",
            "int8_calibration": f"{CALIBRATION_CLIPS} context clips of {data} (seed "
                                f"{CALIBRATION_SEED}), through the float32 model",
            "int8_max_pixel_error": int(error.max()),
            "int8_mean_pixel_error": float(error.mean()),
            "int8_checked_on": f"{CHECK_CLIPS} other clips of {data} (seed {CHECK_SEED}): "
                               f"their {trainer.horizon} predicted frames against the "
                               "float32 ONNX model's, in uint8 pixels"}


def _predictor(session, trainer, record: list | None = None):
    """context (n, K, S, S, C) -> the predicted frames, through one ONNX session as the
    runtime drives it; `record` collects every feed the graph receives."""
    from vidgen_tf.runtime.samplers.rollout import RolloutSampler

    names = [o.name for o in session.get_outputs()]

    def run(feeds):
        if record is not None:
            record.append(feeds)
        return dict(zip(names, session.run(None, feeds), strict=True))

    if not trainer.recurrent:
        return lambda context: run({"context": context})[names[0]]
    states = {i.name: i.shape[1:] for i in session.get_inputs() if i.name != "frame"}
    sampler = RolloutSampler({"step": run}, context=trainer.context, horizon=trainer.horizon,
                             states=states)
    return lambda context: sampler({"context": context})
