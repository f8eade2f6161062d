"""Parsing the actions of an action-conditioned export (`vidgen generate --actions`)."""

import numpy as np
import pytest

from vidgen_tf.runtime.contexts import parse_actions

NAMES = ("left", "right", "up", "down")


def test_names_ids_and_rows_become_int32_rows():
    np.testing.assert_array_equal(parse_actions("right, right,up,down", NAMES, 4),
                                  [[1, 1, 2, 3]])
    np.testing.assert_array_equal(parse_actions(["left", "up"], NAMES, 2, num=3),
                                  [[0, 2]] * 3)
    rows = parse_actions(np.array([[0, 1], [3, 2]], np.int64), NAMES, 2, num=2)
    assert rows.dtype == np.int32 and rows.tolist() == [[0, 1], [3, 2]]


@pytest.mark.parametrize("actions, frames, num, message", [
    ("right,jump,fly", 3, None, "unknown action(s) 'fly', 'jump'; this model takes left, right, "
                                "up, down"),
    ("right,up", 3, None, "2 action(s) given, 3 needed: one per frame"),
    (np.array([0, 4]), 2, None, "action ids must be in 0..3"),
    (np.array([0.5, 1.0]), 2, None, "names or integer ids"),
    (np.zeros((2, 3), np.int32), 3, 4, "actions hold 2 rows, but 4 clips"),
    (np.zeros((0,), np.int32), 0, None, "received shape (0,)"),
])
def test_bad_actions_are_one_clear_error(actions, frames, num, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace(".", r"\.")):
        parse_actions(actions, NAMES, frames, num)
