"""Inference after a fit: covariances, tests, the delta method, profiles, marginal effects, diagnostics."""

from .covariance import describe_direction, invert_information
from .hypothesis_tests import NestingWarning, lr_test, score_test, wald_test

__all__ = ["describe_direction", "invert_information", "NestingWarning", "lr_test", "score_test",
           "wald_test"]
