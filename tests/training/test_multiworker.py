"""`vidgen train --strategy multiworker`: two worker processes on this machine (TF_CONFIG with
two localhost addresses) train one model in step, sharing one --out folder, and resume together
after kill -9."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from vidgen_tf.errors import VidgenError
from vidgen_tf.models import load_model
from vidgen_tf.training.setup import multi_worker_task, worker_run_dir

TINY = ["--model", "dcgan3d", "--preset", "tiny", "--sample-every", "100"]
EPOCHS, STEPS = 4, 30


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def start_workers(run, logs, *extra):
    """Two `vidgen train --strategy multiworker` processes on localhost, stderr to `logs`."""
    ports = free_ports(2)
    return [subprocess.Popen(
        [sys.executable, "-m", "vidgen_tf.cli.main", "train", *TINY, "--epochs", str(EPOCHS),
         "--steps-per-epoch", str(STEPS), "--strategy", "multiworker", "--out", str(run), *extra],
        stdout=subprocess.DEVNULL, stderr=log,
        env={**os.environ, "TF_CONFIG": json.dumps({
            "cluster": {"worker": [f"localhost:{p}" for p in ports]},
            "task": {"type": "worker", "index": index}})})
        for index, log in enumerate(logs)]


def wait_for_both(workers, logs):
    # A worker that fails leaves the other waiting for its peer: stop both then.
    deadline = time.time() + 300
    while time.time() < deadline and any(w.poll() is None for w in workers):
        if any(w.poll() not in (None, 0) for w in workers):
            break
        time.sleep(0.2)
    for worker in workers:
        if worker.poll() is None:
            worker.kill()
    for worker, log in zip(workers, logs, strict=True):
        worker.wait()
        log.close()
        stderr = open(log.name).read()
        assert worker.returncode == 0, stderr[-3000:]
        assert "Traceback" not in stderr


def epochs_logged(folder):
    history = folder / "history.csv"
    return history.read_text().count("\n") - 1 if history.exists() else 0


def test_two_workers_train_in_step_and_resume_after_kill_9(tmp_path):
    run = tmp_path / "run"
    # Worker 0 is the chief and keeps --out; worker 1 keeps its own copy in a subfolder, so the
    # two never write the same file (each needs its own backup to resume).
    chief, other = run, run / "worker_1"
    logs = [(tmp_path / f"worker{index}.err").open("w") for index in range(2)]
    workers = start_workers(run, logs)
    deadline = time.time() + 300
    while time.time() < deadline and min(epochs_logged(chief), epochs_logged(other)) < 1:
        assert all(w.poll() is None for w in workers), open(logs[0].name).read()[-3000:]
        time.sleep(0.05)
    time.sleep(0.3)  # into the second epoch
    assert all(w.poll() is None for w in workers), "training finished before it could be killed"
    for worker in workers:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    assert (chief / "backup").exists() and (other / "backup").exists()

    logs = [(tmp_path / f"resume{index}.err").open("w") for index in range(2)]
    wait_for_both(start_workers(run, logs, "--resume"), logs)

    assert json.loads((chief / "config.json").read_text())["replicas"] == 2
    models = [load_model(folder / "model.keras") for folder in (chief, other)]
    for model in models:
        for name in model.optimizer_names:  # every step counted once across the kill
            assert int(getattr(model, name).iterations) == EPOCHS * STEPS, name
    # Gradients are all-reduced, so both workers hold the same weights after training on
    # different halves of each batch.
    first, second = (m.get_weights() for m in models)
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    for folder in (chief, other):
        assert epochs_logged(folder) == EPOCHS  # no epoch twice, none missing


@pytest.mark.parametrize("config, expected", [
    ({"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 0}},
     ("worker", 0, True)),
    ({"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 1}},
     ("worker", 1, False)),
    ({"cluster": {"chief": ["c:1"], "worker": ["a:1"]}, "task": {"type": "worker", "index": 0}},
     ("worker", 0, False)),
    ({"cluster": {"chief": ["c:1"], "worker": ["a:1"]}, "task": {"type": "chief", "index": 0}},
     ("chief", 0, True)),
])
def test_the_chief_follows_tensorflows_rule(config, expected, tmp_path):
    assert multi_worker_task(json.dumps(config)) == expected
    folder = worker_run_dir(tmp_path, json.dumps(config))
    kind, index, chief = expected
    assert folder == (tmp_path if chief else tmp_path / f"{kind}_{index}")


@pytest.mark.parametrize("text, message", [
    ("", "needs TF_CONFIG"),
    ("{cluster", "not valid JSON"),
    ('{"cluster": {"worker": ["a:1"]}}', 'needs a "cluster" and a "task"'),
    ('{"cluster": {"worker": ["a:1"], "evaluator": ["e:1"]}, '
     '"task": {"type": "evaluator", "index": 0}}', "task type is 'evaluator'"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}',
     "lists 1 worker address"),
])
def test_a_bad_tf_config_is_named(text, message):
    with pytest.raises(VidgenError, match=message):
        multi_worker_task(text)


def test_a_worker_that_dies_stops_the_other_with_one_clear_line(tmp_path):
    run = tmp_path / "run"
    logs = [(tmp_path / f"worker{index}.err").open("w") for index in range(2)]
    chief, other = start_workers(run, logs)
    deadline = time.time() + 300
    while time.time() < deadline and epochs_logged(run) < 1 and chief.poll() is None:
        time.sleep(0.05)
    other.send_signal(signal.SIGKILL)
    other.wait()
    try:
        chief.wait(timeout=120)  # measured: 8.5 s (the dead task stops sending heartbeats)
    finally:
        chief.kill()
    for log in logs:
        log.close()
    stderr = open(logs[0].name).read()
    assert chief.returncode == 2, stderr[-3000:]
    errors = [line for line in stderr.splitlines() if line.startswith("vidgen: error:")]
    assert len(errors) == 1 and "lost contact with another worker" in errors[0], errors
    assert "start each one again with --resume" in errors[0]
    assert "Traceback" not in stderr
    assert (run / "backup").exists()  # what --resume needs is still there
