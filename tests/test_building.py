"""fisherkit.building: build_model, the one place that tells data in memory from data in Dask."""

import pytest

import fisherkit as fk
from fisherkit.building import build_model


@pytest.fixture(scope="module")
def spector():
    return fk.datasets.load("spector")


def test_dask_options_are_refused_for_data_in_memory(spector):
    with pytest.raises(fk.SpecificationError, match=r"\['client'\] are for data in Dask"):
        build_model("GRADE ~ GPA", spector, "logit", client="tcp://nowhere:8786")
