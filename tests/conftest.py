"""Fixtures shared by several test modules (each module's own fixtures live in it)."""

import numpy as np
import pytest

import fisherkit as fk

SHIPS = "accident ~ yr_con + op_75_79"


@pytest.fixture(scope="session")
def nb2_ships():
    """NB2 on ships with exposure and ship clusters (its exact expected information takes
    a few seconds, and each FitResult caches it: one fit serves every module)."""
    ships = fk.datasets.load("ships")
    return fk.fit(SHIPS, data=ships, family="negbin", offset=np.log(ships["service"]),
                  cluster="ship")
