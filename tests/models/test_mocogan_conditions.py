"""Conditional MoCoGAN (label, text, first frame): the conditions steer the generator, the
discriminators project them, the first-frame L1 term, argument errors, and the run's dataset
that never shows a held-out caption."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from vidgen_tf.data.shapes import ALL_CAPTIONS, HELD_OUT_CAPTIONS
from vidgen_tf.errors import VidgenError
from vidgen_tf.models.mocogan import MOCOGAN_PRESETS, MoCoGAN, MoCoGANGenerator
from vidgen_tf.models.mocogan.mocogan_conditioning import mismatched, swap_one_word
from vidgen_tf.models.registry import parse_conditions
from vidgen_tf.runtime.tokenizer import WordTokenizer

TINY = {k: v for k, v in MOCOGAN_PRESETS["tiny"].items() if k != "batch_size"}
TINY.update(discriminator_head="global", spectral_norm=True)
TOKENIZER = WordTokenizer.from_captions(ALL_CAPTIONS)
TEXT = {"vocabulary": TOKENIZER.vocabulary, "max_tokens": TOKENIZER.max_tokens}
CONDITION_KWARGS = {"label": {"num_classes": 12}, "text": TEXT, "first_frame": {}}
FRAMES, SIZE = TINY["frames"], TINY["size"]


def conditional_gan(*conditions, seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    extra = {k: v for c in conditions for k, v in CONDITION_KWARGS[c].items()}
    return MoCoGAN(**{**TINY, **extra, **kwargs}, conditions=conditions)


def noise(batch=2, seed=0):
    rng = np.random.default_rng(seed)
    return {"content": rng.normal(size=(batch, TINY["content_dim"])).astype("float32"),
            "motion": rng.normal(size=(batch, FRAMES, TINY["noise_dim"])).astype("float32")}


def real_videos(batch=2, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (batch, FRAMES, SIZE, SIZE, 3)
                                               ).astype("float32")


def frame_image(seed):
    return np.random.default_rng(seed).uniform(-1, 1, (SIZE, SIZE, 3)).astype("float32")


# Two different values of each condition, one per clip of a batch of 2 (repeated to batch).
TWO_VALUES = {
    "label": lambda: np.array([3, 8], "int32"),
    "prompt_tokens": lambda: TOKENIZER.encode(["a red circle moves left",
                                               "a blue square moves up"]),
    "first_frame": lambda: np.stack([frame_image(1), frame_image(2)]),
}
INPUT = {"label": "label", "text": "prompt_tokens", "first_frame": "first_frame"}


# --------------------------------------------------------------------------- generator


@pytest.mark.parametrize("condition", ["label", "text", "first_frame"])
def test_the_condition_steers_the_generator(condition):
    # Guards that the condition reaches the clip: the same noise made for two different
    # conditions gives two different clips, and for the same condition the same clip.
    g = conditional_gan(condition).generator
    assert "label" not in g.noise_spec()  # a label condition is given, never the paper's draw
    assert list(g.condition_spec()) == [INPUT[condition]]
    twin = {k: np.repeat(v[:1], 2, axis=0) for k, v in noise().items()}  # same noise twice
    values = TWO_VALUES[INPUT[condition]]()
    different = np.asarray(g({**twin, INPUT[condition]: values}))
    same = np.asarray(g({**twin, INPUT[condition]: np.repeat(values[:1], 2, axis=0)}))
    np.testing.assert_array_equal(same[0], same[1])
    np.testing.assert_allclose(different[0], same[0], atol=1e-6)
    # Every frame changes: the code drives both the motion GRU and each frame's z_t.
    assert all(np.abs(different[0, t] - different[1, t]).max() > 1e-4 for t in range(FRAMES))


def test_all_three_conditions_each_steer_one_generator():
    # Guards the concatenated code: changing any one condition alone changes the clip.
    g = conditional_gan("label", "text", "first_frame").generator
    base = {**noise(), **{name: make() for name, make in TWO_VALUES.items()}}
    g(base)  # builds it; the label and text move the first frame only through the flow,
    _randomize_warp(g)  # which starts at about 1e-3 pixel
    video = np.asarray(g(base))
    for name, value in [("label", np.array([5, 9], "int32")),
                        ("prompt_tokens", TOKENIZER.encode(["a green triangle moves down"] * 2)),
                        ("first_frame", np.stack([frame_image(7), frame_image(8)]))]:
        changed = np.asarray(g({**base, name: value}))
        assert np.abs(changed - video).max() > 1e-4, name
    with pytest.raises(ValueError, match=r"needs the inputs prompt_tokens"):
        g({k: v for k, v in base.items() if k != "prompt_tokens"})


# --------------------------------------------------------------------------- discriminators


@pytest.mark.parametrize("condition", ["label", "text"])
def test_the_discriminators_judge_a_clip_with_its_condition(condition):
    # Guards the projection: one clip judged with two different labels or prompts gets two
    # different logits from both discriminators (a clip that does not match is "fake").
    gan = conditional_gan(condition)
    name = INPUT[condition]
    video = np.repeat(real_videos(1), 2, axis=0)
    values = TWO_VALUES[name]()
    d_v = np.asarray(gan.video_discriminator(video, {name: values})["logits"])
    d_i = np.asarray(gan.image_discriminator(video[:, 0], {name: values}))
    assert d_v.shape == (2, 1, 1, 1, 1) and d_i.shape == (2, 1, 1, 1)  # "global" heads
    assert abs(d_v[0] - d_v[1]).max() > 1e-5 and abs(d_i[0] - d_i[1]).max() > 1e-5
    same = {name: np.repeat(values[:1], 2, axis=0)}
    d_v_same = np.asarray(gan.video_discriminator(video, same)["logits"])
    np.testing.assert_allclose(d_v_same[1], d_v_same[0], rtol=1e-6)
    np.testing.assert_allclose(d_v_same[0], d_v[0], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="pass conditions="):
        gan.video_discriminator(video)


def test_a_first_frame_is_not_judged_by_the_discriminators():
    # Guards that only label and text are projected: the first frame is the generator's only.
    gan = conditional_gan("text", "first_frame")
    assert gan.image_discriminator.conditions == ("text",)
    assert gan.video_discriminator.conditions == ("text",)
    assert conditional_gan("first_frame").video_discriminator.condition_encoder is None


def test_label_condition_adds_projection_to_the_category_head():
    # Guards the label design: projection in both discriminators plus the AC category head.
    gan = conditional_gan("label")
    assert gan.video_discriminator.num_classes == 12
    assert gan.video_discriminator.condition_classes == 12
    assert gan.image_discriminator.num_classes == 12
    assert "d_category_loss" in gan.trackers




def _aux_loss_by_hand(outputs: dict, name: str, rows: np.ndarray) -> float:
    """The image discriminator's auxiliary loss in numpy: softmax cross-entropy of the label,
    or per-word binary cross-entropy of the prompt summed over the vocabulary (padding 0
    excluded) and divided by the prompt's length."""
    if name == "label":
        logits = np.asarray(outputs["class_logits"], "float64")
        top = logits.max(axis=1)
        log_z = top + np.log(np.exp(logits - top[:, None]).sum(axis=1))
        return float(np.mean(log_z - logits[np.arange(len(rows)), rows]))
    logits = np.asarray(outputs["word_logits"], "float64")[:, 1:]
    present = np.zeros_like(logits)
    for i, tokens in enumerate(rows):
        present[i, [t - 1 for t in tokens if t]] = 1
    p = 1 / (1 + np.exp(-logits))
    bce = -(present * np.log(p) + (1 - present) * np.log(1 - p))
    return float(np.mean(bce.sum(axis=1)) / rows.shape[1])


