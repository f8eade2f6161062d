"""`vidgen export` input checks: fps and names refused up front, replacements said out loud, and
nothing that is not an earlier export ever replaced."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.test_case import run_cli
from vidgen_tf.errors import VidgenError
from vidgen_tf.export.generator_export import existing_exports, export_generator


def _one_line_error(result) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


def _dirs(tmp_path) -> list[str]:
    return ["--saved-models-dir", str(tmp_path / "s"), "--export-dir", str(tmp_path / "e")]


@pytest.mark.parametrize("fps", ["-3", "0", "nan", "inf"])
def test_fps_that_is_not_a_positive_number_is_refused_before_any_work(tmp_path, fps):
    # The source does not exist: the fps check must come first, before anything is loaded.
    with pytest.raises(VidgenError, match="--fps must be a positive number"):
        export_generator(tmp_path / "missing.keras", "m", fps=float(fps),
                         saved_models_dir=tmp_path / "s", export_dir=tmp_path / "e")
    message = _one_line_error(run_cli("export", str(tmp_path / "missing"), "--name", "m",
                                      f"--fps={fps}", *_dirs(tmp_path)))
    assert "--fps must be a positive number" in message and "--fps 8" in message
    assert not (tmp_path / "s").exists() and not (tmp_path / "e").exists()


@pytest.mark.parametrize("fps", ["1e300", "241", "0.05"])
def test_fps_no_video_file_can_hold_is_refused_before_any_work(tmp_path, fps):
    # An export holding such an fps would make every `vidgen generate` of it fail.
    with pytest.raises(VidgenError, match=r"--fps must be between 0\.1 and 240"):
        export_generator(tmp_path / "missing.keras", "m", fps=float(fps),
                         saved_models_dir=tmp_path / "s", export_dir=tmp_path / "e")
    message = _one_line_error(run_cli("export", str(tmp_path / "missing"), "--name", "m",
                                      f"--fps={fps}", *_dirs(tmp_path)))
    assert "--fps must be between 0.1 and 240 frames per second" in message
    assert not (tmp_path / "s").exists() and not (tmp_path / "e").exists()


@pytest.mark.parametrize("name", ["", " ", "a/b", "a\\b", "..", "a..b", "../m", ".hidden"])
def test_names_that_are_not_plain_folder_names_are_refused(tmp_path, name):
    with pytest.raises(VidgenError, match="plain folder name"):
        export_generator(tmp_path / "missing.keras", name, saved_models_dir=tmp_path / "s",
                         export_dir=tmp_path / "e")
    message = _one_line_error(run_cli("export", str(tmp_path / "missing"), f"--name={name}",
                                      *_dirs(tmp_path)))
    assert "--name must be a plain folder name" in message
    assert not (tmp_path / "s").exists() and not (tmp_path / "e").exists()


def test_what_is_in_the_way_of_an_export_is_replaced_only_if_it_is_an_export(tmp_path):
    saved, onnx = tmp_path / "s" / "m", tmp_path / "e" / "m"
    assert existing_exports("m", saved_models_dir=tmp_path / "s",
                            export_dir=tmp_path / "e") == []
    saved.mkdir(parents=True)
    onnx.mkdir(parents=True)
    assert existing_exports("m", saved_models_dir=tmp_path / "s",
                            export_dir=tmp_path / "e") == []  # empty folders: nothing to lose
    (saved / "saved_model.pb").write_bytes(b"pb")
    (saved / "variables").mkdir()
    (onnx / "manifest.json").write_text("{}")
    (onnx / "model.onnx").write_bytes(b"onnx")
    assert existing_exports("m", saved_models_dir=tmp_path / "s",
                            export_dir=tmp_path / "e") == [saved, onnx]
    with pytest.raises(VidgenError, match=r"already exists .*drop --no-replace"):
        export_generator(tmp_path / "missing.keras", "m", saved_models_dir=tmp_path / "s",
                         export_dir=tmp_path / "e", replace=False)
    (onnx / "notes.txt").write_text("mine")
    with pytest.raises(VidgenError, match=r"not an earlier ONNX export \(it holds notes\.txt\)"):
        existing_exports("m", saved_models_dir=tmp_path / "s", export_dir=tmp_path / "e")
    (tmp_path / "e" / "f").write_text("a file")
    with pytest.raises(VidgenError, match="is not a plain folder"):
        existing_exports("f", saved_models_dir=tmp_path / "s", export_dir=tmp_path / "e")
    assert (onnx / "notes.txt").read_text() == "mine"


def test_cli_export_says_which_earlier_export_it_replaced(tiny_export, tmp_path):
    saved, onnx = tmp_path / "s" / "tiny", tmp_path / "e" / "tiny"
    shutil.copytree(tiny_export["saved_model"], saved)
    shutil.copytree(tiny_export["export"], onnx)
    manifest = json.loads((onnx / "manifest.json").read_text())
    (onnx / "manifest.json").write_text(json.dumps({**manifest, "earlier": True}))
    source = str(tiny_export["run_dir"])

    # --no-replace refuses up front and keeps the earlier export.
    message = _one_line_error(run_cli("export", source, "--name", "tiny", "--no-replace",
                                      *_dirs(tmp_path)))
    assert "an export named 'tiny' already exists" in message
    assert json.loads((onnx / "manifest.json").read_text())["earlier"] is True

    # A folder holding anything an export does not write is never replaced.
    (tmp_path / "e" / "mine").mkdir()
    (tmp_path / "e" / "mine" / "notes.txt").write_text("mine")
    message = _one_line_error(run_cli("export", source, "--name", "mine", *_dirs(tmp_path)))
    assert "is not an earlier ONNX export" in message and "nothing was replaced" in message
    assert (tmp_path / "e" / "mine" / "notes.txt").read_text() == "mine"
    assert not (tmp_path / "s" / "mine").exists()

    # By default the earlier export is replaced, and the command says which folders.
    result = run_cli("export", source, "--name", "tiny", *_dirs(tmp_path))
    assert result.returncode == 0, result.stderr
    assert f"replaced the earlier export named 'tiny': {saved} and {onnx}" in result.stdout
    assert "earlier" not in json.loads((onnx / "manifest.json").read_text())
    assert sorted(p.name for p in (tmp_path / "e").iterdir()) == ["mine", "tiny"]
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["tiny"]
