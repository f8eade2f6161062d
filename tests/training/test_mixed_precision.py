"""mixed_float16: every optimizer gets dynamic loss scaling, the update matches float32, and an
overflowing step is skipped. (The CLI allows mixed_float16 only on a GPU; float16 runs on the
CPU too, slowly, which is enough to check the arithmetic at tiny sizes.)"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]  # the subprocess imports tests.training

SCRIPT = """
import json, os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras
import numpy as np
import tensorflow as tf
from tests.training.tiny_gans import tiny_batch, tiny_gan

FAMILY = {family!r}
element = tiny_batch(FAMILY, 4)


def make(policy):
    keras.mixed_precision.set_global_policy(policy)
    keras.utils.set_random_seed(0)
    return tiny_gan(FAMILY)


def one_step(policy, loss_scale=None):
    gan = make(policy)
    # SGD keeps the update linear in the gradient, so float16 round-off stays small in it.
    optimizers = {{name: keras.optimizers.SGD(0.1) for name in gan.optimizer_names}}
    if loss_scale is not None:
        optimizers = {{name: keras.optimizers.LossScaleOptimizer(opt, initial_scale=loss_scale)
                      for name, opt in optimizers.items()}}
    gan.compile(**optimizers)
    start = [v.numpy().copy() for v in gan.trainable_variables]
    gan.fit(tf.data.Dataset.from_tensor_slices(element).batch(4), epochs=1, verbose=0)
    updates = [v.numpy() - s for v, s in zip(gan.trainable_variables, start)]
    scales = [float(getattr(gan, n).dynamic_scale.numpy()) for n in gan.optimizer_names
              if loss_scale is not None]
    return updates, scales, str(gan.generator(element["noise"]).dtype)


auto = make("mixed_float16")
auto.compile(**{{name: keras.optimizers.SGD(0.1) for name in auto.optimizer_names}})
wrapped = [type(getattr(auto, n)).__name__ for n in auto.optimizer_names]

reference, _, _ = one_step("float32")
scaled, _, output_dtype = one_step("mixed_float16", loss_scale=256.0)
overflow, overflow_scales, _ = one_step("mixed_float16", loss_scale=2.0 ** 40)
print(json.dumps({{
    "wrapped": wrapped,
    "output_dtype": output_dtype,
    "max_update": max(float(np.abs(u).max()) for u in reference),
    "max_diff": max(float(np.abs(a - b).max()) for a, b in zip(reference, scaled)),
    "worst_relative": max(float(np.linalg.norm(a - b) / np.linalg.norm(a))
                          for a, b in zip(reference, scaled) if np.linalg.norm(a) > 0),
    "overflow_max_update": max(float(np.abs(u).max()) for u in overflow),
    "overflow_scales": overflow_scales,
}}))
"""


@pytest.mark.parametrize("family", ["dcgan3d", "vgan", "mocogan"])
def test_mixed_float16_scales_the_loss_and_matches_the_float32_update(family):
    result = subprocess.run([sys.executable, "-c", SCRIPT.format(family=family)], cwd=ROOT,
                            capture_output=True, text=True, timeout=600, env={**os.environ})
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    # compile wraps every network's optimizer in dynamic loss scaling.
    assert set(report["wrapped"]) == {"LossScaleOptimizer"}, report
    assert report["output_dtype"] == "<dtype: 'float32'>"  # the final activation stays float32
    # One SGD step at loss scale 256 equals the float32 step up to float16 round-off (2-13% of
    # a tensor's update measured here). A loss scaled but not unscaled, or unscaled twice,
    # would be off by 256x.
    assert report["max_update"] > 1e-3
    assert report["max_diff"] < 0.1 * report["max_update"], report
    assert report["worst_relative"] < 0.3, report
    # At 2**40 every float16 gradient overflows: the step is skipped (no weight moves) and
    # each optimizer halves its scale, instead of writing inf into the weights.
    assert report["overflow_max_update"] == 0.0, report
    assert report["overflow_scales"] == [2.0 ** 39] * len(report["wrapped"]), report