@pytest.mark.parametrize("hidden", [0, 8])
def test_the_frame_classifiers_are_blind_to_where_the_shape_is(hidden):
    # Guards position-blind auxiliary heads, linear or with a hidden layer per position: a
    # shape moved by a multiple of the blocks' total stride gets the same class logits (a
    # frame must not tell the direction by the place the clip starts from), while the
    # realism logit may see the place.
    d_i = conditional_gan("label", image_aux_hidden=hidden).image_discriminator
    assert (d_i.aux_local is not None) == bool(hidden)
    frames = np.full((2, SIZE, SIZE, 3), -1.0, "float32")
    frames[0, 4:8, 4:7] = frames[1, 8:12, 8:11] = (1.0, 0.2, -0.5)
    labels = {"label": np.array([3, 3], "int32")}
    out = d_i(frames, labels, aux=True)
    np.testing.assert_allclose(out["class_logits"][0], out["class_logits"][1], atol=1e-5)
    blank = d_i(np.full_like(frames, -1.0), labels, aux=True)["class_logits"]
    assert np.abs(np.asarray(blank[0]) - np.asarray(out["class_logits"][0])).max() > 1e-4
    if hidden:  # the hidden layer is on the path: the classifiers read its channels
        assert d_i.aux_local.built and d_i.to_aux.kernel.shape[-2] == hidden


