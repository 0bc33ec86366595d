"""The natural-gradient vignette runs from a clean directory and its claims hold."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm

import fisherkit as fk

VIGNETTES = Path(__file__).resolve().parents[1] / "vignettes"


def load_vignette():
    sys.path.insert(0, str(VIGNETTES))
    spec = importlib.util.spec_from_file_location("natural_gradient_vignette",
                                                  VIGNETTES / "natural_gradient.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_natural_gradient_vignette_runs_and_its_ill_conditioned_claim_holds(tmp_path):
    subprocess.run([sys.executable, str(VIGNETTES / "natural_gradient.py"),
                    "--output-dir", str(tmp_path)], check=True, capture_output=True, timeout=300)
    text = (tmp_path / "natural_gradient.md").read_text()
    for name in ("natural_gradient_convergence.png", "natural_gradient_paths.png"):
        png = (tmp_path / "figures" / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
        assert f"](figures/{name})" in text
    printed = re.search(r"\*\*The natural gradient converged in (\d+) iterations; plain "
                        r"gradient had not\nconverged after ([\d,]+)\*\*", text)
    assert printed is not None
    # the claim, re-fitted here: natural gradient within 10 iterations, plain gradient at
    # the safe fixed step not converged in 100 times as many
    formula, df, design = load_vignette().ill_conditioned()
    natural = fk.fit(formula, data=df, family="logit", method="natural_gradient")
    assert natural.converged and natural.n_iter <= 10
    assert int(printed.group(1)) == natural.n_iter
    assert int(printed.group(2).replace(",", "")) == 1000
    safe = 4.0 / np.linalg.eigvalsh(design.T @ design)[-1]
    with pytest.warns(fk.ConvergenceWarning, match="did not converge"):
        plain = fk.fit(formula, data=df, family="logit", method="gradient", maxiter=1000,
                       options={"learning_rate": safe})
    assert not plain.converged
    newton = fk.fit(formula, data=df, family="logit")
    assert ((natural.params - newton.params).abs() / newton.se).max() < 1e-6
    # and that maximum is statsmodels' on the same design
    reference = sm.Logit(df["y"], design).fit(method="newton", tol=1e-12, disp=0)
    assert np.max(np.abs(natural.params.to_numpy() - reference.params) / reference.bse) < 1e-6
