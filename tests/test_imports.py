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


ONEDNN = """
import json, os
{body}
import vidgen_tf
import tensorflow
from tensorflow.python.util import _pywrap_util_port
print(json.dumps({{"env": os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
                   "onednn": bool(_pywrap_util_port.IsMklEnabled())}}))
"""


def test_importing_the_package_turns_on_tensorflows_onednn_kernels_unless_told_otherwise():
    # TensorFlow enables oneDNN by default only on AVX-512 VNNI/BF16/AMX CPUs; vidgen_tf turns
    # it on everywhere (1.8x faster training on AVX2 CPUs) but keeps an explicit setting.
    unset = 'os.environ.pop("TF_ENABLE_ONEDNN_OPTS", None)'
    assert run_python(ONEDNN.format(body=unset)) == {"env": "1", "onednn": True}
    kept = 'os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"'
    assert run_python(ONEDNN.format(body=kept)) == {"env": "0", "onednn": False}