@pytest.mark.parametrize("condition", ["label", "text"])
def test_the_image_discriminator_classifies_each_frames_condition(condition):
    # Guards the frame-level auxiliary classifier: D_I's class or word logits of the real
    # frames it is trained on give d_image_aux_loss (checked in numpy), which joins
    # image_d_loss with category_weight; the plain logits are the same with or without aux.
    name = INPUT[condition]
    values = TWO_VALUES[name]()
    picks = np.array([[0, 3], [5, 7]], "int32")
    video = real_videos(seed=3)
    data = {"video": video, name: values, "noise": noise(seed=4), "frame_picks": picks}
    twin = conditional_gan(condition)
    frames, rows = video[[0, 0, 1, 1], picks.reshape(-1)], values[[0, 0, 1, 1]]
    d_i = twin.image_discriminator
    plain = d_i(frames, {name: rows})
    np.testing.assert_array_equal(d_i(frames, {name: rows}, aux=True)["logits"], plain)
    out = d_i(frames, {name: rows}, training=True, aux=True)
    width = {"label": 12, "text": TOKENIZER.vocab_size}[condition]
    assert set(out) == {"logits", f"{'class' if condition == 'label' else 'word'}_logits"}
    assert out[f"{'class' if condition == 'label' else 'word'}_logits"].shape == (4, width)
    expected = _aux_loss_by_hand(out, name, rows)
    history = _fit_one_step(conditional_gan(condition), data)
    assert history["d_image_aux_loss"][0] == pytest.approx(expected, rel=1e-4)
    unweighted = _fit_one_step(conditional_gan(condition, category_weight=0.0), data)
    assert history["image_d_loss"][0] - unweighted["image_d_loss"][0] == pytest.approx(
        expected, rel=1e-3)
    assert "g_image_aux_loss" in history
    assert not conditional_gan(condition, image_aux_heads=False).image_aux_heads


# --------------------------------------------------------------------------- first frame loss


def _fit_one_step(gan, data):
    gan.compile(loss="hinge")
    return gan.fit(data, batch_size=2, epochs=1, shuffle=False, verbose=0).history


def test_first_frame_l1_is_logged_and_is_the_mean_abs_difference_of_frame_0():
    # Guards the first-frame term: logged, computed on frame 0 against the given frame, on the
    # generator step's clip, and added to g_loss with first_frame_weight.
    given = np.stack([frame_image(1), frame_image(2)])
    z = noise(seed=4)
    data = {"video": real_videos(seed=3), "first_frame": given, "noise": z,
            "frame_picks": np.array([[0, 3], [5, 7]], "int32")}
    # A new warp starts as a still copy (l1 0): give both runs the same varied flow.
    gan = conditional_gan("first_frame", first_frame_weight=10.0)
    _varied_flow(gan.generator)
    # The generator step draws no noise (it is injected) and uses batch statistics, and no
    # generator weight changes before it: the clip it scores is this one.
    fake = np.asarray(gan.generator({**z, "first_frame": given}, training=True))
    expected = np.mean(np.abs(fake[:, 0] - given))
    assert expected > 0.1
    history = _fit_one_step(gan, data)
    assert history["first_frame_l1"][0] == pytest.approx(expected, rel=1e-4)
    # Only the weight differs: g_loss differs by exactly weight * l1.
    unweighted = conditional_gan("first_frame", first_frame_weight=0.0)
    _varied_flow(unweighted.generator)
    unweighted = _fit_one_step(unweighted, data)
    assert unweighted["first_frame_l1"][0] == pytest.approx(expected, rel=1e-4)
    assert history["g_loss"][0] - unweighted["g_loss"][0] == pytest.approx(10 * expected,
                                                                           rel=1e-3)
    assert history["video_d_loss"][0] == pytest.approx(unweighted["video_d_loss"][0], rel=1e-5)


