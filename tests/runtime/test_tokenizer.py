"""WordTokenizer: hand-worked ids, padding, its errors, its JSON asset, and agreement with the
tf.data twin (`tokenize_captions`) that tokenizes the training captions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vidgen_tf.data.shapes import ALL_CAPTIONS
from vidgen_tf.runtime.tokenizer import WordTokenizer, words

# The vocabulary of the 96 shapes captions, sorted; word i has id i + 1 (0 pads).
SHAPES_VOCABULARY = ["a", "an", "blue", "circle", "cyan", "down", "green", "left", "magenta",
                     "moves", "orange", "red", "right", "square", "triangle", "up", "white",
                     "yellow"]
MESSY = ["A  Red, circle!", "RED\tsquare\nmoves   LEFT.", "an orange--triangle (moves) up?!",
         "  cyan  ", "Yellow...Square,moves;DOWN", "a\u00a0white circle"]


@pytest.fixture(scope="module")
def shapes_tokenizer():
    return WordTokenizer.from_captions(ALL_CAPTIONS)


def test_ids_of_a_small_vocabulary_worked_by_hand():
    # Guards the id order (sorted words, 1-based, 0 pads): the docstring's example.
    tok = WordTokenizer.from_captions(["a red circle moves left"])
    assert tok.vocabulary == ["a", "circle", "left", "moves", "red"]
    assert tok.max_tokens == 5 and tok.vocab_size == 6
    assert tok.encode("A red circle moves left").tolist() == [[1, 5, 2, 4, 3]]
    assert tok.encode("left circle").tolist() == [[3, 2, 0, 0, 0]]
    assert tok.encode(["red", "moves a circle"]).dtype == np.int32


def test_shapes_vocabulary_and_ids(shapes_tokenizer):
    # Guards `from_captions` on the real captions: 18 words, 5 per caption.
    assert shapes_tokenizer.vocabulary == SHAPES_VOCABULARY
    assert shapes_tokenizer.max_tokens == 5
    ids = shapes_tokenizer.encode(["an orange triangle moves up", "a red circle moves left"])
    np.testing.assert_array_equal(ids, [[2, 11, 15, 10, 16], [1, 12, 4, 10, 8]])


def test_short_prompts_are_padded_with_zeros_on_the_right():
    # Guards the padding side and value, which the text encoder masks out.
    tok = WordTokenizer(SHAPES_VOCABULARY, max_tokens=7)
    ids = tok.encode(["red", "a blue square", "an orange triangle moves up"])
    np.testing.assert_array_equal(ids, [[12, 0, 0, 0, 0, 0, 0],
                                        [1, 3, 14, 0, 0, 0, 0],
                                        [2, 11, 15, 10, 16, 0, 0]])


def test_case_and_punctuation_do_not_change_the_ids(shapes_tokenizer):
    # Guards lower-casing and splitting on anything but letters, digits and apostrophes.
    expected = shapes_tokenizer.encode("a red circle")
    for text in ["A RED CIRCLE", "a, red; circle!", "  a\tred\n\ncircle  ", "(a)-(red)-(circle)."]:
        np.testing.assert_array_equal(shapes_tokenizer.encode(text), expected, err_msg=text)
    assert words("It's a RED-circle_2") == ["it's", "a", "red", "circle", "2"]


def test_an_unknown_word_is_a_value_error_naming_it(shapes_tokenizer):
    # Guards against silently dropping a word the model never saw (changing the prompt).
    with pytest.raises(ValueError, match=r"uses the word 'purple', which the model never saw"):
        shapes_tokenizer.encode("a purple circle moves left")
    with pytest.raises(ValueError, match=r"the words 'big', 'hexagon'"):
        shapes_tokenizer.encode(["a red circle", "a big hexagon"])
    with pytest.raises(ValueError, match="holds no words"):
        shapes_tokenizer.encode("?!")


def test_too_many_words_is_a_value_error(shapes_tokenizer):
    # Guards against truncating a prompt (the encoder would see another caption).
    with pytest.raises(ValueError, match=r"has 6 words; this model takes at most 5"):
        shapes_tokenizer.encode("a red circle moves left up")


def test_bad_vocabularies_and_max_tokens_are_value_errors():
    # Guards the constructor's checks (a vocabulary the runtime would mis-tokenize).
    with pytest.raises(ValueError, match="vocabulary must be a non-empty list"):
        WordTokenizer([], 3)
    with pytest.raises(ValueError, match="vocabulary must be a non-empty list"):
        WordTokenizer(["Red"], 3)  # never produced by `words`: unreachable id
    with pytest.raises(ValueError, match="must not repeat"):
        WordTokenizer(["red", "red"], 3)
    with pytest.raises(ValueError, match="max_tokens must be an integer >= 1"):
        WordTokenizer(["red"], 0)


def test_json_round_trip(shapes_tokenizer, tmp_path):
    # Guards the tokenizer.json asset: what the export writes, the runtime reads back.
    path = tmp_path / "tokenizer.json"
    shapes_tokenizer.save(path)
    data = json.loads(path.read_text())
    assert data["type"] == "word" and data["pad_id"] == 0 and data["max_tokens"] == 5
    assert data["vocabulary"] == SHAPES_VOCABULARY
    loaded = WordTokenizer.load(path)
    assert (loaded.vocabulary, loaded.max_tokens) == (SHAPES_VOCABULARY, 5)
    np.testing.assert_array_equal(loaded.encode(list(ALL_CAPTIONS)),
                                  shapes_tokenizer.encode(list(ALL_CAPTIONS)))
    with pytest.raises(ValueError, match="splits words differently"):
        WordTokenizer.from_json({**data, "pattern": r"\w+"})
    with pytest.raises(ValueError, match='"type": "word"'):
        WordTokenizer.from_json({**data, "type": "bpe"})


def _tf_tokens(captions: list[str], tokenizer: WordTokenizer) -> np.ndarray:
    tf = pytest.importorskip("tensorflow")
    from vidgen_tf.data.captions import tokenize_captions

    ds = tf.data.Dataset.from_tensor_slices({"caption": tf.constant(captions)})
    ds = tokenize_captions(ds, tokenizer.vocabulary, tokenizer.max_tokens)
    return np.stack([element["prompt_tokens"].numpy() for element in ds])


def test_tf_data_twin_agrees_on_every_shapes_caption_and_messy_text(shapes_tokenizer):
    # Guards training/runtime agreement: the model trains on `tokenize_captions` ids and is
    # prompted through `WordTokenizer.encode`; any difference is a prompt it never learned.
    captions = [*ALL_CAPTIONS, *MESSY]
    got = _tf_tokens(captions, shapes_tokenizer)
    assert got.dtype == np.int32 and got.shape == (len(captions), 5)
    np.testing.assert_array_equal(got, shapes_tokenizer.encode(captions))
    assert len(ALL_CAPTIONS) == 96 and len({tuple(r) for r in got[:96]}) == 96


def test_tf_data_twin_lowercases_like_python(shapes_tokenizer):
    # Guards the same agreement for a non-ASCII capital that Python lower-cases to ASCII.
    text = "a \u212a red circle"  # str.lower: "a k red circle"
    tok = WordTokenizer([*SHAPES_VOCABULARY, "k"], 5)
    np.testing.assert_array_equal(_tf_tokens([text], tok), tok.encode(text))
