"""The predictor trainer, the rollout sampler and a predictor's export, on a toy step network
(the families' own networks are tested in tests/models)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from vidgen_tf.runtime.samplers import RolloutSampler
from vidgen_tf.training.prediction_trainer import RecurrentPredictionTrainer

SIZE, CHANNELS, CONTEXT, HORIZON = 8, 1, 3, 2


@keras.saving.register_keras_serializable(package="vidgen_tf_tests")
class ToyStep(keras.Model):
    """h' = tanh(conv([frame, h])); next frame = conv(h'). One state, "h"."""

    def __init__(self, size=SIZE, channels=CHANNELS, **kwargs):
        super().__init__(**kwargs)
        self.size, self.channels = size, channels
        self.mix = keras.layers.Conv2D(4, 3, padding="same", activation="tanh")
        self.out = keras.layers.Conv2D(channels, 3, padding="same", dtype="float32")

    def state_spec(self):
        return {"h": (self.size, self.size, 4)}

    def build(self, input_shape=None):
        self.mix.build((None, self.size, self.size, self.channels + 4))
        self.out.build((None, self.size, self.size, 4))
        self.built = True

    def call(self, inputs, training=False):
        h = self.mix(keras.ops.concatenate([inputs["frame"], inputs["h"]], axis=-1))
        return {"frame": self.out(h), "h": keras.ops.cast(h, "float32")}

    def get_config(self):
        return {**super().get_config(), "size": self.size, "channels": self.channels}


@keras.saving.register_keras_serializable(package="vidgen_tf_tests")
class ToyRecurrent(RecurrentPredictionTrainer):
    def __init__(self, predictor=None, *, size=SIZE, channels=CHANNELS, context=CONTEXT,
                 horizon=HORIZON, learning_rate=1e-2, **kwargs):
        if isinstance(predictor, dict):
            predictor = keras.saving.deserialize_keras_object(predictor)
        super().__init__(predictor or ToyStep(size, channels), context=context,
                         horizon=horizon, learning_rate=learning_rate, **kwargs)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "channels": self.channels,
                "predictor": keras.saving.serialize_keras_object(self.predictor)}


def clips(num=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (num, CONTEXT + HORIZON, SIZE, SIZE, CHANNELS)).astype("float32")


def test_a_training_prediction_of_frame_t_uses_only_the_frames_before_it():
    model = ToyRecurrent()
    model.build()
    video = clips()
    # At step 0 scheduled sampling feeds real frames throughout (probability 1).
    before, target, _ = model.forecast(tf.constant(video), 0)
    np.testing.assert_array_equal(target, video[:, 1:])
    for t in range(1, video.shape[1] - 1):
        changed = video.copy()
        changed[:, t:] = np.random.default_rng(t).uniform(-1, 1, changed[:, t:].shape)
        after, _, _ = model.forecast(tf.constant(changed), 0)
        # Predictions of frames 1..t (indices 0..t-1) saw frames 0..t-1 only.
        np.testing.assert_array_equal(np.asarray(after)[:, :t], np.asarray(before)[:, :t])
        assert not np.array_equal(np.asarray(after)[:, t:], np.asarray(before)[:, t:])


def test_scheduled_sampling_schedules_match_hand_worked_values():
    linear = ToyRecurrent(sampling_stop_iter=50000, sampling_changing_rate=2e-5)
    for step, expected in ((0, 1.0), (10000, 0.8), (49999, 0.00002), (50000, 0.0)):
        context, horizon = linear.real_frame_probabilities(step)
        assert float(context) == 1.0
        assert abs(float(horizon) - expected) < 1e-6, step
    reverse = ToyRecurrent(reverse_scheduled_sampling=True, r_sampling_step_1=25000,
                           r_sampling_step_2=50000, r_exp_alpha=5000)
    # Before step 1: 0.5 and 0.5; halfway: 1 - 0.5 e^(-12500/5000) = 0.95896 and 0.25.
    for step, (c, h) in ((0, (0.5, 0.5)), (37500, (0.958958, 0.25)), (60000, (1.0, 0.0))):
        context, horizon = reverse.real_frame_probabilities(step)
        assert abs(float(context) - c) < 1e-5 and abs(float(horizon) - h) < 1e-6, step
    off = ToyRecurrent(scheduled_sampling=False)
    assert [float(p) for p in off.real_frame_probabilities(0)] == [1.0, 0.0]


def test_the_numpy_rollout_equals_the_keras_unroll_for_any_horizon():
    model = ToyRecurrent()
    model.build()
    video = clips()
    spec = model.export_spec()
    sampler = RolloutSampler({"step": spec.graphs["step"].keras_call},
                             **spec.sampler["params"])
    for horizon in (1, HORIZON, 3 * HORIZON):
        expected = np.asarray(model.predict_frames(tf.constant(video[:, :CONTEXT]), horizon))
        got = sampler({"context": video[:, :CONTEXT]}, frames=horizon)
        assert got.shape == (4, horizon, SIZE, SIZE, CHANNELS)
        np.testing.assert_allclose(got, expected, atol=1e-5)
    # A longer context is cut to its last CONTEXT frames.
    longer = np.concatenate([clips(seed=9)[:, :2], video[:, :CONTEXT]], axis=1)
    np.testing.assert_allclose(sampler({"context": longer}),
                               sampler({"context": video[:, :CONTEXT]}), atol=0)
    with pytest.raises(ValueError, match="at least 3 frames"):
        sampler({"context": video[:, :2]})


def test_fit_lowers_the_reconstruction_loss_and_config_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    model = ToyRecurrent(scheduled_sampling=False)
    model.compile(loss="l1")
    # A constant scene: the next frame equals this one, which the toy can learn quickly.
    still = np.repeat(clips(num=8)[:, :1], CONTEXT + HORIZON, axis=1)
    history = model.fit(still, batch_size=4, epochs=6, verbose=0).history
    assert history["reconstruction_loss"][-1] < 0.7 * history["reconstruction_loss"][0]
    clone = ToyRecurrent.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    model.save(tmp_path / "toy.keras")
    loaded = keras.models.load_model(tmp_path / "toy.keras")
    assert loaded.loss == "l1"
    context = tf.constant(still[:, :CONTEXT])
    np.testing.assert_allclose(loaded.predict_frames(context, 4),
                               model.predict_frames(context, 4), atol=1e-6)


def test_compile_refuses_a_gan_loss_and_bad_lengths_are_named():
    with pytest.raises(ValueError, match="mse, l1"):
        ToyRecurrent().compile(loss="hinge")
    with pytest.raises(ValueError, match="horizon must be an integer >= 1"):
        ToyRecurrent(horizon=0)


def test_the_export_predicts_what_keras_predicts_for_any_horizon(tmp_path):
    from vidgen_tf.data.pixels import float_to_uint8, uint8_to_float
    from vidgen_tf.export.generator_export import export_generator
    from vidgen_tf.runtime import VideoGenerator

    model = ToyRecurrent()
    model.compile()
    model.save(tmp_path / "toy.keras")
    manifest = export_generator(tmp_path / "toy.keras", "toy_predict",
                                saved_models_dir=tmp_path / "saved", export_dir=tmp_path / "exp")
    assert manifest["task"] == "prediction" and manifest["sampler"]["name"] == "rollout"
    assert manifest["parity"]["graphs"]["step"]["keras_vs_onnxruntime"] <= 1e-4
    assert manifest["inputs"]["context"]["role"] == "context"
    generator = VideoGenerator(tmp_path / "exp" / "toy_predict")
    context = float_to_uint8(clips(num=3)[:, :CONTEXT])
    for frames in (HORIZON, 5):
        video = generator.generate(context=context, frames=frames)
        assert video.shape == (3, frames, SIZE, SIZE, CHANNELS) and video.dtype == np.uint8
        expected = float_to_uint8(model.predict_frames(tf.constant(uint8_to_float(context)),
                                                       frames))
        assert np.abs(video.astype(int) - expected).max() <= 1
    with pytest.raises(ValueError, match="needs at least 3"):
        generator.generate(context=context[:, :2])
    with pytest.raises(ValueError, match=r"1 \(grey\) or 3 \(RGB\) channels"):
        generator.generate(context=np.zeros((1, 3, SIZE, SIZE, 2), np.uint8))
    with pytest.raises(ValueError, match="does not take prompt"):
        generator.generate(context=context, prompt="a red circle")


def test_a_cosine_schedule_falls_to_one_percent_and_survives_a_save(tmp_path):
    keras.utils.set_random_seed(0)
    model = ToyRecurrent(scheduled_sampling=False, learning_rate=1e-2, decay_steps=4)
    model.compile()
    rate = model.predictor_optimizer.learning_rate  # read at the optimizer's iteration
    assert float(rate) == pytest.approx(1e-2)
    model.fit(clips(num=8), batch_size=4, epochs=1, verbose=0)  # 2 steps: half way
    # 1e-2 * (0.01 + 0.99 * (1 + cos(pi / 2)) / 2) = 1e-2 * 0.505
    assert float(model.predictor_optimizer.learning_rate) == pytest.approx(5.05e-3)
    model.save(tmp_path / "toy.keras")
    loaded = keras.models.load_model(tmp_path / "toy.keras")
    assert loaded.decay_steps == 4
    assert float(loaded.predictor_optimizer.learning_rate) == pytest.approx(5.05e-3)
    loaded.fit(clips(num=16), batch_size=4, epochs=1, verbose=0)  # 4 more: past the end
    assert float(loaded.predictor_optimizer.learning_rate) == pytest.approx(1e-4)
    with pytest.raises(ValueError, match="decay_steps must be None or an integer >= 1"):
        ToyRecurrent(decay_steps=0)
