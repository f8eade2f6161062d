"""ConditionEncoder and projection_logits: code widths and blocks, the text mask, a hand-computed
text code and projection, config round trips, and the argument errors."""

import itertools

import keras
import numpy as np
import pytest

from tests.test_case import assert_config_round_trip
from vidgen_tf.layers.condition_encoder import (
    CONDITIONS,
    ConditionEncoder,
    check_conditions,
    projection_logits,
)

DIM, CLASSES, VOCAB, SIZE = 5, 4, 7, 16


def encoder(conditions, **kwargs):
    keras.utils.set_random_seed(0)
    return ConditionEncoder(conditions, dim=DIM, num_classes=CLASSES, vocab_size=VOCAB,
                            size=SIZE, **kwargs)


def inputs(batch=3, seed=0, tokens=None):
    rng = np.random.default_rng(seed)
    if tokens is None:
        tokens = rng.integers(1, VOCAB, (batch, 4))
        tokens[:, 2:] = 0
    return {"label": rng.integers(0, CLASSES, batch).astype("int32"),
            "prompt_tokens": np.asarray(tokens, "int32"),
            "first_frame": rng.uniform(-1, 1, (batch, SIZE, SIZE, 3)).astype("float32")}


SUBSETS = [c for n in (1, 2, 3) for c in itertools.combinations(CONDITIONS, n)]


@pytest.mark.parametrize("conditions", SUBSETS, ids="+".join)
def test_output_width_is_dim_times_conditions(conditions):
    # Guards the concatenation: every condition adds exactly `dim` numbers.
    enc = encoder(conditions)
    code = np.asarray(enc(inputs()))
    assert code.shape == (3, DIM * len(conditions)) and enc.output_dim == code.shape[1]


def test_each_block_of_the_code_depends_on_its_own_condition_only():
    # Guards the canonical order (label, text, first_frame) whatever order they were given in:
    # the discriminators' projection and the generator's code rely on it.
    enc = encoder(["first_frame", "text", "label"])
    assert enc.conditions == CONDITIONS
    base, other = inputs(seed=0), inputs(seed=1)
    code = np.asarray(enc(base))
    for block, name in enumerate(["label", "prompt_tokens", "first_frame"]):
        changed = np.asarray(enc({**base, name: other[name]}))
        moved = [not np.allclose(code[:, b * DIM:(b + 1) * DIM],
                                 changed[:, b * DIM:(b + 1) * DIM]) for b in range(3)]
        assert moved == [b == block for b in range(3)], name


def test_text_padding_does_not_change_the_code():
    # Guards the mask: padding (id 0) is not a word, so a prompt's code does not depend on how
    # far it is padded (the runtime pads to max_tokens, a batch may pad further).
    enc = encoder(["text"])
    short = np.asarray(enc({"prompt_tokens": np.array([[3, 5]], "int32")}))
    for padded in ([[3, 5, 0]], [[3, 5, 0, 0, 0, 0, 0, 0]]):
        np.testing.assert_allclose(enc({"prompt_tokens": np.array(padded, "int32")}), short,
                                   rtol=1e-6, atol=1e-6)
    # A bag of words: order does not matter; a third word does.
    np.testing.assert_allclose(enc({"prompt_tokens": np.array([[5, 3, 0]], "int32")}), short,
                               rtol=1e-6, atol=1e-6)
    assert not np.allclose(enc({"prompt_tokens": np.array([[3, 5, 6]], "int32")}), short)


def test_text_code_equals_a_numpy_bag_of_words():
    # Guards the text encoder's formula: leaky_relu(dense(mean of the words' embeddings), 0.2).
    enc = encoder(["text"])
    tokens = np.array([[2, 6, 2, 0, 0], [4, 0, 0, 0, 0]], "int32")
    code = np.asarray(enc({"prompt_tokens": tokens}))
    table = np.asarray(enc.word_embedding.embeddings)
    kernel, bias = (np.asarray(w) for w in enc.text_dense.weights)
    mean = np.stack([table[[2, 6, 2]].mean(0), table[4]])
    pre = mean @ kernel + bias
    np.testing.assert_allclose(code, np.where(pre > 0, pre, 0.2 * pre), rtol=1e-5, atol=1e-6)


def test_projection_logits_by_hand():
    # Guards the projection (Miyato & Koyama 2018): logit = out[0] + <out[1:], code>, per patch.
    outputs = np.array([[[0.5, 1.0, 2.0], [-1.0, 3.0, -2.0]],
                        [[0.0, 0.0, 0.0], [2.0, -1.0, 1.0]]], "float32")  # (batch 2, 2 patches)
    code = np.array([[10.0, 1.0], [3.0, -4.0]], "float32")
    got = np.asarray(projection_logits(outputs, code))
    # 0.5 + 10 + 2, -1 + 30 - 2; 0, 2 - 3 - 4.
    np.testing.assert_allclose(got[..., 0], [[12.5, 27.0], [0.0, -5.0]])
    np.testing.assert_array_equal(projection_logits(outputs, None), outputs[..., :1])


def test_projection_logits_broadcast_over_patch_axes_like_numpy():
    # Guards the broadcast of one code per clip over every patch axis (a 3D patch grid).
    rng = np.random.default_rng(3)
    outputs = rng.normal(size=(2, 3, 4, 4, 1 + 6)).astype("float32")
    code = rng.normal(size=(2, 6)).astype("float32")
    expected = outputs[..., :1] + np.einsum("btxyf,bf->btxy", outputs[..., 1:], code)[..., None]
    np.testing.assert_allclose(projection_logits(outputs, code), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("conditions", [("label",), ("text",), ("first_frame",), CONDITIONS],
                         ids="+".join)
def test_config_round_trip_and_a_clone_with_the_weights_encodes_alike(conditions):
    # Guards get_config: a clone rebuilt from it takes the same weights and gives the same code.
    enc = encoder(conditions, image_filters=4)
    code = np.asarray(enc(inputs()))
    assert_config_round_trip(enc)
    clone = ConditionEncoder.from_config(enc.get_config())
    clone.build()
    clone.set_weights(enc.get_weights())
    np.testing.assert_allclose(clone(inputs()), code, rtol=1e-6, atol=1e-6)
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(enc))
    assert type(revived) is ConditionEncoder and revived.get_config() == enc.get_config()


def test_argument_errors_name_the_argument():
    # Guards the constructor's and call's checks (errors name what is allowed and received).
    with pytest.raises(ValueError, match=r"takes the conditions label, text, first_frame; "
                                         r"received 'audio'"):
        ConditionEncoder(["audio"])
    with pytest.raises(ValueError, match="must not repeat"):
        check_conditions(["text", "text"], "X")
    with pytest.raises(ValueError, match=r"num_classes >= 1; received num_classes=0"):
        ConditionEncoder(["label"])
    with pytest.raises(ValueError, match=r"vocab_size >= 2 .*received vocab_size=1"):
        ConditionEncoder(["text"], vocab_size=1)
    with pytest.raises(ValueError, match=r"size must be 4 x a power of two .*received size=12"):
        ConditionEncoder(["first_frame"], size=12)
    with pytest.raises(ValueError, match=r"dim must be >= 1; received dim=0"):
        ConditionEncoder(["text"], dim=0, vocab_size=4)
    with pytest.raises(ValueError, match=r"needs the inputs prompt_tokens; received keys "
                                         r"\['label'\]"):
        encoder(["label", "text"])({"label": np.zeros((1,), "int32")})
