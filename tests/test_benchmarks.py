"""The benchmark runs (quick mode) and its fits agree with statsmodels; no timing asserted."""

import importlib.util
from pathlib import Path


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
