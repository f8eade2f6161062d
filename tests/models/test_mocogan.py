"""MoCoGAN: motion/content properties, shapes, fit updates, round trips, resumable optimizers."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import (
    assert_config_round_trip,
    assert_fit_changes_every_network,
    assert_resume_matches_uninterrupted,
    assert_same_optimizer_state,
    optimizer_state,
)
from vidgen_tf.models.mocogan import (
    MOCOGAN_PRESETS,
    MoCoGAN,
    MoCoGANGenerator,
    MoCoGANImageDiscriminator,
    MoCoGANVideoDiscriminator,
)
from vidgen_tf.training.gan_trainer import DEFAULT_LEARNING_RATE

TINY = dict(frames=8, size=16, content_dim=8, motion_dim=4, noise_dim=4, base_filters=8)
NETWORKS = ["generator", "image_discriminator", "video_discriminator"]


def real_batch(n=4, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 8, 16, 16, 3)).astype("float32")


def noise(batch=2, frames=8, seed=0, num_classes=0):
    rng = np.random.default_rng(seed)
    inputs = {"content": rng.normal(size=(batch, 8)).astype("float32"),
              "motion": rng.normal(size=(batch, frames, 4)).astype("float32")}
    if num_classes:
        inputs["label"] = rng.integers(0, num_classes, batch).astype("int32")
    return inputs


# --------------------------------------------------------------------------- networks


def test_paper_64_shapes_match_the_paper():
    paper = MOCOGAN_PRESETS["paper_64"]
    g = MoCoGANGenerator(**{k: paper[k] for k in ("frames", "size", "content_dim", "motion_dim",
                                                  "noise_dim", "num_classes")}, base_filters=4)
    g.build()
    # 4x4 projection, then ngf*8 -> ngf*4 -> ngf*2 -> ngf as in the paper's image generator.
    assert [conv.filters for conv, _ in g.blocks] == [16, 8, 4]
    video = g({"content": np.zeros((1, 50), "float32"), "motion": np.zeros((1, 16, 10), "f4")})
    assert video.shape == (1, 16, 64, 64, 3) and video.dtype == "float32"
    d_video = MoCoGANVideoDiscriminator(frames=16, size=64, base_filters=4)
    assert d_video(video)["logits"].shape == (1, 4, 4, 4, 1)  # the paper's 4x4x4 patches
    d_image = MoCoGANImageDiscriminator(size=64, base_filters=4)
    assert d_image(video[:, 0]).shape == (1, 4, 4, 1)


def test_generator_output_range_and_determinism():
    g = MoCoGANGenerator(**TINY)
    z = noise(batch=3)
    video = np.asarray(g(z))
    assert video.shape == (3, 8, 16, 16, 3) and video.dtype == np.float32
    assert np.abs(video).max() <= 1.0
    np.testing.assert_array_equal(video, g(z))
    assert not np.array_equal(video[0], video[1])
    assert not np.array_equal(video[0, 0], video[0, 1])  # motion noise moves the frames


def test_content_is_shared_by_every_frame_and_motion_by_nothing_else():
    g = MoCoGANGenerator(**TINY)
    z = noise()
    other_content = {**z, "content": noise(seed=1)["content"]}
    a, b = np.asarray(g(z)), np.asarray(g(other_content))
    # Changing only the content changes every frame of every clip.
    assert all(not np.allclose(a[i, t], b[i, t]) for i in range(2) for t in range(8))
    # Two clips with the same content and the same motion are identical, whatever the batch.
    twin = {name: np.repeat(value[:1], 2, axis=0) for name, value in z.items()}
    video = np.asarray(g(twin))
    np.testing.assert_array_equal(video[0], video[1])


def test_generates_longer_clips_than_trained_and_the_start_is_unchanged():
    g = MoCoGANGenerator(**TINY)
    z = noise(frames=16)
    long = np.asarray(g(z))
    assert long.shape == (2, 16, 16, 16, 3)
    # The GRU is causal: the first 8 frames depend only on the first 8 motion steps.
    short = np.asarray(g({**z, "motion": z["motion"][:, :8]}))
    np.testing.assert_allclose(long[:, :8], short, rtol=0, atol=1e-6)
    assert not np.allclose(long[:, 8:], long[:, :8])
    # The later motion steps do move the later frames.
    changed = np.asarray(g({**z, "motion": np.concatenate(
        [z["motion"][:, :8], noise(frames=16, seed=5)["motion"][:, 8:]], axis=1)}))
    np.testing.assert_allclose(changed[:, :8], short, rtol=0, atol=1e-6)
    assert not np.allclose(changed[:, 8:], long[:, 8:])


def test_traced_generator_has_dynamic_length_and_no_random_op():
    g = MoCoGANGenerator(**TINY, num_classes=3)
    signature = {"content": tf.TensorSpec((None, 8), tf.float32, name="content"),
                 "motion": tf.TensorSpec((None, None, 4), tf.float32, name="motion"),
                 "label": tf.TensorSpec((None,), tf.int32, name="label")}
    concrete = tf.function(lambda x: g(x)).get_concrete_function(signature)
    ops = {node.op for f in [concrete.graph.as_graph_def()]
           for node in [*f.node, *(n for lib in f.library.function for n in lib.node_def)]}
    assert not [op for op in ops if "Random" in op or "Cudnn" in op]
    assert concrete(**{k: tf.constant(v) for k, v in noise(frames=5, num_classes=3).items()}
                    ).shape == (2, 5, 16, 16, 3)


def test_label_changes_the_clip_when_conditional():
    g = MoCoGANGenerator(**TINY, num_classes=3)
    assert g.noise_spec()["label"] == {"shape": (), "dtype": "int32",
                                       "distribution": "categorical", "num_classes": 3}
    z = noise(num_classes=3)
    a = np.asarray(g({**z, "label": np.array([0, 0], "int32")}))
    b = np.asarray(g({**z, "label": np.array([2, 0], "int32")}))
    assert all(not np.allclose(a[0, t], b[0, t]) for t in range(8))
    np.testing.assert_array_equal(a[1], b[1])  # clip 1 kept its label, so it is unchanged
    with pytest.raises(ValueError, match='needs a "label" input'):
        g(noise())
    assert "label" not in MoCoGANGenerator(**TINY).noise_spec()


def test_discriminator_shapes_and_the_category_head():
    video = real_batch(2)
    d_image = MoCoGANImageDiscriminator(size=16, base_filters=8)
    logits = d_image(video[:, 0])
    assert logits.shape == (2, 4, 4, 1) and logits.dtype == "float32"
    out = MoCoGANVideoDiscriminator(frames=8, size=16, base_filters=8)(video)
    assert set(out) == {"logits"} and out["logits"].shape == (2, 2, 4, 4, 1)
    out = MoCoGANVideoDiscriminator(frames=8, size=16, base_filters=8, num_classes=6)(video)
    assert set(out) == {"logits", "class_logits"}
    assert out["logits"].shape == (2, 2, 4, 4, 1) and out["class_logits"].shape == (2, 6)
    assert out["class_logits"].dtype == "float32"


def test_invalid_configurations_are_clear_errors():
    with pytest.raises(ValueError, match=r"frames must be >= 13 .* size=64 .* received frames=8"):
        MoCoGANVideoDiscriminator(frames=8, size=64)
    with pytest.raises(ValueError, match=r"size must be 4 x a power of two .* received size=48"):
        MoCoGANGenerator(size=48)
    with pytest.raises(ValueError, match="image_batch_size must be >= 1"):
        MoCoGAN(**TINY, image_batch_size=0)
    with pytest.raises(ValueError, match="must agree on frames, size and num_classes"):
        MoCoGAN(MoCoGANGenerator(**TINY), video_discriminator=MoCoGANVideoDiscriminator(
            frames=8, size=16, base_filters=8, num_classes=2))


# --------------------------------------------------------------------------- trainer


def _gan(**kwargs):
    return MoCoGAN(**{**TINY, "image_batch_size": 4, **kwargs})


@pytest.mark.parametrize("loss", ["bce", "hinge", "wgan_gp"])
def test_one_fit_epoch_changes_all_three_networks(loss):
    gan = _gan()
    gan.compile(loss=loss)
    # No logit conv has a bias (as in the paper), so nothing is exempt.
    history = assert_fit_changes_every_network(gan, real_batch(), NETWORKS, batch_size=2)
    assert set(history) == {"loss", "image_d_loss", "video_d_loss", "g_loss"}
    np.testing.assert_allclose(history["loss"][0], history["image_d_loss"][0]
                               + history["video_d_loss"][0] + history["g_loss"][0], rtol=1e-5)
    assert all(np.isfinite(v[0]) for v in history.values())
    for name in gan.optimizer_names:
        assert int(getattr(gan, name).iterations) == 2, name


def test_default_optimizers_are_the_papers_adam_with_weight_decay():
    gan = _gan()
    gan.compile()
    optimizers = [getattr(gan, name) for name in gan.optimizer_names]
    assert len({id(o) for o in optimizers}) == 3
    for optimizer in optimizers:
        config = optimizer.get_config()
        assert (config["learning_rate"], config["beta_1"], config["beta_2"],
                config["weight_decay"]) == pytest.approx((2e-4, 0.5, 0.999, 1e-5))


def test_discriminator_width_and_ttur_learning_rates_are_configurable():
    gan = _gan(discriminator_filters=12, generator_learning_rate=1e-4,
               discriminator_learning_rate=4e-4, adam_betas=(0.0, 0.9))
    gan.compile()
    # ndf sets the first conv of both discriminators; ngf stays base_filters (8).
    assert gan.image_discriminator.base_filters == gan.video_discriminator.base_filters == 12
    assert gan.generator.base_filters == 8
    first_image_kernel = gan.image_discriminator.blocks[0][0].kernel
    assert tuple(first_image_kernel.shape) == (4, 4, 3, 12)
    rates = {name: getattr(gan, name).get_config() for name in gan.optimizer_names}
    assert rates["generator_optimizer"]["learning_rate"] == pytest.approx(1e-4)
    for name in ("image_discriminator_optimizer", "video_discriminator_optimizer"):
        assert rates[name]["learning_rate"] == pytest.approx(4e-4)
    for config in rates.values():
        assert (config["beta_1"], config["beta_2"]) == pytest.approx((0.0, 0.9))
    restored = MoCoGAN.from_config(gan.get_config())
    assert (restored.discriminator_filters, restored.generator_learning_rate,
            restored.discriminator_learning_rate, restored.adam_betas) == (12, 1e-4, 4e-4,
                                                                          (0.0, 0.9))
    with pytest.raises(ValueError, match="learning rates must be > 0"):
        _gan(discriminator_learning_rate=0)


def test_conditional_fit_reads_the_labels_from_the_data():
    videos, labels = real_batch(), np.array([0, 1, 2, 1], "int32")

    def fit(data, *y):
        keras.utils.set_random_seed(0)
        gan = _gan(num_classes=3)
        gan.compile()
        history = gan.fit(data, *y, batch_size=2, epochs=1, shuffle=False, verbose=0).history
        return gan, history

    gan, history = fit({"video": videos, "label": labels})
    assert set(history) == {"loss", "image_d_loss", "video_d_loss", "g_loss", "d_category_loss",
                            "g_category_loss"}
    # At the start every class is about equally likely: cross-entropy near log(3).
    assert history["d_category_loss"][0] == pytest.approx(np.log(3), abs=0.3)
    same, _ = fit(videos, labels)  # fit(x, y) reads the same labels
    other, _ = fit({"video": videos, "label": (labels + 1) % 3})
    w = gan.video_discriminator.get_weights()
    for a, b in zip(w, same.video_discriminator.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert not all(np.allclose(a, b) for a, b in zip(
        w, other.video_discriminator.get_weights(), strict=True))
    unlabelled = _gan(num_classes=3)
    unlabelled.compile()
    with pytest.raises(ValueError, match="trains on labelled clips"):
        unlabelled.fit(videos, batch_size=2, epochs=1, verbose=0)


def test_conditional_fit_changes_every_variable():
    gan = _gan(num_classes=3)
    gan.compile()
    data = {"video": real_batch(), "label": np.array([0, 1, 2, 1], "int32")}
    assert_fit_changes_every_network(gan, data, NETWORKS, batch_size=2)


def test_config_and_keras_round_trip_keep_outputs_and_optimizer_state(tmp_path):
    gan = _gan(num_classes=2, seed=3, category_weight=0.5)
    gan.compile(loss="hinge")
    data = {"video": real_batch(), "label": np.array([0, 1, 1, 0], "int32")}
    gan.fit(data, batch_size=2, epochs=1, verbose=0)
    for model in [gan, *(getattr(gan, name) for name in NETWORKS)]:
        assert_config_round_trip(model)
    gan.save(tmp_path / "gan.keras")
    loaded = keras.models.load_model(tmp_path / "gan.keras")
    assert isinstance(loaded, MoCoGAN) and loaded.loss == "hinge"
    assert (loaded.seed, loaded.category_weight, loaded.num_classes) == (3, 0.5, 2)
    z = noise(frames=12, num_classes=2)
    np.testing.assert_array_equal(loaded.generator(z), gan.generator(z))
    video = real_batch(2)
    np.testing.assert_array_equal(loaded.image_discriminator(video[:, 3]),
                                  gan.image_discriminator(video[:, 3]))
    for key in ("logits", "class_logits"):
        np.testing.assert_array_equal(loaded.video_discriminator(video)[key],
                                      gan.video_discriminator(video)[key])
    assert_same_optimizer_state(optimizer_state(loaded), optimizer_state(gan))
    loaded.fit(data, batch_size=2, epochs=1, verbose=0)  # ready to fit again
    for name in loaded.optimizer_names:
        assert int(getattr(loaded, name).iterations) == 4, name


def test_presets_build_a_trainer():
    assert {"paper_64", "paper_64_conditional", "tiny"} <= set(MOCOGAN_PRESETS)
    assert MOCOGAN_PRESETS["paper_64"]["batch_size"] == 3
    assert MOCOGAN_PRESETS["paper_64"]["image_batch_size"] == 10
    assert MOCOGAN_PRESETS["paper_64_conditional"]["num_classes"] == 6
    tiny = {k: v for k, v in MOCOGAN_PRESETS["tiny"].items() if k != "batch_size"}
    gan = MoCoGAN(**tiny)
    assert (gan.frames, gan.size, gan.image_batch_size) == (8, 16, 4)
    assert gan.get_config()["base_filters"] == 8
    ttur = {k: v for k, v in MOCOGAN_PRESETS["shapes_64_ttur"].items() if k != "batch_size"}
    assert ttur["discriminator_learning_rate"] == pytest.approx(3 * DEFAULT_LEARNING_RATE)


def _compiled():
    gan = _gan()
    gan.compile()
    return gan


def test_backup_and_restore_resumes_every_optimizer_without_double_counting(tmp_path):
    assert_resume_matches_uninterrupted(_compiled, real_batch(8), tmp_path)


def test_spectral_norm_discriminators_round_trip_with_their_power_iteration_state(tmp_path):
    gan = _gan(spectral_norm=True, minibatch_std=True)
    gan.compile(loss="hinge")
    gan.fit(real_batch(), batch_size=2, epochs=1, verbose=0)
    gan.save(tmp_path / "gan.keras")
    loaded = keras.models.load_model(tmp_path / "gan.keras")
    video = real_batch(2)
    # Inference divides by sigma from the stored u: equal outputs need u restored too.
    np.testing.assert_array_equal(loaded.image_discriminator(video[:, 3]),
                                  gan.image_discriminator(video[:, 3]))
    np.testing.assert_array_equal(loaded.video_discriminator(video)["logits"],
                                  gan.video_discriminator(video)["logits"])


def _without_key(obj, key):
    if isinstance(obj, dict):
        return {k: _without_key(v, key) for k, v in obj.items() if k != key}
    if isinstance(obj, list):
        return [_without_key(v, key) for v in obj]
    return obj


def test_files_saved_with_keras_spectral_normalization_still_load(tmp_path):
    import json
    import zipfile

    legacy = dict(base_filters=8, spectral_norm=True, minibatch_std=True,
                  spectral_norm_impl="keras")
    gan = MoCoGAN(image_discriminator=MoCoGANImageDiscriminator(size=16, **legacy),
                  video_discriminator=MoCoGANVideoDiscriminator(frames=8, size=16, **legacy),
                  **TINY, image_batch_size=4)
    gan.compile(loss="hinge")
    gan.fit(real_batch(), batch_size=2, epochs=1, verbose=0)
    gan.save(tmp_path / "new.keras")
    # Rewrite it as a file from before spectral_norm_impl existed: no such key in the config.
    with zipfile.ZipFile(tmp_path / "new.keras") as src, \
            zipfile.ZipFile(tmp_path / "old.keras", "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "config.json":
                config = _without_key(json.loads(data), "spectral_norm_impl")
                assert "spectral_norm_impl" not in json.dumps(config)
                data = json.dumps(config).encode()
            dst.writestr(item, data)
    loaded = keras.models.load_model(tmp_path / "old.keras")
    assert loaded.image_discriminator.spectral_norm_impl == "keras"
    video = real_batch(2)
    np.testing.assert_array_equal(loaded.image_discriminator(video[:, 3]),
                                  gan.image_discriminator(video[:, 3]))
    np.testing.assert_array_equal(loaded.video_discriminator(video)["logits"],
                                  gan.video_discriminator(video)["logits"])
    assert _gan(spectral_norm=True).image_discriminator.spectral_norm_impl == "forward"


# --------------------------------------------------------------------------- shapes recipe


@pytest.mark.parametrize("spectral_norm", [False, True])
def test_global_head_gives_one_logit_per_frame_and_per_clip(spectral_norm):
    video = real_batch(2)
    d_image = MoCoGANImageDiscriminator(size=16, base_filters=8, head="global",
                                        spectral_norm=spectral_norm)
    assert d_image(video[:, 0]).shape == (2, 1, 1, 1)
    d_video = MoCoGANVideoDiscriminator(frames=8, size=16, base_filters=8, num_classes=3,
                                        head="global", spectral_norm=spectral_norm)
    out = d_video(video)
    assert out["logits"].shape == (2, 1, 1, 1, 1) and out["class_logits"].shape == (2, 3)
    # Every pixel of every frame reaches the single logit (a patch logit sees only its patch).
    x = tf.constant(video)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        image_logit = tf.reduce_sum(d_image(x[:, 0]))
        video_logit = tf.reduce_sum(d_video(x)["logits"])
    assert np.all(np.abs(tape.gradient(image_logit, x)[:, 0]).sum(axis=-1) > 0)
    assert np.all(np.abs(tape.gradient(video_logit, x)).sum(axis=-1) > 0)
    for d in (d_image, d_video):
        assert_config_round_trip(d)
        assert type(d).from_config(d.get_config()).head == "global"
    with pytest.raises(ValueError, match=r"head must be one of patch, global; received "
                                         r"head='dense'"):
        MoCoGANImageDiscriminator(size=16, head="dense")


def _picked_batch():
    return {"video": real_batch(2, seed=3), "noise": noise(batch=2, seed=4),
            "frame_picks": np.array([[0, 3], [5, 7]], "int32")}


def _first_step_logs(gan, batch):
    history = gan.fit(tf.data.Dataset.from_tensors(batch), epochs=1, verbose=0)
    return {k: v[0] for k, v in history.history.items()}


def test_r1_weight_adds_half_gamma_times_the_penalty_on_real_inputs():
    from vidgen_tf.losses import r1_penalty

    batch = _picked_batch()
    plain = _gan()
    plain.compile(loss="bce")
    penalised = MoCoGAN.from_config({**plain.get_config(), "r1_weight": 4.0})
    penalised.compile(loss="bce")
    penalised.set_weights(plain.get_weights())
    # The frames the injected picks choose, computed here with the untrained weights.
    frames = batch["video"][[0, 0, 1, 1], [0, 3, 5, 7]]
    image_r1 = float(r1_penalty(lambda x: plain.image_discriminator(x, training=True), frames))
    video_r1 = float(r1_penalty(
        lambda x: plain.video_discriminator(x, training=True)["logits"], batch["video"]))
    assert image_r1 > 0 and video_r1 > 0
    a, b = _first_step_logs(plain, batch), _first_step_logs(penalised, batch)
    np.testing.assert_allclose(b["image_d_loss"] - a["image_d_loss"], 2.0 * image_r1, rtol=1e-4)
    np.testing.assert_allclose(b["video_d_loss"] - a["video_d_loss"], 2.0 * video_r1, rtol=1e-4)
    with pytest.raises(ValueError, match="r1_weight must be >= 0"):
        _gan(r1_weight=-1.0)


def _generator_weights(gan):
    return [keras.ops.convert_to_numpy(v) for v in gan.generator.trainable_variables]


def test_generator_ema_samples_and_exports_the_moving_average(tmp_path):
    from vidgen_tf.export.sources import float32_generator

    gan = _gan(generator_ema=0.5)
    gan.compile(loss="hinge")
    batch = _picked_batch()
    data = tf.data.Dataset.from_tensors(batch)
    gan.fit(data, epochs=1, verbose=0)
    w1 = _generator_weights(gan)
    gan.fit(data, epochs=1, verbose=0)
    w2 = _generator_weights(gan)
    # Keras' EMA starts at the first step's weights, then average = 0.5 average + 0.5 w.
    expected = [0.5 * a + 0.5 * b for a, b in zip(w1, w2, strict=True)]
    assert any(not np.allclose(a, b) for a, b in zip(w1, w2, strict=True))
    with gan.averaged_generator() as generator:
        for got, want in zip(generator.trainable_variables, expected, strict=True):
            np.testing.assert_allclose(keras.ops.convert_to_numpy(got), want, rtol=1e-6,
                                       atol=1e-7)
        averaged_video = np.asarray(generator(noise(batch=1)))
    for got, want in zip(_generator_weights(gan), w2, strict=True):  # restored on exit
        np.testing.assert_array_equal(got, want)
    assert not np.allclose(averaged_video, gan.generator(noise(batch=1)))
    # The saved model keeps the average, and export takes the averaged weights.
    gan.save(tmp_path / "gan.keras")
    exported, _ = float32_generator(tmp_path / "gan.keras")
    np.testing.assert_allclose(exported(noise(batch=1)), averaged_video, atol=1e-6)
    with pytest.raises(ValueError, match=r"generator_ema must be in \[0, 1\)"):
        _gan(generator_ema=1.0)


def test_without_ema_the_averaged_generator_is_the_generator():
    gan = _gan()
    gan.compile()
    before = _generator_weights(gan)
    with gan.averaged_generator() as generator:
        assert generator is gan.generator
    for got, want in zip(_generator_weights(gan), before, strict=True):
        np.testing.assert_array_equal(got, want)
