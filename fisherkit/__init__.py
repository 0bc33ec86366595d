"""fisherkit: likelihood models on DataFrames with exact Fisher information from autograd."""

from . import datasets, derivatives, families
from . import plotting
from .change_of_variables import Transform, transformed_logpdf
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
from .family import Family
from .fitting import fit
from .flows import Flow
from .general import Array, Likelihood, fit_likelihood
from .inference import NestingWarning, lr_test, score_test, wald_test
from .parameters import CutPoints, Predictor, Scalar
from .results import FitResult
from .profile import OpenIntervalWarning
from .reparam import DeltaMethodWarning, Reparameterized

__version__ = "0.1.0"

__all__ = [
    "fit",
    "fit_likelihood",
    "Likelihood",
    "Array",
    "compare",
    "wald_test",
    "lr_test",
    "score_test",
    "plotting",
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
