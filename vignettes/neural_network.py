"""A small neural network as a fisherkit model: its loss landscape and its tangent kernel.

Run ``python vignettes/neural_network.py`` to write ``neural_network.md`` and its figures
next to this script, or give ``--output-dir DIR`` to write them under ``DIR``. Every number
in the Markdown is computed here; none is typed by hand.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import autograd.numpy as anp  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import fisherkit as fk  # noqa: E402
from _render import markdown_table, output_dir  # noqa: E402

HIDDEN = 4
N = 120


def data(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-2.5, 2.5, N))
    return {"x": x, "y": np.sin(2 * x) + 0.3 * x + 0.2 * rng.normal(size=N)}


def network(p, x):
    """One hidden layer of tanh units: ``f(x) = w2' tanh(W1 x + b1) + b2``."""
    hidden = anp.tanh(anp.outer(x, p["W1"]) + p["b1"])
    return anp.dot(hidden, p["w2"]) + p["b2"]


def gaussian_loglik(p, d):
    z = (d["y"] - network(p, d["x"])) / p["sigma"]
    return -0.5 * z ** 2 - anp.log(p["sigma"]) - 0.5 * np.log(2 * np.pi)


def fit(d: dict, n_starts: int = 6):
    """BFGS from several random starts, the best finished by Newton (as ``fk.Flow.fit``)."""
    best = None
    for seed in range(n_starts):
        rng = np.random.default_rng(100 + seed)
        params = {"W1": rng.normal(size=HIDDEN), "b1": rng.normal(size=HIDDEN),
                  "w2": rng.normal(scale=0.5, size=HIDDEN), "b2": 0.0,
                  "sigma": fk.Scalar("positive")}
        lik = fk.Likelihood(gaussian_loglik, d, params=params, name="tanh network")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", fk.FisherkitWarning)
            near = fk.fit_likelihood(lik, method="bfgs", maxiter=5000)
        if best is None or near.loglik > best[1].loglik:
            best = (lik, near)
    lik, near = best
    res = fk.fit_likelihood(lik, method="newton", start=near.theta)
    if res.flags:
        # a saturated unit (tanh at +-1 everywhere) duplicates the output bias and leaves
        # the information singular; the numbers below would not mean what they say
        raise RuntimeError(f"The network fit is degenerate: {sorted(res.flags)}.")
    return res


def compute() -> dict:
    d = data()
    res = fit(d)
    params = res.model.unpack(res.model.to_natural(res.theta))
    names = [n for n in res.names if n != "sigma"]
    theta = np.array([res.params[n] for n in names])

    def outputs(flat):
        # the network's outputs as a function of its weights alone (sigma excluded)
        p = res.model.unpack(anp.concatenate([flat, anp.array([params["sigma"]])]))
        return network(p, d["x"])

    J = fk.derivatives.jacobian(outputs, theta)  # n x p: d f(x_i) / d theta
    kernel = J @ J.T  # the empirical neural tangent kernel on the training inputs
    observed = res.information("observed").loc[names, names].to_numpy()
    gauss_newton = J.T @ J / params["sigma"] ** 2
    eig_observed = np.sort(np.linalg.eigvalsh(observed))[::-1]
    eig_kernel = np.sort(np.linalg.eigvalsh(kernel))[::-1]
    eig_jtj = np.sort(np.linalg.eigvalsh(J.T @ J))[::-1]
    return {"d": d, "res": res, "params": params, "J": J, "kernel": kernel,
            "eig_observed": eig_observed, "eig_kernel": eig_kernel, "eig_jtj": eig_jtj,
            "gn_gap": float(np.abs(observed - gauss_newton).max() / np.abs(observed).max()),
            "names": names}