def test_conditional_fit_needs_the_condition_in_the_data():
    # Guards a clear error instead of a KeyError deep in train_step.
    gan = conditional_gan("text")
    gan.compile()
    with pytest.raises(ValueError, match=r"trains on dicts with 'prompt_tokens' entries"):
        gan.fit({"video": real_videos()}, batch_size=2, epochs=1, verbose=0)


# --------------------------------------------------------------------------- arguments


def test_bad_constructor_arguments_are_value_errors_naming_them():
    # Guards each argument check (named, with what is allowed and what was received).
    with pytest.raises(ValueError, match=r"text condition needs the tokenizer's vocabulary .*"
                                         r"received 0 words"):
        MoCoGAN(**TINY, conditions=["text"])
    with pytest.raises(ValueError, match=r"max_tokens >= 1; received 18 words and max_tokens=0"):
        MoCoGAN(**TINY, conditions=["text"], vocabulary=TOKENIZER.vocabulary)
    with pytest.raises(ValueError, match=r"takes the conditions label, text, first_frame; "
                                         r"received 'audio'"):
        MoCoGAN(**TINY, conditions=["audio"])
    tiny = {**TINY, "num_classes": 12}
    with pytest.raises(ValueError, match=r"num_classes .* must be 0; received num_classes=12"):
        MoCoGAN(**tiny, conditions=["text"], **TEXT)
    with pytest.raises(ValueError, match=r"num_classes .* must be 0; received num_classes=12"):
        MoCoGAN(**tiny, conditions=["first_frame"])
    with pytest.raises(ValueError, match=r"first_frame_weight must be >= 0 .*received "
                                         r"first_frame_weight=-1"):
        MoCoGAN(**TINY, conditions=["first_frame"], first_frame_weight=-1)
    with pytest.raises(ValueError, match="conditions must not repeat"):
        MoCoGAN(**TINY, conditions=["first_frame", "first_frame"])


def _warping_generator(flow_rows: float, flow_cols: float, local=None):
    """A first-frame generator whose warp shifts the whole frame by a constant flow (in
    pixels); `local` sets the local head's flow bias."""
    g = conditional_gan("first_frame").generator
    g({**noise(), "first_frame": np.zeros((2, SIZE, SIZE, 3), "float32")})  # builds it
    half = SIZE / 2
    flow = np.array([np.arctanh(flow_rows / half), np.arctanh(flow_cols / half)], "float32")
    kernel, _ = g.warp_head.get_weights()
    bias = np.array(local or (0.0, 0.0), "float32")
    g.warp_head.set_weights([np.zeros_like(kernel), bias])
    kernel, _ = g.warp_shift.get_weights()
    g.warp_shift.set_weights([np.zeros_like(kernel), flow])
    return g


def test_a_new_warp_starts_as_a_still_copy_of_the_first_frame():
    first = np.stack([frame_image(1), frame_image(2)])
    clip = np.asarray(conditional_gan("first_frame").generator({**noise(),
                                                                "first_frame": first}))
    # Flows of about 1e-3 pixel: every pixel within 1e-2 of the given one (random pixels
    # differ from their neighbours by 0.7 on average).
    np.testing.assert_allclose(clip, np.repeat(first[:, None], FRAMES, 1), atol=1e-2)


