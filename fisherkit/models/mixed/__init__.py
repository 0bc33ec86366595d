"""Mixed models: random effects by maximum likelihood (Laplace, adaptive quadrature)."""

from .build import mixed_model
from .model import BoundaryWarning, MixedModel
from .terms import RandomTerm, has_random_terms, split_random_terms

__all__ = ["mixed_model", "MixedModel", "BoundaryWarning", "RandomTerm", "has_random_terms",
           "split_random_terms"]
