"""The stock Keras callbacks work with every GAN trainer's custom train_step."""

import csv

import keras
import numpy as np
import pytest

from tests.test_case import assert_same_optimizer_state, optimizer_state
from vidgen_tf.models import load_model
from vidgen_tf.models.dcgan3d import VideoDCGAN
from vidgen_tf.models.mocogan import MoCoGAN
from vidgen_tf.models.vgan import VGAN

TRAINERS = {
    "dcgan3d": lambda: VideoDCGAN(frames=8, size=16, z_dim=8, base_filters=8),
    "vgan": lambda: VGAN(frames=8, size=16, z_dim=8, base_filters=8),
    "mocogan": lambda: MoCoGAN(frames=8, size=16, content_dim=8, motion_dim=4, noise_dim=4,
                               base_filters=8, image_batch_size=4),
}


def videos(num=8, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (num, 8, 16, 16, 3)).astype("float32")


@pytest.mark.parametrize("family", sorted(TRAINERS))
def test_stock_callbacks_checkpoint_log_and_stop_early(family, tmp_path):
    gan = TRAINERS[family]()
    gan.compile()
    callbacks = [
        keras.callbacks.ModelCheckpoint(str(tmp_path / "epoch{epoch}.keras")),
        keras.callbacks.BackupAndRestore(str(tmp_path / "backup")),
        keras.callbacks.TensorBoard(str(tmp_path / "logs"), write_graph=False),
        keras.callbacks.CSVLogger(str(tmp_path / "history.csv")),
        keras.callbacks.TerminateOnNaN(),
        # No epoch improves the summed loss by 1e9: training stops after the second epoch.
        keras.callbacks.EarlyStopping(monitor="loss", patience=0,
                                      min_delta=1e9),
    ]
    history = gan.fit(videos(), batch_size=4, epochs=5, callbacks=callbacks, verbose=0)
    assert len(history.history["g_loss"]) == 2
    with open(tmp_path / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [0, 1] and "g_loss" in rows[0]
    assert any((tmp_path / "logs").rglob("events.out.tfevents.*"))
    restored = load_model(tmp_path / "epoch2.keras")
    # The checkpoint carries every optimizer's state (iterations, moments), ready to fit again.
    assert_same_optimizer_state(optimizer_state(restored), optimizer_state(gan))
    for name in gan.optimizer_names:
        assert int(getattr(restored, name).iterations.numpy()) == 4


def test_terminate_on_nan_stops_at_the_first_nan_batch(tmp_path):
    gan = TRAINERS["dcgan3d"]()
    gan.compile()
    data = videos()
    data[4:] = np.nan  # the second batch of 4 is NaN
    history = gan.fit(data, batch_size=4, epochs=3, verbose=0, shuffle=False,
                      callbacks=[keras.callbacks.TerminateOnNaN()])
    assert gan.generator_optimizer.iterations.numpy() == 2
    assert len(history.history["g_loss"]) == 1
