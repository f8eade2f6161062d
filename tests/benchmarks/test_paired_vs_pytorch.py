"""benchmarks/paired_vs_pytorch.py: alternating blocks and their ratios, with fake workers."""

from __future__ import annotations

import sys

import pytest

from tests.benchmarks.scripts import load_benchmark

# A worker speaking the script's protocol whose calls take a known time, and which logs the
# order in which blocks arrive.
FAKE = """
import sys, time
seconds, log = float(sys.argv[1]), sys.argv[2]
print("ready", flush=True)
for line in sys.stdin:
    with open(log, "a") as f:
        f.write(sys.argv[3] + "\\n")
    calls = int(line)
    start = time.perf_counter()
    for _ in range(calls):
        time.sleep(seconds)
    print((time.perf_counter() - start) / calls, flush=True)
"""


@pytest.fixture(scope="module")
def paired_module():
    return load_benchmark("paired_vs_pytorch")


def test_the_ratio_is_the_slower_sides_time_over_ours_in_abba_order(paired_module, tmp_path):
    log = tmp_path / "order.txt"
    ours = paired_module.Worker("vidgen_tf", [sys.executable, "-c", FAKE, "0.01", str(log), "A"])
    theirs = paired_module.Worker("pytorch", [sys.executable, "-c", FAKE, "0.03", str(log), "B"])
    try:
        result = paired_module.paired(ours, theirs, rounds=4, calls=5, pause=0.0)
    finally:
        ours.close()
        theirs.close()
    # Each call sleeps 10 ms against 30 ms: the ratio is 3 up to sleep overshoot.
    assert 2.2 < result["median_ratio"] < 3.3
    assert len(result["ratios"]) == 4
    assert result["ratio_quartiles"][0] <= result["median_ratio"] <= result["ratio_quartiles"][1]
    assert result["median_s"]["pytorch"] > 2 * result["median_s"]["vidgen_tf"]
    # ABBA: the side that goes first alternates between rounds.
    assert log.read_text().split() == ["A", "B", "B", "A", "A", "B", "B", "A"]


def test_a_worker_that_fails_to_start_is_a_clear_error(paired_module):
    with pytest.raises(SystemExit, match="did not start"):
        paired_module.Worker("pytorch", [sys.executable, "-c", "print('no torch here')"])


def test_a_missing_interpreter_or_a_worker_that_dies_is_a_clear_error(paired_module, tmp_path):
    with pytest.raises(SystemExit, match="check the interpreter path"):
        paired_module.Worker("pytorch", [str(tmp_path / "no_python"), "-c", "pass"])
    dies = paired_module.Worker("pytorch", [sys.executable, "-c", "print('ready')"])
    with pytest.raises(SystemExit, match="stopped mid-run"):
        dies.time(3)
