"""The Hessian: symmetry, definiteness and convexity, and second-order conditions.

Run ``python vignettes/hessians.py`` to write ``hessians.md`` and its figure next to this
script, or give ``--output-dir DIR`` to write them under ``DIR``. Every number in the
Markdown is computed here; none is typed by hand.
"""

from __future__ import annotations


from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import autograd  # noqa: E402
import autograd.numpy as anp  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from autograd.scipy.special import logsumexp  # noqa: E402

import fisherkit as fk  # noqa: E402
from _render import markdown_table, output_dir  # noqa: E402

D = fk.derivatives
N_POINTS = 500


def wiggly(x):
    return x[0] ** 3 * x[1] + anp.sin(x[0] * x[1]) + anp.exp(0.3 * x[1]) * x[2] ** 2


def symmetry(rng) -> pd.DataFrame:
    rows = []
    for k in range(5):
        x = rng.normal(size=3)
        H = D.hessian(wiggly, x)
        J_of_gradient = D.jacobian(autograd.grad(wiggly), x)
        h = 1e-5
        fd = np.column_stack([(D.gradient(wiggly, x + h * e) - D.gradient(wiggly, x - h * e))
                              / (2 * h) for e in np.eye(3)])
        rows.append({"point": k + 1, "max abs(H - H')": np.abs(H - H.T).max(),
                     "max abs(H - J(gradient))": np.abs(H - J_of_gradient).max(),
                     "max abs(H - central differences)": np.abs(H - fd).max(),
                     "max abs(H)": np.abs(H).max()})
    return pd.DataFrame(rows).set_index("point")


def not_negative_definite(H) -> bool:
    """On the unit-diagonal scaling, so that saturated (tiny) curvature is not read as 0."""
    d = np.sqrt(np.abs(np.diag(H)))
    return bool(np.linalg.eigvalsh(H / np.outer(d, d)).max() >= -1e-10)


def concavity(rng) -> tuple[pd.DataFrame, dict]:
    spector = fk.datasets.load("spector")
    logit = fk.fit("GRADE ~ GPA + TUCE + PSI", data=spector, family="logit")
    y = fk.datasets.load("longley")["TOTEMP"].to_numpy() / 1000.0
    normal = fk.fit("y ~ 1", data=pd.DataFrame({"y": y}), family="normal")

    def normal_sigma(v):  # log-likelihood in (mu, sigma)
        return anp.sum(-0.5 * ((y - v[0]) / v[1]) ** 2 - anp.log(v[1]))

    def normal_log_sigma(v):  # in (mu, log sigma)
        return normal_sigma(anp.array([v[0], anp.exp(v[1])]))

    beta, se = logit.params.to_numpy(), logit.se.to_numpy()
    m, s = normal.params["Intercept"], normal.params["sigma"]
    counts = {"logit (Spector), coefficients": 0, "normal (Longley), (mu, sigma)": 0,
              "normal (Longley), (mu, log sigma)": 0}
    for _ in range(N_POINTS):
        b = beta + 2 * se * rng.normal(size=beta.size)
        counts["logit (Spector), coefficients"] += not_negative_definite(logit.model.hessian(b))
        point = np.array([m + s * rng.uniform(-0.9, 0.9), s * np.exp(rng.uniform(-1.5, 1.5))])
        counts["normal (Longley), (mu, sigma)"] += not_negative_definite(
            D.hessian(normal_sigma, point))
        counts["normal (Longley), (mu, log sigma)"] += not_negative_definite(
            D.hessian(normal_log_sigma, np.array([point[0], np.log(point[1])])))
    table = pd.DataFrame({"points": N_POINTS,
                          "not negative definite": pd.Series(counts, dtype=int)})
    table["share"] = table["not negative definite"] / N_POINTS
    return table, {"m": m, "s": s}


def mixture_data(seed: int = 4, n: int = 400) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.where(rng.random(n) < 0.5, -1.5, 1.5) + rng.normal(size=n)


