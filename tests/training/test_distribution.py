"""MirroredStrategy over 2 logical CPUs gives the same weight update as one device."""

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
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
import numpy as np
from tests.training.tiny_gans import tiny_batch, tiny_gan

FAMILY = {family!r}
element = tiny_batch(FAMILY, 8)


def make():
    gan = tiny_gan(FAMILY)
    optimizers = {{name: keras.optimizers.SGD(0.1) for name in gan.optimizer_names}}
    return gan, optimizers


def train(strategy):
    keras.utils.set_random_seed(0)
    with strategy.scope():
        gan, optimizers = make()
        # SGD keeps the update linear in the gradient: Adam's first steps (m / sqrt(v))
        # would blow float round-off in near-zero gradients up to +-lr.
        gan.compile(**optimizers)
        initial = [w.copy() for w in gan.get_weights()]
    # The noise (and MoCoGAN's frame picks) are injected so that both runs see the same
    # draws for the same samples.
    data = tf.data.Dataset.from_tensor_slices(element).batch(4)
    gan.fit(data, epochs=1, verbose=0)
    return initial, gan.get_weights(), int(gan.generator_optimizer.iterations.numpy())


start, single, single_steps = train(tf.distribute.OneDeviceStrategy("/cpu:0"))
_, mirrored, mirrored_steps = train(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
print(json.dumps({{
    "max_diff": max(float(np.abs(a - b).max()) for a, b in zip(single, mirrored)),
    "max_update": max(float(np.abs(a - b).max()) for a, b in zip(single, start)),
    "steps": [single_steps, mirrored_steps],
}}))
"""


@pytest.mark.parametrize("family", ["dcgan3d", "vgan", "mocogan"])
def test_mirrored_two_replicas_equal_one_device_on_the_same_global_batch(family):
    result = subprocess.run([sys.executable, "-c", SCRIPT.format(family=family)], cwd=ROOT,
                            capture_output=True, text=True,
                            timeout=600, env={**os.environ})
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["steps"] == [2, 2]
    # Losses are scaled by the global batch and BatchNorm statistics are synchronised, so
    # two replicas with half the batch each make the single-device update up to round-off.
    # (Unsynchronised BatchNorm measured 0.086 here; this tolerance catches that.)
    assert report["max_update"] > 1e-3
    assert report["max_diff"] < 1e-5, report
