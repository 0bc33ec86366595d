"""The Dask vignette runs (with a LocalCluster of two workers) and its claims hold."""

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
import statsmodels.api as sm

import fisherkit as fk

VIGNETTES = Path(__file__).resolve().parents[1] / "vignettes"


@pytest.mark.slow
def test_scaling_out_vignette_matches_memory_and_statsmodels(tmp_path):
    subprocess.run([sys.executable, str(VIGNETTES / "scaling_out.py"), "--output-dir",
                    str(tmp_path)], check=True, capture_output=True, timeout=600)
    text = (tmp_path / "scaling_out.md").read_text()
    worst = re.search(r"agrees with the in-memory fit\s+to ([\d.e+-]+)\*\*", text)
    assert worst is not None and float(worst.group(1)) < 1e-10
    randhie = fk.datasets.load("randhie")
    columns = ["lncoins", "idp", "lpi", "fmde", "physlm", "disea", "hlthg", "hlthf", "hlthp"]
    reference = sm.GLM(randhie["mdvis"], sm.add_constant(randhie[columns]),
                       family=sm.families.Poisson()).fit(tol=1e-12)
    # every coefficient's row: in-memory and Dask estimates, each statsmodels' to the 4
    # printed digits (within half a unit of the last, 1e-6 of it spare for a boundary)
    for name in ["const"] + columns:
        label = "Intercept" if name == "const" else name
        row = re.search(rf"\| `{re.escape(label)}` \| ([-\d.e]+) \| ([-\d.e]+) \|", text)
        assert row is not None, label
        value = reference.params[name]
        half_unit = 0.5 * 10.0 ** (math.floor(math.log10(abs(value))) - 3)
        for printed in row.groups():
            assert abs(float(printed) - value) <= half_unit * (1 + 1e-6), (label, printed)