def mixture_loglik(y):
    """Two equal-weight unit-variance normals with unknown means."""
    def loglik(mu):
        parts = anp.stack([-0.5 * (y - mu[0]) ** 2, -0.5 * (y - mu[1]) ** 2])
        return anp.sum(logsumexp(parts, axis=0) - np.log(2.0) - 0.5 * np.log(2 * np.pi))
    return loglik


def stationary_points(y) -> pd.DataFrame:
    """Newton on the gradient (root finding, no ascent safeguard) from a grid of starts."""
    f = mixture_loglik(y)
    found = []
    for a in np.linspace(-3, 3, 7):
        for b in np.linspace(-3, 3, 7):
            x = np.array([a, b])
            for _ in range(100):
                g = D.gradient(f, x)
                if np.linalg.norm(g) < 1e-10:
                    break
                step = np.linalg.solve(D.hessian(f, x), g)
                x = x - step
                if not np.all(np.isfinite(x)) or np.abs(x).max() > 10:
                    break
            if np.all(np.isfinite(x)) and np.linalg.norm(D.gradient(f, x)) < 1e-8:
                if not any(np.abs(x - z).max() < 1e-6 for z in found):
                    found.append(x)
    rows = []
    for x in sorted(found, key=lambda v: (v[0], v[1])):
        eig, vectors = np.linalg.eigh(D.hessian(f, x))
        rows.append({"mu1": x[0], "mu2": x[1], "loglik": f(x),
                     "gradient norm": np.linalg.norm(D.gradient(f, x)),
                     "eigenvalue 1": eig[0], "eigenvalue 2": eig[1],
                     # abs(cos) of the angle between the second eigenvector and the anti-diagonal
                     "across": abs(vectors[:, 1] @ np.array([1.0, -1.0])) / np.sqrt(2.0),
                     "kind": D.classify_stationary_point(D.hessian(f, x))})
    return pd.DataFrame(rows)


def compute() -> dict:
    rng = np.random.default_rng(0)
    y = mixture_data()
    table, normal = concavity(rng)
    return {"symmetry": symmetry(rng), "concavity": table, "normal": normal, "y": y,
            "points": stationary_points(y)}


