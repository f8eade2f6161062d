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
    # 16 clips of 32x32 in a 4x4 grid with 2-pixel gaps (138 pixels), shown at twice the size
    assert video.shape == (16, 276, 276, 3)
    assert read_video(out / "demo.mp4").shape[0] == 16
    # The shipped model beside it (the test runs in the repository), 16 white columns between.
    side = read_video(out / "side_by_side.gif")
    assert side.shape == (16, 276, 276 + 16 + 276, 3)
    assert abs(side[:, :, :276].astype(int) - video).mean() < 8  # GIF palettes differ a little
    assert "left, this model; right, the shipped export/mocogan_shapes" in result.stdout
    again = run_cli("demo", "--out", str(out), "--epochs", "1", "--steps-per-epoch", "1")
    assert again.returncode == 2 and "--force" in again.stderr


def test_bad_flags_are_refused_before_anything_is_printed_or_deleted(tmp_path):
    # An earlier demo, replaced with --force: a bad flag must not delete it first.
    run_dir = tmp_path / "demo" / "run"
    run_dir.mkdir(parents=True)
    (run_dir / "model.keras").write_text("earlier demo")
    cases = {("--epochs", "0"): "--epochs must be >= 1; received 0",
             ("--steps-per-epoch", "0"): "--steps-per-epoch must be >= 1; received 0",
             ("--precision", "fp8"): "unknown precision 'fp8'; choose one of: auto, float32"}
    for flags, message in cases.items():
        result = run_cli("demo", "--out", str(tmp_path / "demo"), "--force", *flags)
        assert result.returncode == 2, (flags, result.stderr)
        assert result.stdout == "", result.stdout  # no "[1/3] training ..." banner
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert (run_dir / "model.keras").read_text() == "earlier demo"


def test_demo_replaces_only_its_own_files(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "demo.gif").write_text("my own gif")
    refused = run_cli("demo", "--out", str(out), "--epochs", "1", "--steps-per-epoch", "1")
    assert refused.returncode == 2 and "already holds demo.gif" in refused.stderr
    assert (out / "demo.gif").read_text() == "my own gif"

    # --force replaces an earlier demo, never a run of `vidgen train` that happens to be there.
    (out / "run").mkdir()
    (out / "run" / "config.json").write_text(
        '{"train": {"model": "mocogan", "preset": "shapes_32"}}')
    forced = run_cli("demo", "--out", str(out), "--force", "--epochs", "1",
                     "--steps-per-epoch", "1")
    assert forced.returncode == 2, forced.stderr
    assert "is not a run of `vidgen demo`, so --force will not delete it" in forced.stderr
    assert forced.stdout == ""
    assert sorted(p.name for p in out.rglob("*")) == ["config.json", "demo.gif", "run"]
