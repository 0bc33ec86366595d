"""The benchmark runs (quick mode) and its fits agree with statsmodels; no timing asserted."""

import importlib.util
from pathlib import Path

import pytest


def _load(name):
    path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_logit_benchmark_quick_run_agrees_with_statsmodels():
    bench = _load("bench_logit")
    row = bench.run(20_000, 10, 1)
    # both optimizers converge tightly on the same likelihood; 1e-6 is the bar
    assert row["max_rel_param_diff"] < 1e-6
    assert row["max_rel_se_diff"] < 1e-5
    assert row["fisherkit_iterations"] <= 10


def test_results_rewrite_keeps_the_sections_below_the_marker(tmp_path):
    bench = _load("bench_logit")
    path = tmp_path / "RESULTS.md"
    path.write_text("# old head\n\n" + bench.MARKER + "\n\n## Kept section\n\nbody\n")
    bench.write_results(path, "# new head\n")
    text = path.read_text()
    assert text.startswith("# new head\n")
    assert "# old head" not in text
    assert text.endswith(bench.MARKER + "\n\n## Kept section\n\nbody\n")


def test_user_likelihood_benchmark_quick_run_agrees_with_analytic_logit():
    bench = _load("bench_likelihood")
    row = bench.run(5_000, 5, 1)
    assert row["max_rel_se_diff_fisherkit_vs_analytic"] < 1e-8
    assert row["max_rel_param_diff_fisherkit_vs_analytic"] < 1e-6


@pytest.mark.slow
def test_models_benchmark_quick_run_agrees_with_statsmodels(tmp_path):
    bench = _load("bench_models")
    r = bench.run(quick=True, repeats=1)
    assert {row["family"] for row in r["families"]} == {"logit", "poisson", "negbin", "ordinal"}
    for row in r["families"]:
        # the ordinal slopes against statsmodels' BFGS fit, whose numerical Hessian is rough
        assert row["max rel. se diff"] < (1e-4 if row["family"] == "ordinal" else 1e-8), row
    assert [row["kind"] for row in r["information"]] == ["observed", "expected", "opg",
                                                          "sandwich"]
    assert r["memory"]["peak / design"] > 1.0  # the design itself is built inside the fit
    # the section replaces its old self below the marker and keeps the rest
    path = tmp_path / "RESULTS.md"
    path.write_text("# head\n\n" + bench.MARKER + "\n\n" + bench.TITLE + "\n\nold\n\n## Other\n\nkept\n")
    bench.write_section(path, bench.section(r, 1))
    text = path.read_text()
    assert "old" not in text and text.endswith("## Other\n\nkept\n") and text.count(bench.TITLE) == 1


@pytest.mark.slow
def test_out_of_core_benchmark_small_run_stays_under_the_worker_limit(monkeypatch):
    bench = _load("bench_dask")
    monkeypatch.setattr(bench, "ROWS_PER_PARTITION", 50_000)
    r = bench.run(200_000, "1GB")
    assert r["partitions"] == 4 and r["converged"] and r["workers alive"] == 2
    assert max(r["peak GB"].values()) < r["limit GB"]
    assert r["largest |estimate - truth| / se"] < 5.0
    assert bench.TITLE in bench.section(r, "python benchmarks/bench_dask.py --quick")


@pytest.mark.slow
def test_runner_quick_run_writes_every_section_and_keeps_the_others(tmp_path):
    runner = _load("run")
    path = tmp_path / "RESULTS.md"
    kept = "## Out of core on Dask\n\nkept body\n"
    stale = runner.bench_models.TITLE + "\n\nstale numbers\n"
    path.write_text("# old head\n\n" + runner.MARKER + "\n\n" + stale + "\n" + kept)
    assert runner.main(["--quick", "--output", str(path)]) == 0
    text = path.read_text()
    head, tail = text.split(runner.MARKER)
    assert head.startswith("# Benchmarks\n\n## Targets\n") and "# old head" not in text
    for title in runner.TITLES:
        assert head.count(title) == 1, title
    assert "stale numbers" not in text and tail.strip() == kept.strip()
    # the targets table has its six rows and the mixed benchmark's four, each judged
    targets = head.split("## Targets")[1].split("\n\n")[1].splitlines()
    assert len(targets) == 2 + 6 + 4 and all(line.endswith(("| yes |", "| no |")) for line in targets[2:])
    # and the write is idempotent on its own output
    runner.write(path, head.rstrip("\n"))
    assert path.read_text() == text


@pytest.mark.slow
def test_mixed_benchmark_quick_run_replaces_its_rows_and_section(tmp_path):
    bench, runner = _load("bench_mixed"), _load("run")
    r = bench.run(quick=True, repeats=1)
    assert all(row["converged"] == "yes" for row in r["ratios"] + [r["slope"]])
    # fisherkit's maximum likelihood and statsmodels' variational fit see the same data
    sm = r["statsmodels"]
    assert abs(sm["fisherkit x"] - sm["fit_vb x"]) < 0.05
    path = tmp_path / "RESULTS.md"
    path.write_text("# Benchmarks\n\n## Targets\n\n| target | measured | required | met |\n"
                    "| --- | --- | --- | --- |\n| other | 1 | 2 | yes |\n\n## Command and "
                    "machine\n\nx\n\n" + bench.MARKER + "\n\n## Kept\n\nkept\n")
    bench.write(path, r, "python benchmarks/run.py --only mixed", runner.target_lines)
    first = path.read_text()
    bench.write(path, r, "python benchmarks/run.py --only mixed", runner.target_lines)
    assert path.read_text() == first
    head, tail = first.split(bench.MARKER)
    assert head.count(bench.TITLE) == 1 and tail == "\n\n## Kept\n\nkept\n"
    rows = head.split("## Targets")[1].split("\n\n")[1].splitlines()
    assert len(rows) == 2 + 1 + 4 and rows[2] == "| other | 1 | 2 | yes |"
