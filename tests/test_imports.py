"""The package, video I/O, built-in datasets and TF-free commands never import TensorFlow."""

from tests.test_case import run_python

CHECK = """
import json, sys
{body}
print(json.dumps({{"heavy": sorted(m for m in ("tensorflow", "keras", "tf2onnx")
                                   if m in sys.modules)}}))
"""


def test_importing_the_package_and_data_io_does_not_import_tensorflow():
    body = """
import vidgen_tf, vidgen_tf.data
from vidgen_tf.data import read_video, write_video, ShapesDataset, MovingMNIST, scan_video_folder
from vidgen_tf.data import synthesize_dataset
import vidgen_tf.cli.main
vidgen_tf.cli.main.build_parser()
"""
    assert run_python(CHECK.format(body=body)) == {"heavy": []}


def test_cli_help_and_shapes_synth_do_not_import_tensorflow(tmp_path):
    body = f"""
from vidgen_tf.cli.main import main
for argv in (["--help"], ["data", "--help"], ["data", "synth", "--help"]):
    try:
        main(argv)
    except SystemExit:
        pass
assert main(["data", "synth", "--num", "3", "--frames", "4", "--size", "16",
             "--out", {str(tmp_path / "s")!r}]) == 0
assert main(["data", "inspect", {str(tmp_path / "s")!r}, "--frames", "4"]) == 0
"""
    assert run_python(CHECK.format(body=body)) == {"heavy": []}


def test_the_check_itself_sees_tensorflow_when_it_is_imported():
    # Guards the guard: if this failed, the checks above could never fail.
    assert "tensorflow" in run_python(CHECK.format(body="import tensorflow"))["heavy"]
