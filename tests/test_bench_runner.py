"""The benchmark runner itself: statistics, interleaving, n/a handling, the results schema,
the baseline comparison, the --no-torch path. Every test uses synthetic or self-timed
callables and runs in well under a second, except the worker round trip (a torch import)."""
import importlib.util
import json
import os
import pickle

import numpy as np
import pytest

from bench import report, runner, timing
from bench.__main__ import main as cli_main
from bench.workloads import Side, Workload, curated


def _constant(dtype, seconds):
    """A self-timed side that always 'takes' `seconds`."""
    return lambda: seconds


def _missing(dtype):
    raise ImportError("nn.LSTM is not there yet")


def _flaky(dtype):
    calls = []

    def call():
        calls.append(1)
        if len(calls) > 2:                 # fine during warm-up, fails in the rounds
            raise RuntimeError("kernel crashed")
        return 0.001
    return call


def _row(name, ours, torch, family="f", **kw):
    return Workload(name, family, "4x4", Side(_constant, {"seconds": ours}) if ours else None,
                    Side(_constant, {"seconds": torch}) if torch else None, self_timed=True,
                    **kw)


class Recorder(timing.LocalRunner):
    """A runner that logs which side ran each round."""

    def __init__(self, label, log):
        super().__init__()
        self.label, self.log = label, log

    def round(self, number):
        self.log.append(self.label)
        return super().round(number)


def test_summarize_reports_best_group_median_min_and_spread():
    rounds = [3.0, 1.0, 2.0, 5.0, 5.0, 4.0, 9.0, 1.5, 2.5]   # groups: [3,1,2] [5,5,4] [9,1.5,2.5]
    s = timing.summarize(rounds, number=7, first=20.0)
    assert s.best == 2.0                                      # medians 2, 5, 2.5
    assert s.median == 3.0 and s.min == 1.0
    q1, q3 = np.percentile(rounds, [25, 75])
    assert s.spread == pytest.approx((q3 - q1) / 3.0)
    assert s.number == 7 and s.first == 20.0 and len(s.rounds) == 9


def test_summarize_with_fewer_rounds_than_groups_takes_the_minimum():
    assert timing.summarize([4.0, 2.0]).best == 2.0
    assert timing.summarize([4.0]).spread == 0.0
    with pytest.raises(ValueError):
        timing.summarize([])


def test_calibration_bounds():
    assert timing.calls_per_round(1e-6, 0.1) == 100_000
    assert timing.calls_per_round(1.0, 0.1) == 1
    assert timing.calls_per_round(None, 0.1) == 1
    assert timing.round_count([0.01], 1.0) == timing.MAX_ROUNDS
    assert timing.round_count([2.0], 1.0) == timing.MIN_ROUNDS
    assert timing.round_count([0.1, 0.25], 1.0) == 4          # the slower side decides


def test_measure_interleaves_and_alternates_who_goes_first():
    log = []
    result = timing.measure(_row("w", 0.002, 0.004, rounds=4), Recorder("ours", log),
                            Recorder("torch", log), "float32", 1.0)
    assert log == ["ours", "torch", "torch", "ours", "ours", "torch", "torch", "ours"]
    assert result["ours"].best == 0.002 and result["torch"].best == 0.004
    assert result["ours"].first == 0.002                      # the warm-up call is kept


def test_measure_real_callables_calibrates_calls_per_round():
    w = Workload("sum", "f", "1000", Side(lambda dtype: np.ones(1000, dtype).sum), None)
    stats = timing.measure(w, timing.LocalRunner(), None, "float32", 0.15)["ours"]
    assert stats.number > 10 and timing.MIN_ROUNDS <= len(stats.rounds) <= timing.MAX_ROUNDS
    assert 0 < stats.min <= stats.best < 1e-3


def test_setup_and_round_failures_become_reasons():
    w = Workload("w", "f", "", Side(_missing), Side(_flaky), self_timed=True, rounds=3)
    result = timing.measure(w, timing.LocalRunner(), timing.LocalRunner(), "float32", 1.0)
    assert result["ours"] == "ImportError: nn.LSTM is not there yet"
    assert result["torch"] == "RuntimeError: kernel crashed"


def test_rows_and_json_schema_round_trip(tmp_path):
    rows = [report.make_row(_row("a.fwd", 0.002, 0.004, flops=2e6),
                            {"ours": timing.summarize([0.002] * 3),
                             "torch": timing.summarize([0.004] * 3)}),
            report.make_row(_row("b", 0.002, None, per=10, unit="op"),
                            {"ours": timing.summarize([0.002] * 3), "torch": "no JIT"})]
    assert list(rows[0]) == list(report.ROW_FIELDS)
    assert rows[0]["ratio"] == pytest.approx(0.5)
    assert rows[0]["gflops_ours"] == pytest.approx(1.0)
    assert rows[1]["ours"] == pytest.approx(0.0002)           # per op
    assert rows[1]["torch"] is None and rows[1]["torch_note"] == "no JIT"
    doc = report.make_doc(rows, {"dtype": "float32"}, {"cpu": "x"}, ["a note"])
    path = tmp_path / "r.json"
    report.write_json(doc, path)
    loaded = report.load_json(path)
    assert loaded["rows"] == json.loads(json.dumps(rows))
    assert set(loaded) == set(report.DOC_FIELDS)


