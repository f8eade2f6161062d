"""Framing: the share of a side a center crop discards, upscaling, and when each is warned."""

import pytest

from vidgen_tf.data.framing import HEAVY_CROP, Framing


def test_a_wide_video_loses_85_percent_of_its_width():
    wide = Framing(640, 96, 64)
    assert wide.discarded == pytest.approx(1 - 96 / 640) == pytest.approx(0.85)
    assert (wide.cropped_side, wide.upscaled, wide.scale) == ("width", False, 64 / 96)
    assert wide.warnings() == ["center crop discards 85% of the width (640x96 -> 64x64)"]
    assert Framing(96, 640, 64).warnings() == [
        "center crop discards 85% of the height (96x640 -> 64x64)"]


def test_a_tiny_video_is_upscaled_and_only_lightly_cropped():
    tiny = Framing(63, 47, 64)
    assert tiny.discarded == pytest.approx(16 / 63)  # 25%: no crop warning
    assert tiny.upscaled and tiny.scale == pytest.approx(1.3617, abs=1e-4)
    assert tiny.warnings() == ["upscaled 1.36x: shorter side 47 px < 64 (63x47 -> 64x64)"]
    both = Framing(300, 20, 64)  # discards 1 - 20/300 = 93%, enlarged 3.2x
    assert both.warnings() == [
        "center crop discards 93% of the width (300x20 -> 64x64)",
        "upscaled 3.2x: shorter side 20 px < 64 (300x20 -> 64x64)"]


def test_common_shapes_are_not_warned_and_the_threshold_is_strict():
    assert Framing(1280, 720, 64).discarded == pytest.approx(0.4375)  # 16:9
    assert Framing(1280, 720, 64).warnings() == []
    assert Framing(64, 64, 64).warnings() == [] and Framing(64, 64, 64).cropped_side is None
    assert Framing(128, 64, 64).discarded == HEAVY_CROP == 0.5
    assert Framing(128, 64, 64).warnings() == []  # exactly 2:1 is not past the threshold
    assert len(Framing(130, 64, 64).warnings()) == 1
    assert Framing(128, 64, 64).warnings(heavy_crop=0.4) != []


def test_sizes_must_be_positive_integers():
    with pytest.raises(ValueError, match="width must be an integer >= 1; received width=0"):
        Framing(0, 10, 64)
    with pytest.raises(ValueError, match=r"size must be an integer >= 1; received size=2\.5"):
        Framing(10, 10, 2.5)
