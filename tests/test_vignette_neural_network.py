"""The neural-network vignette runs; its Jacobian and kernel claims hold."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

VIGNETTES = Path(__file__).resolve().parents[1] / "vignettes"


@pytest.mark.slow
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
    # the page's spectrum table: the spread is its largest observed eigenvalue over its
    # smallest (printed to 4 digits, the spread to 3: 5e-3), and the kernel's leading
    # eigenvalues are J'J's (to 1e-3 of each, well above the 1e-10 of the largest claimed)
    header = "|  | observed information | J'J (Gauss-Newton x sigma^2) | kernel J J' |"
    lines = text.splitlines()
    start = lines.index(header)
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([float(cell) for cell in line.strip("|").split("|")[1:]])
    observed, jtj, kernel = np.array(rows).T
    assert len(observed) == 13 and np.all(np.diff(observed) < 0)  # 3 x 4 + 1 weights, sorted
    assert float(spread.group(1)) == pytest.approx(observed[0] / observed[-1], rel=5e-3)
    np.testing.assert_allclose(kernel, jtj, rtol=1e-3)
    bounds = re.search(r"eigenvalues from ([\d.e+-]+) down to ([\d.e+-]+):", text)
    assert bounds is not None
    assert (float(bounds.group(1)), float(bounds.group(2))) == (observed[0], observed[-1])


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
