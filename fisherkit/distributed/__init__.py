"""Models whose rows live in Dask partitions: every sum over rows as a map and a reduction."""

from .model import DaskComputationError, DistributedModel, NotInMemoryError, distributed_model

__all__ = ["DaskComputationError", "DistributedModel", "NotInMemoryError", "distributed_model"]