@pytest.mark.parametrize("damage, message", [
    (lambda d: d.update(schema="other/1"), "schema"),
    (lambda d: d.pop("machine"), "missing key 'machine'"),
    (lambda d: d["rows"][0].pop("ratio"), "missing ratio"),
    (lambda d: d["rows"][0].update(ours=-1.0), "ours is -1.0"),
    (lambda d: d["rows"][0].update(ours=None, ours_note=None), "no ours time and no note"),
])
def test_validate_names_what_is_wrong(damage, message):
    row = report.make_row(_row("a", 0.001, 0.001), {"ours": timing.summarize([0.001]),
                                                    "torch": timing.summarize([0.001])})
    doc = report.make_doc([row], {}, {}, [])
    damage(doc)
    with pytest.raises(ValueError, match=message):
        report.validate(doc)


def _doc(**times):
    rows = []
    for name, (ours, torch) in times.items():
        result = {"ours": timing.summarize([ours]) if ours else "n/a",
                  "torch": timing.summarize([torch]) if torch else "not run"}
        rows.append(report.make_row(_row(name, 1, 1), result))
    return report.make_doc(rows, {"dtype": "float32"}, {}, [])


def test_baseline_flags_regressions_beyond_threshold_on_the_ratio():
    old = _doc(slower=(1.0, 1.0), same=(1.0, 1.0), faster=(1.0, 1.0), noisy=(1.0, 1.0),
               alone=(1.0, None), gone=(1.0, 1.0))
    new = _doc(slower=(1.5, 1.0), same=(1.1, 1.0), faster=(0.5, 1.0),
               noisy=(2.0, 2.0),          # both sides slowed by a busy machine: ratio unchanged
               alone=(1.3, None), brand_new=(1.0, 1.0))
    regressed = report.compare_baseline(new["rows"], old, threshold=0.2)
    by_name = {r["name"]: r for r in new["rows"]}
    assert [r["name"] for r in regressed] == ["slower", "alone"]
    assert by_name["slower"]["change"] == pytest.approx(0.5)
    assert by_name["slower"]["baseline_metric"] == "ratio"
    assert by_name["noisy"]["regression"] is False
    assert by_name["faster"]["change"] == pytest.approx(-0.5)
    assert by_name["alone"]["baseline_metric"] == "ours"      # no ratio: own time
    assert by_name["brand_new"]["change"] is None


def test_run_suite_without_torch_times_ours_only():
    doc = runner.run_suite(torch=False, progress=False, min_time=0.05,
                           workloads=[_row("a", 0.001, 0.002), _row("b", 0.003, 0.001)])
    report.validate(doc)
    assert [r["ours"] for r in doc["rows"]] == [0.001, 0.003]
    assert all(r["torch"] is None and r["torch_note"] == "not run" for r in doc["rows"])
    assert any("--no-torch" in n for n in doc["notes"])
    assert "—" in report.format_table(doc["rows"], doc["machine"], doc["options"])


def test_run_suite_when_torch_is_not_installed(monkeypatch):
    monkeypatch.setattr(runner, "torch_installed", lambda: False)
    doc = runner.run_suite(progress=False, workloads=[_row("a", 0.001, 0.002)])
    assert doc["rows"][0]["torch"] is None
    assert any("not installed" in n for n in doc["notes"])


def test_end_to_end_with_mocked_callables(tmp_path):
    workloads = [_row("conv.x.fwd", 0.002, 0.004, family="conv", flops=4e6),
                 _row("conv.x.fwdbwd", 0.006, 0.008, family="conv"),
                 Workload("lstm.y", "lstm", "", Side(_missing), Side(_constant, {"seconds": 1e-3}),
                          self_timed=True),
                 _row("mlp.z", 0.001, 0.001, family="mlp")]
    base = _doc(**{"conv.x.fwd": (0.001, 0.004)})
    doc = runner.run_suite(only=["conv", "lstm"], skip="*.fwdbwd", progress=False,
                           workloads=workloads, torch_runner=timing.LocalRunner(), baseline=base)
    report.validate(doc)
    rows = doc["rows"]
    assert [r["name"] for r in rows] == ["conv.x.fwd", "lstm.y"]
    assert rows[0]["ratio"] == pytest.approx(0.5) and rows[0]["regression"] is True
    assert rows[1]["ours_note"].startswith("ImportError") and rows[1]["torch"] == 1e-3
    assert doc["baseline"]["regressions"] == ["conv.x.fwd"]
    table = report.format_table(rows, doc["machine"], doc["options"], doc["notes"])
    assert "n/a [1]" in table and "[1] ours: ImportError: nn.LSTM is not there yet" in table
    assert "0.50" in table and "REGRESSION" in table
    assert doc["machine"]["numba"]["version"] and doc["machine"]["usable_cores"] >= 1


