"""Captions for text conditioning: every caption of a `--data` source, and their tokens in a
tf.data pipeline (the twin of `vidgen_tf.runtime.tokenizer.WordTokenizer`)."""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf

from vidgen_tf.data.builtin import BUILTIN_DATASETS, make_builtin
from vidgen_tf.data.folder import scan_video_folder
from vidgen_tf.data.pipeline import AUTOTUNE, PREPARED_METADATA


def dataset_captions(data: str) -> list[str]:
    """The distinct captions of a `--data` source, sorted: every caption a built-in dataset
    can make (enumerated by shapes, sampled from 2,000 clips otherwise), or the sidecar
    captions of a video folder."""
    if data in BUILTIN_DATASETS:
        if data == "shapes":
            from vidgen_tf.data.shapes import ALL_CAPTIONS

            return sorted(ALL_CAPTIONS)
        source = make_builtin(data, frames=2, size=64)
        return sorted({source.clip(i)["caption"] for i in range(2000)})
    path = Path(data)
    if (path / PREPARED_METADATA).exists():
        found = set()
        for record in tf.data.TFRecordDataset(sorted(map(str, path.glob("*.tfrecord")))):
            example = tf.io.parse_single_example(record, {"caption": tf.io.FixedLenFeature(
                [], tf.string, default_value="")})
            found.add(example["caption"].numpy().decode())
        return sorted(c for c in found if c)
    if path.is_dir():
        scan = scan_video_folder(path, captions=True)
        return sorted({r.caption for r in scan.records if r.caption})
    return []


def tokenize_captions(ds: tf.data.Dataset, vocabulary: list[str], max_tokens: int
                      ) -> tf.data.Dataset:
    """Add "prompt_tokens" (int32 `(max_tokens,)`, 0-padded word ids) to every element from its
    "caption", splitting words as `vidgen_tf.runtime.tokenizer.WordTokenizer` does. A word
    outside `vocabulary` maps to 0 (padding): such captions are not in the training data."""
    from vidgen_tf.runtime.tokenizer import WORD

    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            tf.constant(vocabulary), tf.range(1, len(vocabulary) + 1, dtype=tf.int64)),
        default_value=0)

    def add(element):
        text = tf.strings.lower(element["caption"])
        # WORD keeps runs of [a-z0-9']; everything else separates words.
        text = tf.strings.regex_replace(text, r"[^" + WORD.pattern[1:-2] + "]+", " ")
        ids = table.lookup(tf.strings.split(tf.strings.strip(text)))
        ids = tf.cast(ids[:max_tokens], tf.int32)
        element["prompt_tokens"] = tf.pad(ids, [[0, max_tokens - tf.shape(ids)[0]]])
        element["prompt_tokens"].set_shape((max_tokens,))
        return element

    return ds.map(add, num_parallel_calls=AUTOTUNE)
