"""The command line prints the summary the Python API computes, and lists the data sets."""

import io

import numpy as np
import pandas as pd
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


def test_fit_errors_are_one_line_and_exit_2(capsys):
    code = main(["fit", "--dataset", "spector", "--formula", "GRADE ~ GPA", "--family", "logitt"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: Unknown family 'logitt'") and err.count("\n") == 1
    assert main(["compare", "--dataset", "spector", "--formula", "GRADE ~ nope"]) == 2
    assert "error: The formula 'GRADE ~ nope' uses 'nope'" in capsys.readouterr().err


def test_fit_with_weights_prints_the_weighted_fit(tmp_path, capsys):
    df = fk.datasets.load("spector").assign(w=[1, 2, 3, 1] * 8)
    path = tmp_path / "spector.csv"
    df.to_csv(path, index=False)
    assert main(["fit", "--csv", str(path), "--formula", "GRADE ~ GPA", "--family", "logit",
                 "--weights", "w", "--weight-type", "probability"]) == 0
    out = capsys.readouterr().out
    res = fk.fit("GRADE ~ GPA", df, "logit", weights="w", weight_type="probability")
    assert "cov: robust" in out and f"n_obs: {res.n_obs}" in out
    assert f"{res.se['GPA']:.6g}" in out
    assert main(["fit", "--csv", str(path), "--formula", "GRADE ~ GPA", "--family", "logit",
                 "--weights", "w"]) == 2
    assert "weights= needs weight_type=" in capsys.readouterr().err


def test_predict_writes_the_predictions_of_the_python_api(capsys):
    df = fk.datasets.load("spector")
    assert main(["predict", "--dataset", "spector", "--formula", "GRADE ~ GPA + PSI",
                 "--family", "logit", "--alpha", "0.1"]) == 0
    written = pd.read_csv(io.StringIO(capsys.readouterr().out), index_col="row")
    expected = fk.fit("GRADE ~ GPA + PSI", data=df, family="logit").predict(alpha=0.1)
    assert list(written.columns) == ["estimate", "se", "ci_lower", "ci_upper"]
    # CSV keeps every digit of a float (shortest round-trip repr)
    np.testing.assert_array_equal(written.to_numpy(), expected.to_numpy())
    assert list(written.index) == list(df.index)


def test_predict_at_new_data_to_a_file(tmp_path, capsys):
    df = fk.datasets.load("spector")
    fitted, new, out = tmp_path / "fitted.csv", tmp_path / "new.csv", tmp_path / "out.csv"
    df.to_csv(fitted, index=False)
    rows = df.iloc[[3, 8, 20]].copy()
    rows.loc[rows.index[1], "GPA"] = np.nan
    rows.to_csv(new, index=False)
    assert main(["predict", "--csv", str(fitted), "--formula", "GRADE ~ GPA + PSI", "--family",
                 "logit", "--newdata", str(new), "--scale", "link", "--cov", "sandwich",
                 "--output", str(out)]) == 0
    assert capsys.readouterr().out == ""
    written = pd.read_csv(out, index_col="row")
    res = fk.fit("GRADE ~ GPA + PSI", data=df, family="logit", cov="sandwich")
    expected = res.predict(pd.read_csv(new), scale="link")
    np.testing.assert_array_equal(written.to_numpy(), expected.to_numpy())
    assert written.iloc[1].isna().all() and written.iloc[[0, 2]].notna().all().all()


@pytest.mark.parametrize("extra, message", [
    (["--formula", "GRADE ~ nope"], "error: The formula 'GRADE ~ nope' uses 'nope', which is not a column"),
    (["--formula", "GRADE ~ GPA", "--scale", "odds"], "error: The 'scale' option must be one of 'response'"),
    (["--formula", "GRADE ~ GPA", "--newdata", "/nonexistent/new.csv"],
     "error: Cannot read the --newdata file '/nonexistent/new.csv'"),
    (["--formula", "GRADE ~ GPA", "--alpha", "2"], "error: The 'alpha' must lie in (0, 1)"),
])
def test_predict_errors_are_one_line_and_exit_2(capsys, extra, message):
    assert main(["predict", "--dataset", "spector", "--family", "logit", *extra]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith(message)
    assert captured.err.count("\n") == 1


def test_predict_at_new_data_without_the_offset_column_is_an_error(tmp_path, capsys):
    df = fk.datasets.load("spector").assign(log_t=0.1)
    fitted, new = tmp_path / "fitted.csv", tmp_path / "new.csv"
    df.to_csv(fitted, index=False)
    df.drop(columns="log_t").head(2).to_csv(new, index=False)
    assert main(["predict", "--csv", str(fitted), "--formula", "GRADE ~ GPA", "--family",
                 "poisson", "--offset", "log_t", "--newdata", str(new)]) == 2
    assert capsys.readouterr().err == ("error: The new data need the offset column 'log_t' (of "
                                       "the predictor 'mu').\n")
