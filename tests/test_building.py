"""fisherkit.building: build_model, the one place that tells data in memory from data in Dask;
the model it builds against statsmodels' log-likelihood, and the same model from every way of
naming the family."""

import numpy as np
import pytest
import statsmodels.api as sm

import fisherkit as fk
from fisherkit.building import build_model
from fisherkit.models.builtins import make_family
from fisherkit.models.index_model import Model

FORMULA = "GRADE ~ GPA + TUCE + PSI"
THETA = np.array([-10.0, 2.5, 0.1, 2.0])


@pytest.fixture(scope="module")
def spector():
    return fk.datasets.load("spector")


def test_the_model_is_statsmodels_log_likelihood(spector):
    # away from the optimum, so that the comparison is of the function and not of an estimate
    model = build_model(FORMULA, spector, "logit")
    assert isinstance(model, Model)
    assert model.names == ("Intercept", "GPA", "TUCE", "PSI") and model.n_obs == 32
    X = sm.add_constant(spector[["GPA", "TUCE", "PSI"]], prepend=True)
    reference = sm.Logit(spector["GRADE"], X)
    assert model.loglik(THETA) == pytest.approx(reference.loglike(THETA), rel=1e-13)
    np.testing.assert_allclose(model.score(THETA), reference.score(THETA), rtol=1e-11)


def test_a_family_object_and_its_name_give_the_same_model(spector):
    by_name = build_model(FORMULA, spector, "probit")
    by_object = build_model(FORMULA, spector, make_family("probit"))
    assert by_name.names == by_object.names
    assert by_name.loglik(THETA / 2) == by_object.loglik(THETA / 2)
    trials = np.full(len(spector), 1.0)
    named_link = build_model(FORMULA, spector, "binomial", link="cloglog", trials=trials)
    object_link = build_model(FORMULA, spector, make_family("binomial", "cloglog"), trials=trials)
    assert named_link.family.link.name == object_link.family.link.name == "cloglog"
    assert named_link.loglik(THETA / 4) == object_link.loglik(THETA / 4)


def test_data_in_memory_and_in_dask_give_models_with_the_same_names(spector):
    dd = pytest.importorskip("dask.dataframe")
    # a string column: its levels are learned from the whole data set before the fit
    data = spector.assign(band=np.where(spector["TUCE"] < 20, "low",
                                        np.where(spector["TUCE"] < 25, "mid", "high")))
    formula = "GRADE ~ GPA + band + PSI"
    memory = build_model(formula, data, "logit")
    on_dask = build_model(formula, dd.from_pandas(data, npartitions=3), "logit")
    assert not isinstance(on_dask, Model)
    assert memory.names == ("Intercept", "GPA", "band[T.low]", "band[T.mid]", "PSI")
    assert on_dask.names == memory.names and on_dask.working_names == memory.working_names
    assert on_dask.n_obs == memory.n_obs
    theta = np.array([-8.0, 2.5, 0.3, -0.2, 2.0])
    assert on_dask.loglik(theta) == pytest.approx(memory.loglik(theta), rel=1e-13)


def test_a_link_beside_a_family_object_is_refused(spector):
    custom = fk.Family(lambda y, mu: -0.5 * (y - mu) ** 2, mu=fk.Predictor())
    for family in (custom, make_family("binomial")):
        with pytest.raises(fk.SpecificationError,
                           match="Give the link inside a custom Family's fk.Predictor, not as link="):
            build_model(FORMULA, spector, family, link="probit")


def test_a_family_that_is_neither_a_name_nor_a_family_is_refused(spector):
    with pytest.raises(fk.SpecificationError,
                       match=r"The 'family' must be a name or a fk.Family; got \['logit'\]"):
        build_model(FORMULA, spector, ["logit"])


def test_dask_options_are_refused_for_data_in_memory(spector):
    with pytest.raises(fk.SpecificationError, match=r"\['client'\] are for data in Dask"):
        build_model("GRADE ~ GPA", spector, "logit", client="tcp://nowhere:8786")
