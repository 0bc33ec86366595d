"""Numerical building blocks: stable primitives, autograd operators, blocked weighted products."""

from .derivatives import classify_stationary_point, eta_derivatives, gradient, hessian, jacobian
from .linalg import gram_and_product, weighted_cross

__all__ = ["classify_stationary_point", "eta_derivatives", "gradient", "hessian", "jacobian",
           "gram_and_product", "weighted_cross"]
