"""The neural-network vignette runs; its Jacobian and kernel claims hold."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np

VIGNETTES = Path(__file__).resolve().parents[1] / "vignettes"


def test_neural_network_vignette_runs_and_the_kernel_shares_the_gauss_newton_spectrum(tmp_path):
    subprocess.run([sys.executable, str(VIGNETTES / "neural_network.py"), "--output-dir",
                    str(tmp_path)], check=True, capture_output=True, timeout=300)
    text = (tmp_path / "neural_network.md").read_text()
    for name in ("neural_network_fit.png", "neural_network_kernel.png"):
        assert (tmp_path / "figures" / name).read_bytes()[:4] == b"\x89PNG"
    printed = re.search(r"equal those of \$J'J\$ to ([\d.e+-]+) \(relative\)", text)
    assert printed is not None and float(printed.group(1)) < 1e-10
    spread = re.search(r"\*\*a spread of\s+([\d.e+]+)\*\*", text)
    assert spread is not None and float(spread.group(1)) > 100


def test_the_network_jacobian_matches_central_differences():
    sys.path.insert(0, str(VIGNETTES))
    try:
        import neural_network as nn
    finally:
        sys.path.remove(str(VIGNETTES))
    import fisherkit as fk

    rng = np.random.default_rng(3)
    x = rng.uniform(-2, 2, 15)
    shapes = {"W1": nn.HIDDEN, "b1": nn.HIDDEN, "w2": nn.HIDDEN, "b2": 1}

    def unpack(flat):
        out, at = {}, 0
        for key, size in shapes.items():
            out[key] = flat[at:at + size] if key != "b2" else flat[at]
            at += size
        return out

    theta = rng.normal(size=sum(shapes.values()))
    J = fk.derivatives.jacobian(lambda t: nn.network(unpack(t), x), theta)
    h = 1e-6
    fd = np.column_stack([(nn.network(unpack(theta + h * e), x)
                           - nn.network(unpack(theta - h * e), x)) / (2 * h)
                          for e in np.eye(theta.size)])
    np.testing.assert_allclose(J, fd, atol=1e-8)
