"""benchmarks/actions_gif.py: its programs only send a shape where it has room."""

from tests.benchmarks.scripts import load_benchmark


def test_programs_head_for_the_side_with_more_room():
    gif = load_benchmark("actions_gif")
    # Near the left edge and low in the frame (y grows downwards): right and up have room.
    assert gif.programs((5.0, 25.0), 32) == [("right", "up"), ("up", "right"),
                                             ("right", "left"), ("up", "down")]
    assert gif.programs((30.0, 2.0), 32)[0] == ("left", "down")
    assert gif.program("right", "up", 6) == ["right", "right", "up", "up", "up", "up"]
