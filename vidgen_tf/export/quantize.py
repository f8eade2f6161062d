"""int8 quantization of an exported generator for fast CPU generation (AVX-512 VNNI / AMX).

Two methods, the first that applies:

- "nhwc_chain" (int8_upsampling): a DCGAN-style upsampling chain (MoCoGAN's image generator)
  is rebuilt as channels-last int8 convolutions, one per output phase. The layers before it
  (GRU, projection) stay float32.
- "qdq_static": anything else goes through onnxruntime's static quantization (QDQ format,
  every transposed convolution first rewritten as Conv, which has a fused int8 kernel).

Both: weights int8 per output channel, activations uint8 calibrated on the generator's own
noise. The quality cost is measured against the float32 model on fresh noise and recorded in
the manifest.
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
    """Replace `onnx_path` (float32) with its int8 version; returns the method and the measured
    quality cost."""
    import onnx
    import onnxruntime as ort

    from vidgen_tf.export.int8_upsampling import find_chain, quantize_chain

    spec = generator.noise_spec()
    calibration = [sample_noise(spec, CALIBRATION_BATCH_SIZE, seed=1000 + i)
                   for i in range(CALIBRATION_BATCHES)]
    float_path = onnx_path.with_name(f".{onnx_path.stem}.float32.onnx")
    os.replace(onnx_path, float_path)
    try:
        model = onnx.load(str(float_path))
        chain = find_chain(model)
        if chain is not None:
            method = "nhwc_chain"
            quantize_chain(model, chain, calibration)
            onnx.save(model, str(onnx_path))
        else:
            method = "qdq_static"
            _quantize_qdq(model, calibration, onnx_path)
        noise = sample_noise(spec, CHECK_CLIPS, seed=12345)
        reference = ort.InferenceSession(str(float_path), providers=["CPUExecutionProvider"])
        quantized = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        expected = float_to_uint8(reference.run(["video"], noise)[0]).astype(np.int16)
        got = float_to_uint8(quantized.run(["video"], noise)[0]).astype(np.int16)
    finally:
        float_path.unlink(missing_ok=True)
    error = np.abs(got - expected)
    return {"int8_method": method,
            "int8_max_pixel_error": int(error.max()),
            "int8_mean_pixel_error": float(error.mean()),
            "int8_checked_on": f"{CHECK_CLIPS} clips of seeded noise, against the float32 "
                               "ONNX model, in uint8 pixels"}


def _quantize_qdq(model, calibration: list[dict], onnx_path: Path) -> None:
    """onnxruntime's static QDQ quantization, after rewriting every ConvTranspose as Conv."""
    import onnx

    from vidgen_tf.export.onnx_rewrite import rewrite_conv_transposes

    rewrite_conv_transposes(model, calibration[0], min_input_size=0, min_output_channels=0)
    rewritten = onnx_path.with_name(f".{onnx_path.stem}.rewritten.onnx")
    try:
        onnx.save(model, str(rewritten))
        quantize_qdq(rewritten, calibration, onnx_path,
                     op_types=["Conv", "ConvTranspose", "MatMul"])
    finally:
        rewritten.unlink(missing_ok=True)


def quantize_qdq(source: Path, calibration: list[dict], onnx_path: Path,
                 op_types: list[str]) -> None:
    """Write the int8 (QDQ) version of the float32 ONNX file `source` to `onnx_path`:
    onnxruntime's static quantization of `op_types`, weights int8 per output channel,
    activations uint8 with min-max ranges from the `calibration` feeds."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Feeds(CalibrationDataReader):
        def __init__(self):
            self.batches = iter(calibration)

        def get_next(self):
            return next(self.batches, None)

    prepared = onnx_path.with_name(f".{onnx_path.stem}.prepared.onnx")
    try:
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        quantize_static(str(prepared), str(onnx_path), Feeds(), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax,
                        op_types_to_quantize=op_types)
    finally:
        prepared.unlink(missing_ok=True)
