"""Optimizers that maximize a model's log-likelihood, each leaving a trace."""

from .options import Optimizer
from .optimizers import METHODS, FisherScoring, Gradient, NaturalGradient, Newton, resolve_optimizer
from .quasi_newton import BFGS, LBFGS
from .trace import OptimizeResult

__all__ = ["Optimizer", "Newton", "FisherScoring", "NaturalGradient", "Gradient", "BFGS",
           "LBFGS", "METHODS", "resolve_optimizer", "OptimizeResult"]
