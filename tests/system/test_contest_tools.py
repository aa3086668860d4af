"""tools/contest/run.py (make contest) without QEMU: the console split at group markers as the
judge's run.py splits it, and the sums of a judge script's JSON (with stand-in judge scripts, so
no ../shared is needed)."""
import importlib.util
import os
import tempfile

from qemu import ROOT

spec = importlib.util.spec_from_file_location("contest_run", os.path.join(ROOT, "tools", "contest", "run.py"))
run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run)

CONSOLE = """boot noise
#### OS COMP TEST GROUP START basic-musl ####
a
#### OS COMP TEST GROUP END basic-musl ####
between groups
#### OS COMP TEST GROUP START netperf-glibc ####
n1
#### OS COMP TEST GROUP START unixbench-glibc ####
u1
runner: done in 3 s
"""


def test_split_follows_the_judges_markers():
    groups, ended = run.split_groups(CONSOLE)
    assert groups == {"basic-musl": ["a"], "netperf-glibc": ["n1"],
                      "unixbench-glibc": ["u1", "runner: done in 3 s"]}
    # the suite's netperf script ends with a START of unixbench and no END of its own
    assert ended == {"basic-musl"}


def write_judge(d, name, cases):
    with open(os.path.join(d, f"judge_{name}.py"), "w") as f:
        f.write("import json, sys\nsys.stdin.read()\nprint(json.dumps(%r))\n" % (cases,))


def test_scores_sum_points_maximum_and_failures():
    with tempfile.TemporaryDirectory() as d:
        write_judge(d, "basic-musl", [{"name": "test_brk", "all": 3, "pass": 3, "score": 3},
                                      {"name": "test_mount", "all": 5, "pass": 1, "score": 1}])
        write_judge(d, "iperf-glibc", [{"name": "iperf A", "res": 900, "score": 1.6},
                                       {"name": "iperf B", "res": 10, "score": 1.0},
                                       {"name": "iperf C", "res": 0, "score": 0.0}])
        b = run.score_group(d, "basic-musl", ["x"])
        assert (b["points"], b["max"], b["failed"]) == (4, 8, ["test_mount"])
        i = run.score_group(d, "iperf-glibc", ["x"])
        assert (i["points"], i["max"], i["failed"]) == (2.6, 6, ["iperf C"])
        assert i["at_or_below_1.5"] == ["iperf B=1.00"]
        assert run.score_group(d, "lua-musl", []) is None      # no judge for it: not scored