def test_the_warp_moves_the_first_frame_by_the_flow_clamped_at_the_border():
    # Backward warp: frame pixel (r, c) reads the first frame at (r + dr, c + dc).
    first = np.stack([frame_image(1), frame_image(2)])
    clip = np.asarray(_warping_generator(0.0, 1.0)({**noise(), "first_frame": first}))
    assert clip.shape == (2, FRAMES, SIZE, SIZE, 3)
    np.testing.assert_allclose(clip[:, :, :, :-1], np.repeat(first[:, None, :, 1:], FRAMES, 1),
                               atol=1e-5)
    np.testing.assert_allclose(clip[:, :, :, -1], np.repeat(first[:, None, :, -1], FRAMES, 1),
                               atol=1e-5)  # the last column reads itself
    clip = np.asarray(_warping_generator(-2.0, 0.0)({**noise(), "first_frame": first}))
    np.testing.assert_allclose(clip[:, :, 2:], np.repeat(first[:, None, :-2], FRAMES, 1),
                               atol=1e-5)
    for row in (0, 1):
        np.testing.assert_allclose(clip[:, :, row], np.repeat(first[:, None, 0], FRAMES, 1),
                                   atol=1e-5)


def test_a_uniform_local_flow_moves_nothing():
    # The local flow's mean over the frame is removed: moving the whole frame is the shift's.
    first = np.stack([frame_image(1), frame_image(2)])
    g = _warping_generator(0.0, 0.0, local=(0.3, -0.2))
    np.testing.assert_allclose(np.asarray(g({**noise(), "first_frame": first})),
                               np.repeat(first[:, None], FRAMES, 1), atol=1e-4)


def test_a_fractional_flow_interpolates_bilinearly():
    first = np.stack([frame_image(3), frame_image(4)])
    clip = np.asarray(_warping_generator(0.5, 0.25)({**noise(), "first_frame": first}))
    # By hand, at (r, c): rows r, r+1 weighted 1/2 each; columns c, c+1 weighted 3/4, 1/4.
    rows = (first[:, :-1] + first[:, 1:]) / 2
    expected = 0.75 * rows[:, :, :-1] + 0.25 * rows[:, :, 1:]
    np.testing.assert_allclose(clip[:, 0, :-1, :-1], expected, atol=1e-5)


def test_first_frame_models_saved_before_the_warp_load_without_it():
    g = conditional_gan("first_frame").generator
    config = g.get_config()
    assert config["first_frame_warp"] is True and g.warp_head is not None
    del config["first_frame_warp"]  # 0.1.14's layout
    old = type(g).from_config(config)
    assert old.first_frame_warp is False and old.warp_head is None and old.to_frame is not None
    assert type(g).from_config(g.get_config()).first_frame_warp is True


def test_conditional_config_round_trip():
    # Guards get_config of the new arguments (a resumed or reloaded run rebuilds the same model).
    gan = conditional_gan("label", "text", "first_frame", condition_dim=6,
                          first_frame_weight=3.0)
    config = gan.get_config()
    assert (config["conditions"], config["vocabulary"], config["max_tokens"],
            config["condition_dim"], config["first_frame_weight"]) == (
        ["label", "text", "first_frame"], TOKENIZER.vocabulary, 5, 6, 3.0)
    assert MoCoGAN.from_config(config).get_config() == config


def test_parse_conditions_checks_the_flag():
    # Guards `--condition`: canonical order, and errors that say what is allowed.
    assert parse_conditions("first_frame, text", "mocogan") == ("text", "first_frame")
    assert parse_conditions(None, "mocogan") == ()
    with pytest.raises(VidgenError, match=r"unknown condition 'audio'; --condition takes label, "
                                          r"text, first_frame"):
        parse_conditions("label,audio", "mocogan")
    with pytest.raises(VidgenError, match=r"dcgan3d cannot be trained on the condition 'text' "
                                          r"\(it takes no condition\); families that can: "
                                          r"mocogan"):
        parse_conditions("text", "dcgan3d")
    with pytest.raises(VidgenError, match="names a condition twice"):
        parse_conditions("text,text", "mocogan")
    with pytest.raises(VidgenError, match="comma-separated"):
        parse_conditions("text,", "mocogan")


