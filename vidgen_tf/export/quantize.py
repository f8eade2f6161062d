"""int8 quantization of an exported generator for fast CPU generation (AVX-512 VNNI / AMX).

Static quantization with onnxruntime's tools: weights int8 per output channel, activations
uint8 calibrated on the generator's own noise, QDQ format (onnxruntime fuses it into integer
convolutions). The quality cost is measured against the float32 model on fresh noise and
recorded in the manifest.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from vidgen_tf.data.pixels import float_to_uint8
from vidgen_tf.noise import sample_noise

logger = logging.getLogger(__name__)

CALIBRATION_BATCHES = 8
CALIBRATION_BATCH_SIZE = 4
CHECK_CLIPS = 16


def quantize_int8(generator, onnx_path: Path) -> dict:
    """Replace `onnx_path` (float32) with its int8 version; returns the measured quality cost."""
    import onnxruntime as ort
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    spec = generator.noise_spec()

    class NoiseReader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter([sample_noise(spec, CALIBRATION_BATCH_SIZE, seed=1000 + i)
                                 for i in range(CALIBRATION_BATCHES)])

        def get_next(self):
            return next(self.batches, None)

    float_path = onnx_path.with_name(f".{onnx_path.stem}.float32.onnx")
    prepared = onnx_path.with_name(f".{onnx_path.stem}.prepared.onnx")
    os.replace(onnx_path, float_path)
    try:
        quant_pre_process(str(float_path), str(prepared), skip_symbolic_shape=True)
        quantize_static(str(prepared), str(onnx_path), NoiseReader(),
                        quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax,
                        op_types_to_quantize=["Conv", "ConvTranspose", "MatMul"])
        noise = sample_noise(spec, CHECK_CLIPS, seed=12345)
        reference = ort.InferenceSession(str(float_path), providers=["CPUExecutionProvider"])
        quantized = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        expected = float_to_uint8(reference.run(["video"], noise)[0]).astype(np.int16)
        got = float_to_uint8(quantized.run(["video"], noise)[0]).astype(np.int16)
    finally:
        float_path.unlink(missing_ok=True)
        prepared.unlink(missing_ok=True)
    error = np.abs(got - expected)
    return {"int8_max_pixel_error": int(error.max()),
            "int8_mean_pixel_error": float(error.mean()),
            "int8_checked_on": f"{CHECK_CLIPS} clips of seeded noise, against the float32 "
                               "ONNX model, in uint8 pixels"}
