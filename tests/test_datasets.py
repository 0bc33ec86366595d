"""datasets.py: the shipped data sets load, and each one is documented in datasets/README.md."""

import re
from pathlib import Path

import pandas as pd
import pytest

import fisherkit as fk

DATASETS_DIR = Path(__file__).resolve().parent.parent / "datasets"
README = DATASETS_DIR / "README.md"


def test_names_lists_the_core_data_sets():
    names = fk.datasets.names()
    assert {"spector", "randhie", "rossi"} <= set(names)
    assert names == sorted(names)
    assert len(names) == len(set(names))


@pytest.mark.parametrize("name", fk.datasets.names())
def test_every_data_set_loads_as_a_non_empty_frame(name):
    df = fk.datasets.load(name)
    assert isinstance(df, pd.DataFrame)
    assert df.shape[0] > 0 and df.shape[1] > 0
    assert "Unnamed: 0" not in df.columns  # no index column written into the CSV


def test_spector_has_the_documented_shape_and_columns():
    df = fk.datasets.load("spector")
    assert df.shape == (32, 4)
    assert set(df.columns) == {"GPA", "TUCE", "PSI", "GRADE"}


def test_load_returns_a_fresh_copy():
    first = fk.datasets.load("spector")
    first.loc[0, "GPA"] = -1.0
    assert fk.datasets.load("spector").loc[0, "GPA"] != -1.0


@pytest.mark.parametrize("name", ["spektor", "", "spector.csv", "SPECTOR"])
def test_unknown_name_raises_and_lists_the_choices(name):
    with pytest.raises(ValueError, match=rf"Unknown data set {re.escape(repr(name))}; "
                                         r"choose one of \[.*'spector'.*\]"):
        fk.datasets.load(name)


def test_installed_names_are_the_csv_files_in_the_source_tree():
    on_disk = sorted(p.stem for p in DATASETS_DIR.glob("*.csv"))
    assert fk.datasets.names() == on_disk


@pytest.mark.parametrize("name", sorted(p.stem for p in DATASETS_DIR.glob("*.csv")))
def test_every_csv_has_a_readme_section(name):
    sections = re.findall(r"^## (\S+)\s*$", README.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert name in sections, f"datasets/README.md has no '## {name}' section"
    assert f"`{name}.csv`" in README.read_text(encoding="utf-8"), (
        f"datasets/README.md's table does not list {name}.csv")


def test_ordinal_columns_load_in_their_own_order():
    apply = fk.datasets.load("ucla_apply")["apply"]
    assert apply.cat.ordered
    assert list(apply.cat.categories) == ["unlikely", "somewhat likely", "very likely"]
    # the counts of the UCLA data (statsmodels' ologit_ucla.csv): 220, 140, 40
    assert apply.value_counts(sort=False).tolist() == [220, 140, 40]
