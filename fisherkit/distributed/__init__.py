"""Models whose rows live in Dask partitions: every sum over rows as a map and a reduction."""

from .build import distributed_model
from .model import DaskComputationError, DistributedModel, NotInMemoryError

__all__ = ["DaskComputationError", "DistributedModel", "NotInMemoryError", "distributed_model"]
