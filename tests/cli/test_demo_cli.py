"""`vidgen demo`: train, export and generate in one command, and refuse to clobber a demo."""

from tests.test_case import run_cli
from vidgen_tf.data.video_io import read_video


def test_demo_trains_exports_and_generates_through_the_runtime(tmp_path):
    out = tmp_path / "demo"
    result = run_cli("demo", "--out", str(out), "--epochs", "1", "--steps-per-epoch", "2",
                     "--precision", "float32")
    assert result.returncode == 0, result.stderr
    assert (out / "run" / "model.keras").is_file()
    assert (out / "saved_models" / "mocogan_demo" / "saved_model.pb").is_file()
    assert (out / "export" / "mocogan_demo" / "manifest.json").is_file()
    video = read_video(out / "demo.gif")
    assert video.shape[0] == 16 and video.shape[1] > 32  # a grid of 16-frame clips
    assert read_video(out / "demo.mp4").shape[0] == 16
    assert "export/mocogan_shapes" in result.stdout
    again = run_cli("demo", "--out", str(out), "--epochs", "1", "--steps-per-epoch", "1")
    assert again.returncode == 2 and "--force" in again.stderr
