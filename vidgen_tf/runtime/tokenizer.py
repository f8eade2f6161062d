"""The word tokenizer of text-conditioned models: built from the training captions, shipped in
the export as `tokenizer.json`, and used alike by training and the runtime (standard library and
numpy only).

A caption is lower-cased (ASCII) and split into words (runs of letters, digits and apostrophes);
each word maps to its id in the vocabulary (1, 2, ...; 0 pads). A prompt holding a word that
the training captions never used is refused with a ValueError naming the word: the text
encoder has no embedding for it, and silently dropping it would change the prompt's meaning.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

WORD = re.compile(r"[a-z0-9']+")
PAD_ID = 0
TOKENIZER_NAME = "tokenizer.json"


# ASCII capitals only, as the tf.data twin (`tf.strings.lower`) does: `str.lower` would also
# map some non-ASCII capitals (the Kelvin sign) to ASCII letters.
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def words(text: str) -> list[str]:
    """The words of `text`: runs of letters, digits and apostrophes, ASCII lower-cased."""
    return WORD.findall(text.translate(_ASCII_LOWER))


class WordTokenizer:
    """Captions <-> int32 token ids `(num, max_tokens)`, 0-padded on the right.

    Args:
        vocabulary: the words, in id order (word i has id i + 1).
        max_tokens: int. Ids per caption; longer prompts are a ValueError.

    Example:
        >>> tok = WordTokenizer.from_captions(["a red circle moves left"])
        >>> tok.encode("A red circle moves left").tolist()
        [[1, 5, 2, 4, 3]]
    """

    def __init__(self, vocabulary: Iterable[str], max_tokens: int):
        self.vocabulary = list(vocabulary)
        if not self.vocabulary or not all(isinstance(w, str) and WORD.fullmatch(w)
                                          for w in self.vocabulary):
            raise ValueError("vocabulary must be a non-empty list of lower-case words; received "
                             f"{self.vocabulary[:5]!r}")
        if len(set(self.vocabulary)) != len(self.vocabulary):
            raise ValueError("vocabulary must not repeat a word")
        if not isinstance(max_tokens, int) or max_tokens < 1:
            raise ValueError(f"max_tokens must be an integer >= 1; received {max_tokens!r}")
        self.max_tokens = max_tokens
        self._ids = {word: i + 1 for i, word in enumerate(self.vocabulary)}

    @classmethod
    def from_captions(cls, captions: Iterable[str]) -> WordTokenizer:
        """The vocabulary of `captions` (sorted words) and their longest length."""
        split = [words(c) for c in captions]
        if not any(split):
            raise ValueError("cannot build a tokenizer: the captions hold no words")
        vocabulary = sorted({w for ws in split for w in ws})
        return cls(vocabulary, max(len(ws) for ws in split))

    @property
    def vocab_size(self) -> int:
        """Ids in use, padding included (the text encoder's embedding rows)."""
        return len(self.vocabulary) + 1

    def encode(self, texts: str | Iterable[str]) -> np.ndarray:
        """int32 ids `(num, max_tokens)` of one caption or several."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        ids = np.zeros((len(texts), self.max_tokens), np.int32)
        for row, text in enumerate(texts):
            if not isinstance(text, str):
                raise ValueError(f"a prompt must be a string; received {text!r}")
            tokens = words(text)
            if not tokens:
                raise ValueError(f"the prompt {text!r} holds no words")
            unknown = [w for w in tokens if w not in self._ids]
            if unknown:
                raise ValueError(
                    f"the prompt {text!r} uses {_quoted(unknown)}, which the model never saw in "
                    f"training; its {len(self.vocabulary)} words are: "
                    f"{', '.join(self.vocabulary)}")
            if len(tokens) > self.max_tokens:
                raise ValueError(f"the prompt {text!r} has {len(tokens)} words; this model "
                                 f"takes at most {self.max_tokens}")
            ids[row, :len(tokens)] = [self._ids[w] for w in tokens]
        return ids

    def to_json(self) -> dict:
        return {"type": "word", "lowercase": True, "pattern": WORD.pattern, "pad_id": PAD_ID,
                "max_tokens": self.max_tokens, "vocabulary": self.vocabulary}

    @classmethod
    def from_json(cls, data: dict) -> WordTokenizer:
        if not isinstance(data, dict) or data.get("type") != "word":
            raise ValueError("not a vidgen_tf word tokenizer (expected an object with "
                             '"type": "word")')
        if data.get("pattern") != WORD.pattern or data.get("pad_id") != PAD_ID:
            raise ValueError("the tokenizer splits words differently from this vidgen_tf "
                             f"(pattern {data.get('pattern')!r}); upgrade vidgen_tf")
        return cls(data.get("vocabulary") or [], data.get("max_tokens"))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=1))

    @classmethod
    def load(cls, path: str | Path) -> WordTokenizer:
        return cls.from_json(json.loads(Path(path).read_text()))


def _quoted(items: list[str]) -> str:
    unique = list(dict.fromkeys(items))
    shown = ", ".join(repr(w) for w in unique)
    return f"the word{'s' * (len(unique) > 1)} {shown}"
