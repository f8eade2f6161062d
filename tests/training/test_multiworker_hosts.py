"""`vidgen train --strategy multiworker` with each worker on a machine of its own, as far as one
machine can fake it: each worker runs in its own network namespace with its own address (the two
talk over a virtual Ethernet link, not loopback) and writes to a private disk (a tmpfs mounted in
its own mount namespace, so the other worker and this test cannot see it). Both are killed with
-9 mid-run and resumed from what each one's own disk kept.

Needs root (`ip netns`, `mount`); skipped otherwise. test_multiworker.py covers the rest on
localhost."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from vidgen_tf.models import load_model

EPOCHS, STEPS = 4, 20
PORT = 23456

# One worker's "machine": mount a private tmpfs over DISK, restore what this machine's disk held
# before (SAVE), train there, then copy the disk back to SAVE so that the test can read it. The
# trainer's pid goes to PIDFILE so that the test can kill it alone (the copy-back still runs).
MACHINE = r"""
mount -t tmpfs vidgen-disk "$DISK" || exit 97
cp -a "$SAVE/." "$DISK/"
cd "$DISK"
"$PYTHON" -m vidgen_tf.cli.main train --model dcgan3d --preset tiny --sample-every 100 \
    --epochs "$EPOCHS" --steps-per-epoch "$STEPS" --strategy multiworker --out run "$@" &
echo $! > "$PIDFILE"
wait $!
rc=$?
rm -rf "$SAVE" && mkdir -p "$SAVE" && cp -a "$DISK/." "$SAVE/"
exit $rc
"""


def run_quiet(*command):
    return subprocess.run(command, capture_output=True, text=True)


@pytest.fixture
def two_hosts():
    """Two network namespaces joined by a veth pair: [(namespace, address), ...]."""
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("unshare"):
        pytest.skip("needs root, ip and unshare to give each worker its own network and disk")
    tag = f"vg{os.getpid() % 100000}"
    hosts = [(f"{tag}h{index}", f"10.213.7.{index + 1}") for index in range(2)]
    made = []
    try:
        for namespace, _ in hosts:
            result = run_quiet("ip", "netns", "add", namespace)
            if result.returncode != 0:
                pytest.skip(f"ip netns add failed here: {result.stderr.strip()}")
            made.append(namespace)
        links = [f"{tag}v{index}" for index in range(2)]
        commands = [["ip", "link", "add", links[0], "type", "veth", "peer", "name", links[1]]]
        for (namespace, address), link in zip(hosts, links, strict=True):
            commands += [["ip", "link", "set", link, "netns", namespace],
                         ["ip", "-n", namespace, "addr", "add", f"{address}/24", "dev", link],
                         ["ip", "-n", namespace, "link", "set", link, "up"],
                         ["ip", "-n", namespace, "link", "set", "lo", "up"]]
        for command in commands:
            result = run_quiet(*command)
            if result.returncode != 0:
                pytest.skip(f"{' '.join(command)} failed here: {result.stderr.strip()}")
        yield hosts
    finally:
        for namespace in made:  # deleting a namespace deletes its end of the veth pair
            run_quiet("ip", "netns", "del", namespace)


def start_machines(hosts, tmp_path, name, *extra):
    cluster = {"worker": [f"{address}:{PORT}" for _, address in hosts]}
    (tmp_path / "disk").mkdir(exist_ok=True)
    machines = []
    for index, (namespace, _) in enumerate(hosts):
        save = tmp_path / f"machine{index}"
        save.mkdir(exist_ok=True)
        env = {**os.environ, "DISK": str(tmp_path / "disk"), "SAVE": str(save),
               "PYTHON": sys.executable, "EPOCHS": str(EPOCHS), "STEPS": str(STEPS),
               "PIDFILE": str(tmp_path / f"{name}{index}.pid"),
               "TF_CONFIG": json.dumps({"cluster": cluster,
                                        "task": {"type": "worker", "index": index}})}
        log = tmp_path / f"{name}{index}.log"
        machines.append((subprocess.Popen(
            ["ip", "netns", "exec", namespace, "unshare", "--mount", "--propagation", "private",
             "sh", "-c", MACHINE, "machine", *extra],
            env=env, stdout=log.open("w"), stderr=subprocess.STDOUT), log))
    return machines


def finish(machines, timeout=300):
    """Wait for every machine; the logs of all of them if any failed."""
    deadline = time.time() + timeout
    while time.time() < deadline and any(p.poll() is None for p, _ in machines):
        if any(p.poll() not in (None, 0) for p, _ in machines):
            break
        time.sleep(0.2)
    for process, _ in machines:
        if process.poll() is None:
            process.kill()
        process.wait()
    logs = [log.read_text() for _, log in machines]
    assert all(p.returncode == 0 for p, _ in machines), "\n----\n".join(t[-3000:] for t in logs)
    return logs


def test_workers_on_two_hosts_with_private_disks_resume_after_kill_9(two_hosts, tmp_path):
    machines = start_machines(two_hosts, tmp_path, "first")
    chief_log = machines[0][1]
    deadline = time.time() + 300
    while time.time() < deadline and f"Epoch 3/{EPOCHS}" not in chief_log.read_text():
        assert all(p.poll() is None for p, _ in machines), chief_log.read_text()[-3000:]
        time.sleep(0.1)
    time.sleep(0.5)  # into the third epoch
    for index in range(2):
        os.kill(int((tmp_path / f"first{index}.pid").read_text()), signal.SIGKILL)
    for process, _ in machines:
        assert process.wait(timeout=60) == 128 + signal.SIGKILL  # sh's status for a kill -9

    logs = finish(start_machines(two_hosts, tmp_path, "resume", "--resume"))
    for text in logs:  # both resumed at the interrupted epoch, from their own disk
        assert f"(epochs 3-{EPOCHS} of {EPOCHS})" in text, text[-3000:]
        assert "Traceback" not in text

    # Each disk stayed private: the host saw neither, and neither saw the other's files.
    assert not any((tmp_path / "disk").iterdir())
    chief, other = tmp_path / "machine0" / "run", tmp_path / "machine1" / "run"
    assert not (chief / "worker_1").exists() and (chief / "model.keras").exists()
    assert sorted(p.name for p in other.iterdir()) == ["worker_1"]
    models = [load_model(folder / "model.keras") for folder in (chief, other / "worker_1")]
    for model in models:
        for name in model.optimizer_names:  # every step counted once across the kill
            assert int(getattr(model, name).iterations) == EPOCHS * STEPS, name
    first, second = (m.get_weights() for m in models)  # all-reduced over the veth link
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    for folder in (chief, other / "worker_1"):
        rows = (folder / "history.csv").read_text().splitlines()[1:]
        assert [int(row.split(",")[0]) for row in rows] == list(range(EPOCHS))