# --------------------------------------------------------------------------- the run's data


@pytest.fixture(scope="module")
def text_run():
    from vidgen_tf.training.run import TrainConfig, resolve_conditions

    config = TrainConfig(model="mocogan", data="shapes", preset="tiny", conditions="text")
    resolved = config.resolved()
    resolve_conditions(config, resolved)
    return config, resolved


def test_text_run_resolves_a_tokenizer_without_the_held_out_captions(text_run):
    # Guards what the run records: the held-out captions, and a vocabulary that still holds
    # each of their words (they are new combinations, not new words).
    _, resolved = text_run
    kwargs = resolved["model_kwargs"]
    assert resolved["held_out_captions"] == list(HELD_OUT_CAPTIONS)
    assert sorted(resolved["captions"]) == sorted(set(ALL_CAPTIONS) - set(HELD_OUT_CAPTIONS))
    assert (kwargs["conditions"], kwargs["max_tokens"]) == (["text"], 5)
    assert kwargs["vocabulary"] == TOKENIZER.vocabulary


def test_held_out_captions_never_reach_training(text_run):
    # Guards the held-out split: no training clip carries a held-out caption, while the
    # trained captions do appear (the filter does not drop everything).
    from vidgen_tf.training.run import _dataset

    config, resolved = text_run
    kwargs = resolved["model_kwargs"]
    clip = {"frames": kwargs.get("frames"), "size": kwargs.get("size"), "channels": 3}
    ds = _dataset(config, clip, 8, ("video", "prompt_tokens"), resolved["held_out_captions"],
                  kwargs)
    vocabulary = ["", *kwargs["vocabulary"]]
    seen = []
    for batch in ds.take(50):  # 400 clips
        assert set(batch) == {"video", "prompt_tokens"}
        for ids in batch["prompt_tokens"].numpy():
            seen.append(" ".join(vocabulary[i] for i in ids if i))
    assert len(seen) == 400
    assert not set(seen) & set(HELD_OUT_CAPTIONS)
    assert set(seen) <= set(ALL_CAPTIONS)
    assert len(set(seen)) >= 80  # of 88 trained captions; 400 draws miss ~1.3 on average


def test_sample_grids_prompt_held_out_and_trained_captions(text_run):
    # Guards the sample conditions: held-out captions first, tokenized with the run's vocabulary.
    from vidgen_tf.training.run import _sample_conditions

    config, resolved = text_run
    values = _sample_conditions(config, resolved, 16)
    assert set(values) == {"prompt_tokens", "captions"}
    assert values["captions"][0] == HELD_OUT_CAPTIONS[0]
    assert set(HELD_OUT_CAPTIONS) & set(values["captions"])
    assert set(values["captions"]) - set(HELD_OUT_CAPTIONS)
    np.testing.assert_array_equal(values["prompt_tokens"], TOKENIZER.encode(values["captions"]))


# --------------------------------------------------------------------------- mismatches


def test_a_one_word_mismatch_changes_exactly_one_differing_word():
    # Rows 0 and 1 differ at positions 1, 2 and 4; row 2 is row 1 cut short; row 3 is row
    # 2's twin.
    tokens = np.array([[1, 2, 3, 4, 5],
                       [1, 6, 7, 4, 8],
                       [1, 6, 7, 0, 0],
                       [1, 6, 7, 0, 0]], "int32")
    other = np.roll(tokens, 1, axis=0)  # row i gets row i - 1's prompt
    picked = {1: 0, 2: 0, 4: 0}
    for draw in range(60):
        out = np.asarray(swap_one_word(tokens, other, tf.constant([draw, 7], tf.int64)))
        changed = np.flatnonzero(out[1] != tokens[1])  # row 1 against row 0: 3 candidates
        assert len(changed) == 1 and changed[0] in picked
        assert out[1, changed[0]] == tokens[0, changed[0]]
        picked[int(changed[0])] += 1
        # Row 0 against row 3 ([1, 6, 7, 0, 0]): positions 1 and 2 differ; 3, 4 are padding.
        assert np.flatnonzero(out[0] != tokens[0]).tolist() in ([1], [2])
        # Row 3 against its twin row 2: nothing differs, so it takes the whole other prompt.
        np.testing.assert_array_equal(out[3], tokens[2])
    assert min(picked.values()) >= 8  # each differing word gets picked (expected 20 of 60)


