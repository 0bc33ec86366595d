"""fisherkit: likelihood models on DataFrames with exact Fisher information from autograd."""

from . import datasets

from .autodiff import derivatives

from .models import builtins as families
from . import optimize, plotting
from .models.change_of_variables import Transform, transformed_logpdf
from .compare import compare
from .exceptions import (
    ConvergenceWarning,
    DataError,
    FisherkitWarning,
    SaddlePointWarning,
    SeparationWarning,
    SingularInformationWarning,
    SpecificationError,
)
from .models.family import Family
from .fitting import fit, fit_likelihood, fit_model
from .flows import Flow
from .models.likelihood import Likelihood
from .inference.hypothesis_tests import NestingWarning, lr_test, score_test, wald_test
from .models.parameters import Array, CutPoints, Predictor, Scalar
from .results import FitResult
from .inference.profile import OpenIntervalWarning
from .inference.reparam import DeltaMethodWarning, Reparameterized

__version__ = "0.1.0"

__all__ = [
    "fit",
    "fit_likelihood",
    "fit_model",
    "Likelihood",
    "Array",
    "compare",
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
    "DataError",
    "SpecificationError",
    "__version__",
]