def draw(r: dict, out: Path) -> Path:
    path = out / "figures" / "hessians_mixture.png"
    f = mixture_loglik(r["y"])
    grid = np.linspace(-3, 3, 121)
    values = np.array([[f(np.array([a, b])) for a in grid] for b in grid])
    fig, ax = plt.subplots(figsize=(5.6, 5))
    top = values.max()
    ax.contour(grid, grid, values, levels=np.sort(top - np.geomspace(0.5, top - values.min(), 14)),
               cmap="viridis")
    markers = {"maximum": ("^", "C3"), "saddle": ("X", "k"), "minimum": ("v", "C0")}
    for kind, group in r["points"].groupby("kind"):
        marker, colour = markers.get(kind, ("o", "C1"))
        ax.scatter(group["mu1"], group["mu2"], marker=marker, s=90, color=colour, label=kind,
                   zorder=3)
    ax.set_xlabel("mu1")
    ax.set_ylabel("mu2")
    ax.set_title("Two-component mixture: log-likelihood of the means")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def write(r: dict, out: Path, figure: Path) -> None:
    sym, conc, points = r["symmetry"], r["concavity"], r["points"]
    kinds = points["kind"].value_counts()
    saddle = points[points["kind"] == "saddle"].iloc[0]
    text = f"""# The Hessian: symmetry, curvature and stationary points

*Generated by `vignettes/hessians.py`; every number below is computed by that script.*

The Hessian $H = \\partial^2 f / \\partial x\\, \\partial x^T$ of a twice continuously
differentiable function is symmetric (Schwarz's theorem), it is the Jacobian of the gradient,
and its eigenvalues say how the function curves: all negative at a strict local maximum,
all positive at a strict minimum, of both signs at a saddle. A likelihood whose Hessian is
negative definite everywhere is concave and has at most one maximum.

## Symmetric, and the Jacobian of the gradient

For $f(x) = x_1^3 x_2 + \\sin(x_1 x_2) + e^{{0.3 x_2}} x_3^2$ at five random points,
`fk.derivatives.hessian` (autograd, forward over reverse) against its own transpose, against
`jacobian(gradient)` and against central differences of the gradient ($h = 10^{{-5}}$):

{markdown_table(sym)}

**The largest asymmetry is {sym["max abs(H - H')"].max():.3g}**: symmetric to rounding, and the
Jacobian of the gradient is the same matrix. Central differences agree to about $h^2$.

## Definiteness and concavity depend on the coordinates

At {N_POINTS} random points around each fit (the logit's coefficients spread over two
standard errors; the normal's mean uniform within $0.9\\hat s$ of $\\bar y$ and $\\sigma$
over a factor of $e^{{\\pm 1.5}}$ around $\\hat s$), how often the Hessian of the
log-likelihood is *not* negative definite (largest eigenvalue of the unit-diagonal scaling
above $-10^{{-10}}$):

{markdown_table(conc)}

The logit log-likelihood $\\sum_i y_i x_i'\\beta - \\log(1 + e^{{x_i'\\beta}})$ has Hessian
$-X' \\operatorname{{diag}}(\\mu_i(1-\\mu_i)) X$, negative definite wherever $X$ has full rank:
concave, so Newton's method from any start finds the one maximum. **The normal
log-likelihood is not negative definite at {conc["share"].iloc[1]:.1%} of the points in
$(\\mu, \\sigma)$ and at {conc["share"].iloc[2]:.1%} in $(\\mu, \\log\\sigma)$**, for the same
points: in $\\sigma$ it curves upwards once $\\sigma^2$ exceeds three times the mean squared
deviation from $\\mu$, while in $\\tau = \\log\\sigma$ its Hessian has determinant
$2 n^2 e^{{-4\\tau}} (\\hat s^2 - (\\bar y - \\mu)^2)$ and diagonal $-n e^{{-2\\tau}}$, negative
definite whenever $\\mu$ is within $\\hat s$ of $\\bar y$, whatever $\\sigma$. Definiteness
is a property of the coordinates as well as of the model.

## Second-order conditions on a likelihood with a saddle

A mixture of two unit-variance normals with equal weights and unknown means $\\mu_1, \\mu_2$,
on {len(r["y"])} draws with true means $\\mp 1.5$. Relabelling the components gives the same
likelihood, so the surface has two equal maxima mirrored in the diagonal $\\mu_1 = \\mu_2$,
and between them, on the diagonal, a point where the gradient vanishes too. Newton's method
for the *root* of the gradient (no ascent safeguard) from a 7 x 7 grid of starts finds every
stationary point, and the Hessian's eigenvalues classify them:

{markdown_table(points)}

**{kinds.get("maximum", 0)} maxima and {kinds.get("saddle", 0)} saddle**: the saddle sits at
$\\mu_1 = \\mu_2 = {saddle["mu1"]:.4f}$ (the sample mean is {r["y"].mean():.4f}) with
eigenvalues {saddle["eigenvalue 2"]:.2f}, for an eigenvector at an angle of cosine {saddle["across"]:.4f}
to the anti-diagonal (the log-likelihood rises across the diagonal, towards either
maximum), and {saddle["eigenvalue 1"]:.2f} along it. A gradient-based fit started exactly on the diagonal
stays there; `fk.fit` checks the eigenvalues at its stopping point and flags a saddle with a
`SaddlePointWarning`.

![Stationary points of the mixture log-likelihood]({figure.relative_to(out).as_posix()})
"""
    (out / "hessians.md").write_text(text)


def main(argv=None) -> None:
    out = output_dir(__doc__, argv)
    r = compute()
    write(r, out, draw(r, out))


if __name__ == "__main__":
    main()
