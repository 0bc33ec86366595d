"""The Dask vignette runs (with a LocalCluster of two workers) and its claims hold."""

import re
import subprocess
import sys
from pathlib import Path

import statsmodels.api as sm

import fisherkit as fk

VIGNETTES = Path(__file__).resolve().parents[1] / "vignettes"


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
    row = re.search(r"\| `physlm` \| ([-\d.e]+) \| ([-\d.e]+) \|", text)
    assert row is not None
    assert float(row.group(2)) == float(f"{reference.params['physlm']:.4g}")