def test_selection_by_name_family_prefix_and_glob():
    ws = [_row("conv2d.a.fwd", 1, 1, family="conv"), _row("conv2d.a.fwdbwd", 1, 1, family="conv"),
          _row("lenet.relu.fwd", 1, 1, family="lenet"),
          _row("startup.import", 1, 1, family="startup", kind="startup")]
    names = lambda sel: [w.name for w in sel]                 # noqa: E731
    assert names(runner.select(ws, ["conv"])) == ["conv2d.a.fwd", "conv2d.a.fwdbwd"]
    assert names(runner.select(ws, ["lenet.relu,startup"])) == ["lenet.relu.fwd",
                                                                 "startup.import"]
    assert names(runner.select(ws, None, ["*.fwdbwd", "startup"])) == ["conv2d.a.fwd",
                                                                       "lenet.relu.fwd"]
    assert names(runner.select(ws, ["conv2d.a.fwd"])) == ["conv2d.a.fwd"]


def test_format_seconds():
    assert report.format_seconds(0.0124) == "12.4 ms"
    assert report.format_seconds(2.85e-6, "op") == "2.85 us/op"
    assert report.format_seconds(1.523) == "1.52 s"
    assert report.format_seconds(0.173) == "173 ms"


def test_registry_covers_perf_md_and_its_sides_pickle():
    names = {w.name for w in curated()}
    for name in ["matmul.1024.fwd", "matmul.1024.numpy_sgemm", "mlp.step",
                 "conv2d.lenet_conv1.fwdbwd", "conv2d.lenet_conv2.fwdbwd",
                 "conv2d.resnet_block.fwdbwd", "conv2d.resnet_stem.fwdbwd",
                 "max_pool2d.N64C6.fwdbwd", "max_pool2d.N32C64.fwdbwd",
                 "avg_pool2d.N32C64.fwdbwd", "lenet.relu.step", "lenet.sigmoid.step",
                 "lstm.cell.fwdbwd", "lstm.layer.T35.fwdbwd", "lstm.cell_loop.T35.fwdbwd",
                 "cross_entropy.64x10.fwdbwd", "cross_entropy.512x1000.fwdbwd",
                 "cross_entropy.4096x10000.fwdbwd", "word2vec.sgns.step",
                 "batchnorm2d.train.fwdbwd", "resnet18.cifar.step",
                 "tape.chain210.fwdbwd"]:
        assert name in names
    assert len(names) == len(curated())
    for w in curated():
        pickle.dumps(w.torch)                  # the PyTorch side travels to the worker


def test_cli_list(capsys):
    assert cli_main(["--list", "--only", "tape"]) == 0
    out = capsys.readouterr().out
    assert "tape.chain210.fwd" in out and "conv2d" not in out


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch not installed")
def test_torch_worker_round_trip():
    from bench.worker import TorchWorker
    from bench.workloads import chain_case

    worker = TorchWorker(1)
    try:
        assert worker.facts["threads"] == 1 and worker.facts["torch"]
        info = worker.setup(Side(chain_case, {"lib": "torch", "length": 7, "mode": "fwdbwd"}),
                            "float32", 0.01)
        assert info["first"] > 0 and info["estimate"] > 0
        assert 0 < worker.round(10) < 0.01
        worker.teardown()
        with pytest.raises(timing.RemoteError, match="TypeError"):
            worker.setup(Side(chain_case, {"lib": "torch"}), "float32", 0.01)
        assert worker.alive()
    finally:
        worker.close()


def test_start_up_children_get_their_cache_and_threads(monkeypatch):
    monkeypatch.setattr(timing, "CHILD_THREADS", 1)
    monkeypatch.setenv("TAPEGRAD_DISABLE_CACHE", "1")
    cold = timing.numba_cache(None)
    assert timing.numba_cache(None) != cold
    assert timing.numba_cache(("warm", "x")) == timing.numba_cache(("warm", "x"))
    env = timing.child_env(cold)
    assert env["NUMBA_CACHE_DIR"] == cold and "TAPEGRAD_DISABLE_CACHE" not in env
    assert env["NUMBA_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == "1"
    root = env["PYTHONPATH"].split(os.pathsep)[0]
    assert os.path.isfile(os.path.join(root, "bench", "workloads.py"))
