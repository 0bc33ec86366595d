"""The vignettes run from a clean directory and say what their numbers say."""

import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm

import fisherkit as fk

VIGNETTES = Path(__file__).resolve().parents[1] / "vignettes"
FORMULA_COLUMNS = ["yr_con", "op_75_79"]


@pytest.fixture(scope="module")
def standard_errors_page(tmp_path_factory):
    """The standard-errors vignette run once into a fresh directory (about 15 s): its
    regenerated Markdown and the folder it wrote."""
    out = tmp_path_factory.mktemp("standard_errors")
    subprocess.run([sys.executable, str(VIGNETTES / "standard_errors.py"), "--output-dir",
                    str(out)], check=True, capture_output=True, timeout=300)
    return out, (out / "standard_errors.md").read_text()


def printed_to(value: float, printed: str, digits: int = 4) -> bool:
    """Whether ``printed`` is ``value`` to ``digits`` significant digits (the vignettes'
    tables, ``markdown_table``): within half a unit of the last digit, with 1e-6 of that
    unit to spare for a value sitting on a rounding boundary."""
    half_unit = 0.5 * 10.0 ** (math.floor(math.log10(abs(value))) - digits + 1)
    return abs(float(printed) - value) <= half_unit * (1 + 1e-6)


def table_rows(text: str, header: str) -> dict[str, list[str]]:
    """The first Markdown table whose header row starts with ``header``: row label to cells."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0].strip("`")] = cells[1:]
    return rows


def statsmodels_poisson_ses():
    """The vignette's Poisson fit (ships, exposure = service, the 34 rows Stata used) by
    statsmodels: standard errors of each kind, named as the vignette's columns."""
    ships = fk.datasets.load("ships").dropna(subset=["accident", "service"])
    X = sm.add_constant(ships[FORMULA_COLUMNS], prepend=True)
    model = sm.Poisson(ships["accident"], X, offset=np.log(ships["service"]))
    fit = model.fit(method="newton", tol=1e-12, disp=0)
    S = model.score_obs(fit.params.to_numpy())
    hc0 = model.fit(method="newton", tol=1e-12, disp=0, cov_type="HC0")
    cluster = model.fit(method="newton", tol=1e-12, disp=0, cov_type="cluster",
                        cov_kwds={"groups": ships["ship"].to_numpy()})
    n, k = len(ships), X.shape[1]
    return {
        "observed": fit.bse.to_numpy(),
        # the log link is canonical: the expected information is the observed one
        "expected": fit.bse.to_numpy(),
        "opg": np.sqrt(np.diag(np.linalg.inv(S.T @ S))),
        "sandwich": hc0.bse.to_numpy(),
        # statsmodels' cluster covariance carries (N - 1) / (N - K) beside G / (G - 1);
        # the vignette's (fisherkit's, Stata's ML) carries G / (G - 1) only
        "cluster": cluster.bse.to_numpy() / np.sqrt((n - 1) / (n - k)),
    }


@pytest.mark.slow
def test_standard_errors_vignette_runs_and_its_sandwich_claim_holds(standard_errors_page):
    out, text = standard_errors_page
    png = (out / "figures" / "standard_errors.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert text.startswith("# Standard errors four ways")
    assert "](figures/standard_errors.png)" in text

    # the Poisson table's standard errors, every kind, against statsmodels on the same rows
    reference = statsmodels_poisson_ses()
    rows = table_rows(text, "|  | observed | expected | opg | sandwich | cluster |")
    assert list(rows) == ["Intercept"] + FORMULA_COLUMNS
    for j, kind in enumerate(reference):
        for i, name in enumerate(rows):
            assert printed_to(reference[kind][i], rows[name][j]), (kind, name, rows[name][j])

    # the claim: for the over-dispersed Poisson fit the sandwich standard errors exceed the
    # observed-information ones, by the range of factors the vignette prints
    ratio = reference["sandwich"] / reference["observed"]
    assert (ratio > 1.2).all()
    printed = re.search(r"\*\*The sandwich is larger\*\*, by a factor of ([\d.]+) to ([\d.]+)",
                        text)
    assert printed is not None
    assert (float(printed.group(1)), float(printed.group(2))) == (round(ratio.min(), 2),
                                                                    round(ratio.max(), 2))


@pytest.mark.slow
def test_standard_errors_vignette_reports_coverage_near_95_percent(standard_errors_page):
    _, text = standard_errors_page
    printed = re.search(r"\*\*The observed-information intervals cover ([\d.]+)% to ([\d.]+)%\*\*",
                        text)
    assert printed is not None
    n_sets = int(re.search(r"(\d+) data sets drawn from the fitted", text).group(1))
    mc_se = np.sqrt(0.95 * 0.05 / n_sets)
    for share in printed.groups():
        assert abs(float(share) / 100 - 0.95) < 3 * mc_se
    # the bold range is the coverage column's own range
    rows = table_rows(text, "|  | coverage, observed |")
    observed = [float(cells[0]) for cells in rows.values()]
    assert [float(s) for s in printed.groups()] == [round(100 * min(observed), 1),
                                                    round(100 * max(observed), 1)]
    # the sandwich intervals cover less on every coefficient, as the page says
    assert all(float(cells[1]) < float(cells[0]) for cells in rows.values())
