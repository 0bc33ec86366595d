"""The command line prints the summary the Python API computes, and lists the data sets."""

import pytest
import statsmodels.api as sm

import fisherkit as fk
from fisherkit.cli import main


def test_fit_prints_the_summary(capsys):
    assert main(["fit", "--dataset", "spector", "--formula", "GRADE ~ GPA + TUCE + PSI",
                 "--family", "logit"]) == 0
    out = capsys.readouterr().out
    res = fk.fit("GRADE ~ GPA + TUCE + PSI", data=fk.datasets.load("spector"), family="logit")
    # Stata: logit grade gpa tuce psi prints 2.826113 (1.262941) for GPA; the CLI shows 6
    # significant digits of the same numbers
    assert "2.82611" in out and "1.26294" in out
    assert f"{res.loglik:.6f}" in out
    assert "converged: True" in out


def test_fit_from_csv_with_cov_option(tmp_path, capsys):
    path = tmp_path / "spector.csv"
    fk.datasets.load("spector").to_csv(path, index=False)
    assert main(["fit", "--csv", str(path), "--formula", "GRADE ~ GPA", "--family", "logit",
                 "--cov", "sandwich"]) == 0
    out = capsys.readouterr().out
    df = fk.datasets.load("spector")
    res = fk.fit("GRADE ~ GPA", data=df, family="logit", cov="sandwich")
    assert f"{res.se['GPA']:.6g}" in out and "cov: sandwich" in out
    # the sandwich printed is statsmodels' HC0 (no small-sample factor) on the same data
    ref = sm.Logit(df["GRADE"], sm.add_constant(df[["GPA"]])).fit(
        method="newton", tol=1e-12, disp=0, cov_type="HC0")
    assert res.se["GPA"] == pytest.approx(ref.bse["GPA"], rel=1e-8)


def test_datasets_lists_every_name(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for name in fk.datasets.names():
        assert name in out


def test_unknown_family_is_an_error():
    with pytest.raises(fk.SpecificationError, match="Unknown family 'logitt'"):
        main(["fit", "--dataset", "spector", "--formula", "GRADE ~ GPA", "--family", "logitt"])
