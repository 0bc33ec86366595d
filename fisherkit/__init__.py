"""fisherkit: likelihood models on DataFrames with exact Fisher information from autograd."""

from . import datasets, optimize, plotting
from .autodiff import derivatives
from .compare import compare
from .exceptions import (
    BoundaryWarning,
    ConvergenceWarning,
    DataError,
    FisherkitWarning,
    SaddlePointWarning,
    SeparationWarning,
    SingularInformationWarning,
    SpecificationError,
)
from .fitting import fit, fit_likelihood, fit_model
from .flows import Flow
from .inference.hypothesis_tests import NestingWarning, lr_test, score_test, wald_test
from .inference.profile import OpenIntervalWarning
from .inference.reparam import DeltaMethodWarning, Reparameterized
from .models import builtins as families
from .models.change_of_variables import Transform, transformed_logpdf
from .models.family import Family
from .models.likelihood import Likelihood
from .models.parameters import Array, CutPoints, Predictor, Scalar
from .results import FitResult
from .tables import side_by_side

__version__ = "0.1.0"

__all__ = [
    "fit",
    "fit_likelihood",
    "fit_model",
    "Likelihood",
    "Array",
    "compare",
    "side_by_side",
    "wald_test",
    "lr_test",
    "score_test",
    "plotting",
    "optimize",
    "Transform",
    "Flow",
    "transformed_logpdf",
    "Family",
    "Predictor",
    "Scalar",
    "CutPoints",
    "FitResult",
    "Reparameterized",
    "DeltaMethodWarning",
    "NestingWarning",
    "OpenIntervalWarning",
    "datasets",
    "derivatives",
    "families",
    "FisherkitWarning",
    "ConvergenceWarning",
    "SingularInformationWarning",
    "SeparationWarning",
    "SaddlePointWarning",
    "BoundaryWarning",
    "DataError",
    "SpecificationError",
    "__version__",
]