def draw(r: dict, out: Path) -> tuple[Path, Path]:
    fit_path = out / "figures" / "neural_network_fit.png"
    d, p = r["d"], r["params"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    grid = np.linspace(-2.5, 2.5, 300)
    axes[0].scatter(d["x"], d["y"], s=10, color="k", label="data")
    axes[0].plot(grid, network(p, grid), color="C3", label="fitted network")
    axes[0].set_xlabel("x")
    axes[0].set_ylabel("y")
    axes[0].legend()
    axes[0].set_title(f"{HIDDEN} tanh units, {len(r['names'])} weights")
    eig = r["eig_observed"]
    axes[1].semilogy(np.arange(1, eig.size + 1), np.abs(eig), "o-")
    axes[1].set_xlabel("rank")
    axes[1].set_ylabel("|eigenvalue| of the observed information")
    axes[1].set_title("Hessian spectrum at the fit")
    fig.tight_layout()
    fig.savefig(fit_path, dpi=90)
    plt.close(fig)

    kernel_path = out / "figures" / "neural_network_kernel.png"
    fig, ax = plt.subplots(figsize=(5.4, 4.6))
    image = ax.imshow(r["kernel"], extent=[d["x"][0], d["x"][-1], d["x"][-1], d["x"][0]],
                      cmap="viridis")
    fig.colorbar(image, ax=ax)
    ax.set_xlabel("x'")
    ax.set_ylabel("x")
    ax.set_title("Empirical tangent kernel K(x, x')")
    fig.tight_layout()
    fig.savefig(kernel_path, dpi=90)
    plt.close(fig)
    return fit_path, kernel_path


def write(r: dict, out: Path, figures: tuple[Path, Path]) -> None:
    fit_figure, kernel_figure = (f.relative_to(out).as_posix() for f in figures)
    eig, p = r["eig_observed"], len(r["names"])
    spectrum = pd.DataFrame({"observed information": eig,
                             "J'J (Gauss-Newton x sigma^2)": r["eig_jtj"],
                             "kernel J J'": r["eig_kernel"][:p]},
                            index=pd.RangeIndex(1, p + 1, name="rank"))
    res = r["res"]
    match = float(np.max(np.abs(r["eig_kernel"][:p] - r["eig_jtj"]) / r["eig_jtj"].max()))
    rest = float(np.abs(r["eig_kernel"][p:]).max() / r["eig_kernel"].max())
    text = f"""# A small neural network: loss landscape and tangent kernel

*Generated by `vignettes/neural_network.py`; every number below is computed by that script.*

A neural network with a Gaussian likelihood is a nonlinear regression model like any other,
so fisherkit fits it and gives its exact Hessian. The network here has one hidden layer of
{HIDDEN} tanh units, $f(x) = w_2' \\tanh(W_1 x + b_1) + b_2$, {p} weights and a noise scale
$\\sigma$, written in a dozen lines with `autograd.numpy` as an `fk.Likelihood`. The data are
{N} noisy draws of $\\sin(2x) + 0.3x$. A network's likelihood has many local maxima (and
symmetries: permuting the hidden units, flipping the sign of one unit's weights), so BFGS
runs from six random starts and Newton's method finishes the best one: it converged
(`{res.converged}`, log-likelihood {res.loglik:.3f}, $\\hat\\sigma$ =
{res.params["sigma"]:.4f}).

![The fit and the Hessian spectrum]({fit_figure})

## The Hessian's eigen-spectrum

The observed information (minus the Hessian of the log-likelihood) of the {p} weights at
the fit has eigenvalues from {eig.max():.4g} down to {eig.min():.4g}: **a spread of
{eig.max() / eig.min():.3g}**. A few directions in weight space are pinned down by the data;
most are nearly flat. This is the "sloppy" spectrum seen in networks of every size: the
standard errors of individual weights are large and strongly correlated even when the fitted
function is well determined, which is why one reports functions of the weights (predictions,
with the delta method) rather than the weights.

## The empirical neural tangent kernel

The per-observation Jacobian of the network's outputs, $J_{{ij}} = \\partial f(x_i) /
\\partial\\theta_j$ ({r["J"].shape[0]} x {r["J"].shape[1]}, from autograd), gives the
empirical tangent kernel $K = J J'$: how a gradient step on observation $x'$ moves the
prediction at $x$. It is largest near the diagonal and turns negative for inputs far apart:
a step that raises the prediction at one end of the range lowers it at the other.

![The empirical tangent kernel]({kernel_figure})

$J'J / \\sigma^2$ is the Gauss-Newton matrix, the expected information of the weights under
the Gaussian model. $K = JJ'$ and $J'J$ share their non-zero eigenvalues, so **the {p}
largest eigenvalues of the {N} x {N} kernel equal those of $J'J$ to {match:.1e} (relative)**,
and the remaining {N - p} are zero to {rest:.1e} of the largest:

{markdown_table(spectrum)}

At the fit the observed information differs from the Gauss-Newton matrix by the term
$\\sum_i r_i \\nabla^2 f(x_i) / \\sigma^2$ weighted by the residuals $r_i$; here the largest
entry of the difference is {r["gn_gap"]:.2e} of the largest entry of the observed
information: small where the network fits, which is when the kernel view of training
(linearized around the weights) describes the fit.
"""
    (out / "neural_network.md").write_text(text)


def main(argv=None) -> None:
    out = output_dir(__doc__, argv)
    r = compute()
    write(r, out, draw(r, out))


if __name__ == "__main__":
    main()
