"""Models: parameters, links, families, designs from formulas, the index model and ``Likelihood``."""

from .family import Family
from .index_model import Model
from .likelihood import Likelihood
from .parameters import Array, CutPoints, Predictor, Scalar

__all__ = ["Family", "Model", "Array", "Likelihood", "CutPoints", "Predictor", "Scalar"]