def test_mismatched_swaps_words_only_with_a_seed_and_rolls_labels():
    conditions = {"label": tf.constant([0, 1, 2]),
                  "prompt_tokens": tf.constant([[1, 2, 3], [1, 4, 5], [1, 6, 7]])}
    whole = mismatched(conditions)
    np.testing.assert_array_equal(whole["label"], [2, 0, 1])
    np.testing.assert_array_equal(whole["prompt_tokens"], [[1, 6, 7], [1, 2, 3], [1, 4, 5]])
    one = mismatched(conditions, tf.constant([3, 4], tf.int64))
    np.testing.assert_array_equal(one["label"], [2, 0, 1])
    differs = np.asarray(one["prompt_tokens"]) != np.asarray(conditions["prompt_tokens"])
    assert differs.sum(axis=1).tolist() == [1, 1, 1]


def test_mismatch_is_in_the_config_and_checked():
    gan = conditional_gan("text", mismatch="one_word")
    config = gan.get_config()
    assert config["mismatch"] == "one_word"
    assert MoCoGAN.from_config(config).mismatch == "one_word"
    assert conditional_gan("text").mismatch == "caption"
    with pytest.raises(ValueError, match=r"mismatch must be one of caption, one_word for "
                                         r"MoCoGAN; received mismatch='words'"):
        conditional_gan("text", mismatch="words")
def _varied_flow(g):
    """`g` with a random local flow head (a new one starts near zero, a uniform flow)."""
    g({**noise(), "first_frame": np.zeros((2, SIZE, SIZE, 3), "float32")})  # builds it
    return _randomize_warp(g)


def _randomize_warp(g):
    kernel, bias = g.warp_head.get_weights()
    g.warp_head.set_weights([np.random.default_rng(0).normal(0, 0.3, kernel.shape), bias])
    return g


def test_the_flow_smoothness_loss_is_zero_for_a_uniform_flow_and_scales_with_its_weight():
    first = np.stack([frame_image(1), frame_image(2)])
    z = {**noise(), "first_frame": first}
    uniform = _warping_generator(1.0, -2.0)
    uniform(z, training=True)
    assert [float(v) for v in uniform.losses] == [0.0]  # a rigid shift costs nothing
    kernel, _ = uniform.warp_shift.get_weights()
    uniform.warp_shift.set_weights([np.ones_like(kernel), np.zeros(2, "float32")])
    uniform(z, training=True)
    assert [float(v) for v in uniform.losses] == [0.0]  # nor does the whole-frame shift
    g = _varied_flow(conditional_gan("first_frame").generator)
    g(z, training=True)
    varied = float(g.losses[0])
    assert varied > 0.01
    g.flow_smoothness = 2.5
    g(z, training=True)
    assert float(g.losses[0]) == pytest.approx(2.5 * varied, rel=1e-5)
    g(z, training=False)
    assert not g.losses  # inference (and the export) adds nothing


def test_a_first_frame_fit_step_logs_the_flow_smoothness_loss():
    data = {"video": real_videos(seed=3), "first_frame": real_videos(seed=3)[:, 0]}
    gan = conditional_gan("first_frame")
    _varied_flow(gan.generator)
    history = _fit_one_step(gan, data)
    assert history["flow_smoothness_loss"][0] > 0
    keras.utils.set_random_seed(0)
    rigid_free = MoCoGANGenerator(
        frames=FRAMES, size=SIZE, content_dim=TINY["content_dim"],
        motion_dim=TINY["motion_dim"], noise_dim=TINY["noise_dim"],
        base_filters=TINY["base_filters"], conditions=["first_frame"], flow_smoothness=0.0)
    history = _fit_one_step(MoCoGAN(**TINY, generator=rigid_free), data)
    assert "flow_smoothness_loss" not in history and "first_frame_l1" in history
