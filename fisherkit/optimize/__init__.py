"""Optimizers that maximize a model's log-likelihood, each leaving a trace."""

from .ascent import bfgs, fisher_scoring, gradient, lbfgs, natural_gradient
from .newton import OptimizeResult, newton

__all__ = ["OptimizeResult", "newton", "fisher_scoring", "natural_gradient", "gradient", "bfgs",
           "lbfgs"]
