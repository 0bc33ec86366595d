"""Published reference values (Stata, R, NIST) for fisherkit's tests.

Plain Python data; this module does not import fisherkit. Every number was copied from the
test-result files that statsmodels 0.15.0 ships (paths below are relative to site-packages), or
from the original publication where noted, and was re-checked against a float64 statsmodels fit on
the CSV files in datasets/ (see the report that came with this file).

Each entry is a dict with
    model, dataset, formula, nobs   what was fitted, on which CSV of datasets/
    family, link                    the matching fisherkit family name and link
    names                           parameter names as fisherkit will name them: "Intercept" first,
                                    then the formula terms in order (ordinal models: the slopes,
                                    then the cut points "lower|upper", no intercept)
    params, se                      estimates and standard errors, in the order of `names`
    loglik                          maximised log-likelihood, when the source gives it
    source                          statsmodels file + original command (Stata / R / NIST)
    convention                      which information matrix the SEs use and any scaling
    suggested_rtol                  tolerances that the published digits support (from the
                                    agreement found against statsmodels, with a margin)
plus model-specific keys (alpha, lnalpha, cut-point levels, offset, cluster, ...).

ORDER: statsmodels' result files put the constant LAST (its tests use add_constant(prepend=False));
every entry here has been reordered so that "Intercept" comes FIRST.

Data notes: randhie's physical-limitation column is `physlm` (statsmodels / Cameron & Trivedi
spelling). ships.csv has 6 rows with missing service/accident that Stata dropped (N = 34).
"""


# a. Logit on the Spector & Mazzeo data (Stata 11 `logit`).
# Reordered: statsmodels lists [GPA, TUCE, PSI, const]; here Intercept is first.
LOGIT_SPECTOR = {
    "model": "logit",
    "family": "logit",
    "link": "logit",
    "dataset": "spector.csv",
    "formula": "GRADE ~ GPA + TUCE + PSI",
    "nobs": 32,
    "names": ["Intercept", "GPA", "TUCE", "PSI"],
    "params": [-13.0213483201, 2.82611297201, 0.0951576702557, 2.37868772835],
    "se": [4.93132462871, 1.26294114526, 0.141554207662, 1.06456430165],
    "loglik": -12.8896334653335,
    "loglik_null": -20.5917296966173,
    "source": (
        "statsmodels/discrete/tests/results/results_discrete.py (class Spector, logit; "
        "docstring: 'Results are from Stata 11'); original command: Stata 11: logit "
        "grade gpa tuce psi"
    ),
    "convention": (
        "OIM (observed information = expected information for the canonical logit link); "
        "no scaling."
    ),
    "notes": (
        "Stata ran on data stored as float32 (Stata's default storage type): a float64 "
        "fit on the CSV differs by ~1.3e-7 relative in params, ~1e-7 in SEs and ~6e-8 in "
        "loglik, while a fit on the data rounded to float32 "
        "(df.astype('float32').astype('float64')) reproduces Stata's loglik to 2e-15. "
        "Hence stata_data_float32=True."
    ),
    "stata_data_float32": True,
    "suggested_rtol": {
        "params": 1e-06,
        "se": 1e-06,
        "loglik": 1e-07,
    },
}


# b. Probit on the Spector & Mazzeo data (Stata 11 `probit`).
# Reordered: statsmodels lists [GPA, TUCE, PSI, const]; here Intercept is first.
PROBIT_SPECTOR = {
    "model": "probit",
    "family": "probit",
    "link": "probit",
    "dataset": "spector.csv",
    "formula": "GRADE ~ GPA + TUCE + PSI",
    "nobs": 32,
    "names": ["Intercept", "GPA", "TUCE", "PSI"],
    "params": [-7.45232041607, 1.62581025407, 0.051728948442, 1.42633236818],
    "se": [2.54247249731, 0.693882522754, 0.083890261293, 0.595037920474],
    "loglik": -12.8188033249334,
    "loglik_null": -20.5917296966173,
    "source": (
        "statsmodels/discrete/tests/results/results_discrete.py (class Spector, probit; "
        "Stata 11); original command: Stata 11: probit grade gpa tuce psi"
    ),
    "convention": (
        "OIM: observed information (negative Hessian of the loglik at the MLE). Probit "
        "is not canonical, so expected-information SEs differ from these in the 3rd-4th "
        "digit."
    ),
    "notes": (
        "As for the logit: Stata used float32-stored data; float64 fit agrees to ~1.3e-7 "
        "(params), ~7e-8 (SEs), ~6e-8 (loglik); on float32-rounded data the loglik "
        "agrees to 4e-16."
    ),
    "stata_data_float32": True,
    "suggested_rtol": {
        "params": 1e-06,
        "se": 1e-06,
        "loglik": 1e-07,
    },
}


# c. Poisson on the RAND HIE data (Stata 11 `poisson`).
# Reordered: statsmodels lists the 9 regressors then const; here Intercept is first.
# Column name is `physlm` (as in statsmodels and Cameron & Trivedi), not `physlim`.
POISSON_RANDHIE = {
    "model": "poisson",
    "family": "poisson",
    "link": "log",
    "dataset": "randhie.csv",
    "formula": "mdvis ~ lncoins + idp + lpi + fmde + physlm + disea + hlthg + hlthf + hlthp",
    "nobs": 20190,
    "names": [
        "Intercept", "lncoins", "idp", "lpi", "fmde", "physlm", "disea", "hlthg", "hlthf", "hlthp",
    ],
    "params": [
        0.700352877227, -0.052535114675, -0.247086797633, 0.035290201794, -0.03457750643,
        0.271713973711, 0.033941474461, -0.012635035534, 0.054056326828, 0.206115121809,
    ],
    "se": [
        0.01116266712362, 0.00288398915279, 0.01061725196728, 0.00182833684966, 0.00161284852954,
        0.01223913844387, 0.00056476496963, 0.00925061122826, 0.01530987068312, 0.02627928267502,
    ],
    "loglik": -62419.588535018,
    "loglik_null": -66647.181687959,
    "source": (
        "statsmodels/discrete/tests/results/results_discrete.py (class RandHIE, poisson; "
        "'Results obtained from Stata 11'); original command: Stata 11: poisson mdvis "
        "lncoins idp lpi fmde physlm disea hlthg hlthf hlthp"
    ),
    "convention": "OIM (= expected information for the canonical log link); no scaling.",
    "notes": (
        "Stata used float32-stored data: a float64 fit's loglik differs by 3e-5 absolute "
        "(4.7e-10 relative); on float32-rounded data it agrees to 2e-15."
    ),
    "stata_data_float32": True,
    "suggested_rtol": {
        "params": 1e-07,
        "se": 1e-07,
        "loglik": 1e-09,
    },
}


# d. NB2 (Var = mu + alpha*mu^2) on the RAND HIE data: Stata 11 `nbreg` and R `MASS::glm.nb`.
# Reordered: statsmodels lists the 9 regressors then const; here Intercept is first.
# `se` are Stata's OIM SEs, recovered from Stata's printed 95% CIs as (ul - ll) / (2 * 1.959964):
# the CI bounds have 7 significant digits, so these SEs are good to about 1e-5 relative.
# `se_expected_R` are R glm.nb's SEs (IRLS expected information for beta, alpha treated as known).
NB2_RANDHIE = {
    "model": "negbin2",
    "family": "negbin",
    "link": "log",
    "dataset": "randhie.csv",
    "formula": "mdvis ~ lncoins + idp + lpi + fmde + physlm + disea + hlthg + hlthf + hlthp",
    "nobs": 20190,
    "names": [
        "Intercept", "lncoins", "idp", "lpi", "fmde", "physlm", "disea", "hlthg", "hlthf", "hlthp",
    ],
    "params": [
        0.663556087183864, -0.0579469537244314, -0.267787718814838, 0.0412060770911646,
        -0.0381376804392121, 0.268915772213171, 0.0381637446219235, -0.0441338846217674,
        0.0172521803400544, 0.177960787443151,
    ],
    "se": [
        0.0247711695, 0.0060897292, 0.0226930956, 0.0041469895, 0.0033995012, 0.0299450145,
        0.0014632157, 0.0200522817, 0.0361450264, 0.0742612115,
    ],
    "se_expected_R": [
        0.0250354082637892, 0.00607085853920512, 0.0226125368090765, 0.00405542008282773,
        0.00344455937127785, 0.0298855063286547, 0.00142421904710063, 0.0199374393307107,
        0.0358416931939136, 0.0741013728607101,
    ],
    "alpha": 1.292953339909746,
    "alpha_se": 0.0186098,
    "lnalpha": 0.256929012449,
    "lnalpha_se": 0.0143932,
    "loglik": -43383.66207653563,
    "loglik_null": -44199.2744356343,
    "source": (
        "statsmodels/discrete/tests/results/results_discrete.py "
        "(RandHIE.negativebinomial_nb2_bfgs). Coefficients and se_expected_R: R 2.15.1 "
        "MASS 7.3-22 glm.nb(mdvis ~ lncoins + idp + lpi + fmde + physlm + disea + hlthg "
        "+ hlthf + hlthp). alpha, alpha_se, lnalpha, lnalpha_se, loglik, loglik_null and "
        "the CIs behind `se`: Stata 11: nbreg mdvis lncoins idp lpi fmde physlm disea "
        "hlthg hlthf hlthp (default dispersion(mean) = NB2)."
    ),
    "convention": (
        "se: OIM, observed information of the joint (beta, ln alpha) likelihood (Stata "
        "nbreg). NB2's log link is not canonical for the NB family, so observed and "
        "expected information differ by up to 2.7% here (disea: expected-information SE "
        "2.7% smaller; Intercept: 1.1% larger). Stata estimates ln(alpha): lnalpha_se is "
        "the OIM SE of ln(alpha); alpha_se is the delta-method SE alpha * lnalpha_se (= "
        "1.29295 * 0.0143932 = 0.0186098)."
    ),
    "notes": (
        "The params are R glm.nb's (alternating ML for theta = 1/alpha and IRLS for "
        "beta); they agree with the midpoints of Stata's CIs to all 7 printed digits. "
        "The statsmodels file says 'lnalpha from stata' beside alpha = 1.29295; the "
        "value is alpha = exp(lnalpha = 0.256929). The loglik equals a float64 fit to "
        "all 16 digits, so unlike the logit/probit/poisson Stata runs it was not "
        "computed on float32-rounded data."
    ),
    "suggested_rtol": {
        "params": 1e-06,
        "se": 5e-05,
        "alpha": 1e-06,
        "alpha_se": 5e-05,
        "lnalpha_se": 5e-05,
        "loglik": 1e-10,
    },
}


# e. NIST StRD Longley certified values (OLS; 15 significant digits).
# Reordered: statsmodels lists [GNPDEFL, GNP, UNEMP, ARMED, POP, YEAR, const];
# NIST lists B0 (the intercept) first, and so does this dict.
OLS_LONGLEY_NIST = {
    "model": "ols",
    "family": "normal",
    "link": "identity",
    "dataset": "longley.csv",
    "formula": "TOTEMP ~ GNPDEFL + GNP + UNEMP + ARMED + POP + YEAR",
    "nobs": 16,
    "df_resid": 9,
    "names": ["Intercept", "GNPDEFL", "GNP", "UNEMP", "ARMED", "POP", "YEAR"],
    "params": [
        -3482258.63459582, 15.0618722713733, -0.035819179292591, -2.02022980381683,
        -1.03322686717359, -0.0511041056535807, 1829.15146461355,
    ],
    "se": [
        890420.383607373, 84.9149257747669, 0.0334910077722432, 0.488399681651699,
        0.214274163161675, 0.22607320006937, 455.478499142212,
    ],
    "resid_sd": 304.854073561965,
    "rsquared": 0.995479004577296,
    "ssr": 836424.055505915,
    "ess": 184172401.944494,
    "fvalue": 330.285339234588,
    "loglik": -109.6174,
    "source": (
        "NIST StRD, Linear Least Squares, 'Longley' certified values "
        "(https://www.itl.nist.gov/div898/strd/lls/data/Longley.shtml), as quoted in "
        "statsmodels/regression/tests/results/results_regression.py (class Longley; "
        "digits checked identical). Original: Longley (1967), JASA 62, 819-841. loglik "
        "is not NIST: it is the 7-digit value in the same statsmodels class (Stata/R)."
    ),
    "convention": (
        "OLS: se = sqrt(diag(s^2 (X'X)^-1)) with s^2 = SSR/(n-k) = 836424.055505915/9 = "
        "92936.0061673238; resid_sd = s. The loglik (-109.6174) is the Gaussian ML "
        "value, which uses sigma^2 = SSR/n, so ML 'standard errors' would be smaller by "
        "sqrt((n-k)/n) = sqrt(9/16) = 0.75."
    ),
    "notes": (
        "Ill-conditioned: cond(X) = 4.9e9 for the unscaled design with intercept. "
        "statsmodels' pinv-based OLS reproduces the certified params to 1.2e-11 and SEs "
        "to 3e-13; solving the unscaled normal equations in float64 gave the params only "
        "to 4e-8."
    ),
    "suggested_rtol": {
        "params": 1e-09,
        "se": 1e-09,
        "resid_sd": 1e-10,
        "loglik": 1e-06,
    },
}


# f. Ordinal (proportional-odds) logit on the UCLA data, R MASS::polr.
# No intercept: P(apply <= j) = logistic(zeta_j - x'beta);
# cut points are the natural zeta_j, not increments.
# Outcome order: unlikely < somewhat likely < very likely.
ORDINAL_UCLA_POLR = {
    "model": "ordinal_logit",
    "family": "ordinal",
    "link": "logit",
    "dataset": "ucla_apply.csv",
    "formula": "apply ~ pared + public + gpa",
    "nobs": 400,
    "levels": ["unlikely", "somewhat likely", "very likely"],
    "names": ["pared", "public", "gpa", "unlikely|somewhat likely", "somewhat likely|very likely"],
    "params": [1.04769011, -0.05878572, 0.61594057, 2.203915, 4.299363],
    "se": [0.2657894, 0.2978614, 0.260634, 0.7795455, 0.8043267],
    "se_4digit_statsmodels": [0.2658, 0.2979, 0.2606],
    "loglik": -358.51245,
    "source": (
        "statsmodels/miscmodels/tests/results/results_ordinal_model.py (res_ord_logit: "
        "coefficients 8 digits, thresholds 7 digits, coefficient SEs 4 digits); original "
        "command: R 3.4.4, MASS::polr(apply ~ pared + public + gpa, data = ologit_ucla, "
        "method = 'logit', Hess = TRUE). The 7-digit SEs (incl. the cut points) and "
        "'Residual Deviance: 717.0249' (loglik = -deviance/2) are the UCLA IDRE 'Ordinal "
        "logistic regression | R data analysis examples' output of the same polr call "
        "(coef(summary(m))), not in the statsmodels file."
    ),
    "convention": (
        "polr with Hess=TRUE: SEs from optim's finite-difference Hessian of the negative "
        "loglik (observed information, numerical)."
    ),
    "notes": (
        "polr stops optim early: against the exact MLE its params are off by up to "
        "1.8e-3 relative (public, a small coefficient: 1e-4 absolute), 3.2e-4 (gpa), "
        "2.7e-4 (cut points), and its SEs by up to 1.5e-5 (8.7e-6 for public). For tight "
        "checks use ORDINAL_UCLA_OLOGIT."
    ),
    "suggested_rtol": {
        "params": 0.003,
        "se": 5e-05,
        "loglik": 1e-07,
    },
}


# f'. Same model, Stata `ologit` (UCLA IDRE Stata example; printed with the `or` option).
# Coefficients are ln(odds ratio) and their SEs se(OR)/OR (Stata's OR SEs are exactly OR*se(b));
# both derived from 7 printed significant digits. Cut points are printed directly.
ORDINAL_UCLA_OLOGIT = {
    "model": "ordinal_logit",
    "family": "ordinal",
    "link": "logit",
    "dataset": "ucla_apply.csv",
    "formula": "apply ~ pared + public + gpa",
    "nobs": 400,
    "levels": ["unlikely", "somewhat likely", "very likely"],
    "names": ["pared", "public", "gpa", "unlikely|somewhat likely", "somewhat likely|very likely"],
    "params": [1.047663496, -0.05868274, 0.615746023, 2.203323, 4.298767],
    "se": [0.265789156, 0.297858794, 0.260631041, 0.7795353, 0.8043147],
    "odds_ratio": [2.850982, 0.9430059, 1.851037],
    "odds_ratio_se": [0.7577601, 0.2808826, 0.4824377],
    "loglik": -358.51244,
    "source": (
        "Stata: ologit apply pared public gpa, or nolog (UCLA IDRE 'Ordered logistic "
        "regression | Stata data analysis examples', data "
        "https://stats.idre.ucla.edu/stat/data/ologit.dta, the same 400 rows as "
        "statsmodels' ologit_ucla.csv). Not in statsmodels; output as quoted in a public "
        "course do-file. Checked: the exact MLE with an exact (autograd) Hessian "
        "reproduces every printed digit (statsmodels' OrderedModel, which uses a "
        "finite-difference Hessian, agrees only to 3e-6 in SEs)."
    ),
    "convention": (
        "OIM (observed information); Stata parametrises P(y <= j) = F(cut_j - x'b), same "
        "as polr."
    ),
    "notes": "Printed to 7 significant digits (loglik to 5 decimals).",
    "suggested_rtol": {
        "params": 1e-06,
        "se": 1e-06,
        "loglik": 1e-07,
    },
}


# g. Robust (sandwich) SEs for the spector logit: Stata `glm ..., family(binomial) vce(robust)`.
# Reordered: Stata lists [gpa, tuce, psi, _cons]; here Intercept is first.
LOGIT_SPECTOR_ROBUST = {
    "model": "logit",
    "family": "logit",
    "link": "logit",
    "dataset": "spector.csv",
    "formula": "GRADE ~ GPA + TUCE + PSI",
    "nobs": 32,
    "names": ["Intercept", "GPA", "TUCE", "PSI"],
    "params": [-13.021345912635, 2.8261124216999, 0.09515765001172, 2.3786875040587],
    "se": [5.2807513766642, 1.287827879216, 0.1198091371814, 0.97985082470462],
    "se_oim": [4.931323890811, 1.2629410221647, 0.141554201358, 1.0645642078703],
    "loglik": -12.88963422213144,
    "source": (
        "statsmodels/discrete/tests/results/results_glm_logit_constrained.py "
        "(results_noconstraint_robust; se_oim from results_noconstraint); original "
        "command: Stata: glm grade gpa tuce psi, family(binomial) vce(robust)"
    ),
    "convention": (
        "robust: V = c * H^-1 (sum_i s_i s_i') H^-1 with H the observed-information "
        "(OIM) Hessian, s_i the per-observation scores, and c = n/(n-1) = 32/31 (Stata's "
        "ML robust factor). So se = sqrt(32/31) * HC0. statsmodels reproduces it with "
        "cov_type='HC0', cov_kwds={'scaling_factor': 32/31}."
    ),
    "notes": (
        "Same MLE as LOGIT_SPECTOR but a different Stata run: here the loglik matches a "
        "float64 fit to 2e-15 (so this run used double-precision data), and params agree "
        "to ~1.2e-7 (Stata's convergence tolerance)."
    ),
    "suggested_rtol": {
        "params": 1e-06,
        "se": 1e-06,
        "loglik": 1e-10,
    },
}


# g. Poisson on ships, Stata vce(robust).
# Reordered: Stata lists [yr_con, op_75_79, _cons]; here Intercept is first.
POISSON_SHIPS_ROBUST = {
    "model": "poisson",
    "family": "poisson",
    "link": "log",
    "dataset": "ships.csv",
    "formula": "accident ~ yr_con + op_75_79",
    "offset": None,
    "nobs": 34,
    "names": ["Intercept", "yr_con", "op_75_79"],
    "params": [2.2697077143215, -0.02172061893549, 0.22148585072024],
    "se": [0.66532523368388, 0.19233713248134, 0.55301404772037],
    "loglik": -354.2436413025559,
    "source": (
        "statsmodels/discrete/tests/results/results_count_robust_cluster.py "
        "(results_poisson_hc1); original command: Stata: poisson accident yr_con "
        "op_75_79, vce(robust)"
    ),
    "convention": (
        "Stata vce(robust) for ML: se = sqrt(n/(n-1)) * HC0 sandwich (n = 34), HC0 = "
        "H^-1 (sum_i s_i s_i') H^-1 with H the observed Hessian."
    ),
    "notes": (
        "ships.csv has 40 rows; Stata used the 34 with service/accident present (drop "
        "the 6 rows with missing values first). yr_con (1..4) and op_75_79 enter as "
        "numeric regressors."
    ),
    "suggested_rtol": {
        "params": 1e-06,
        "se": 1e-06,
        "loglik": 1e-10,
    },
}


# g. Poisson on ships, Stata vce(cluster ship).
# Reordered: Stata lists [yr_con, op_75_79, _cons]; here Intercept is first.
POISSON_SHIPS_CLUSTER = {
    "model": "poisson",
    "family": "poisson",
    "link": "log",
    "dataset": "ships.csv",
    "formula": "accident ~ yr_con + op_75_79",
    "offset": None,
    "nobs": 34,
    "cluster": "ship",
    "n_clusters": 5,
    "names": ["Intercept", "yr_con", "op_75_79"],
    "params": [2.2697077143215, -0.02172061893549, 0.22148585072024],
    "se": [1.1048569901548, 0.19933709357097, 0.11093628220713],
    "loglik": -354.2436413025559,
    "source": (
        "statsmodels/discrete/tests/results/results_count_robust_cluster.py "
        "(results_poisson_clu); original command: Stata: poisson accident yr_con "
        "op_75_79, vce(cluster ship)"
    ),
    "convention": (
        "Stata vce(cluster ship) for ML: V = G/(G-1) * H^-1 (sum_g S_g S_g') H^-1 with "
        "S_g the score summed within ship, G = 5 clusters; NO (N-1)/(N-K) factor. "
        "(statsmodels' default cluster correction also multiplies by (N-1)/(N-K) = "
        "33/31, so divide its SEs by sqrt(33/31) to compare; for nbreg K includes "
        "lnalpha, K = 4.)"
    ),
    "notes": (
        "ships.csv has 40 rows; Stata used the 34 with service/accident present (drop "
        "the 6 rows with missing values first). yr_con (1..4) and op_75_79 enter as "
        "numeric regressors."
    ),
    "suggested_rtol": {
        "params": 1e-06,
        "se": 1e-06,
        "loglik": 1e-10,
    },
}


# g. Poisson on ships with exposure(service) (offset log(service)), default OIM SEs.
# Reordered: Stata lists [yr_con, op_75_79, _cons]; here Intercept is first.
POISSON_SHIPS_EXPOSURE = {
    "model": "poisson",
    "family": "poisson",
    "link": "log",
    "dataset": "ships.csv",
    "formula": "accident ~ yr_con + op_75_79",
    "offset": "log(service)",
    "nobs": 34,
    "names": ["Intercept", "yr_con", "op_75_79"],
    "params": [-6.974712802772, 0.30633819450439, 0.35592229608495],
    "se": [0.13252425018256, 0.05790831365493, 0.12151759298719],
    "loglik": -91.28727940081573,
    "source": (
        "statsmodels/discrete/tests/results/results_count_robust_cluster.py "
        "(results_poisson_exposure_nonrobust); original command: Stata: poisson accident "
        "yr_con op_75_79, exposure(service)"
    ),
    "convention": "OIM (observed information); no scaling.",
    "notes": (
        "ships.csv has 40 rows; Stata used the 34 with service/accident present (drop "
        "the 6 rows with missing values first). yr_con (1..4) and op_75_79 enter as "
        "numeric regressors."
    ),
    "suggested_rtol": {
        "params": 1e-06,
        "se": 1e-06,
        "loglik": 1e-10,
    },
}


# g. Poisson on ships with exposure(service), vce(robust).
# Reordered: Stata lists [yr_con, op_75_79, _cons]; here Intercept is first.
POISSON_SHIPS_EXPOSURE_ROBUST = {
    "model": "poisson",
    "family": "poisson",
    "link": "log",
    "dataset": "ships.csv",
    "formula": "accident ~ yr_con + op_75_79",
    "offset": "log(service)",
    "nobs": 34,
    "names": ["Intercept", "yr_con", "op_75_79"],
    "params": [-6.974712802772, 0.30633819450439, 0.35592229608495],
    "se": [0.2558675415017, 0.09144457613957, 0.16103531267836],
    "loglik": -91.28727940081573,
    "source": (
        "statsmodels/discrete/tests/results/results_count_robust_cluster.py "
        "(results_poisson_exposure_hc1); original command: Stata: poisson accident "
        "yr_con op_75_79, exposure(service) vce(robust)"
    ),
    "convention": (
        "Stata vce(robust) for ML: se = sqrt(n/(n-1)) * HC0 sandwich (n = 34), HC0 = "
        "H^-1 (sum_i s_i s_i') H^-1 with H the observed Hessian."
    ),
    "notes": (
        "ships.csv has 40 rows; Stata used the 34 with service/accident present (drop "
        "the 6 rows with missing values first). yr_con (1..4) and op_75_79 enter as "
        "numeric regressors."
    ),
    "suggested_rtol": {
        "params": 1e-06,
        "se": 1e-06,
        "loglik": 1e-10,
    },
}


# g. Poisson on ships with exposure(service), vce(cluster ship).
# Reordered: Stata lists [yr_con, op_75_79, _cons]; here Intercept is first.
POISSON_SHIPS_EXPOSURE_CLUSTER = {
    "model": "poisson",
    "family": "poisson",
    "link": "log",
    "dataset": "ships.csv",
    "formula": "accident ~ yr_con + op_75_79",
    "offset": "log(service)",
    "nobs": 34,
    "cluster": "ship",
    "n_clusters": 5,
    "names": ["Intercept", "yr_con", "op_75_79"],
    "params": [-6.974712802772, 0.30633819450439, 0.35592229608495],
    "se": [0.0968656626603, 0.03817694295902, 0.09213163536669],
    "loglik": -91.28727940081573,
    "source": (
        "statsmodels/discrete/tests/results/results_count_robust_cluster.py "
        "(results_poisson_exposure_clu); original command: Stata: poisson accident "
        "yr_con op_75_79, exposure(service) vce(cluster ship)"
    ),
    "convention": (
        "Stata vce(cluster ship) for ML: V = G/(G-1) * H^-1 (sum_g S_g S_g') H^-1 with "
        "S_g the score summed within ship, G = 5 clusters; NO (N-1)/(N-K) factor. "
        "(statsmodels' default cluster correction also multiplies by (N-1)/(N-K) = "
        "33/31, so divide its SEs by sqrt(33/31) to compare; for nbreg K includes "
        "lnalpha, K = 4.)"
    ),
    "notes": (
        "ships.csv has 40 rows; Stata used the 34 with service/accident present (drop "
        "the 6 rows with missing values first). yr_con (1..4) and op_75_79 enter as "
        "numeric regressors."
    ),
    "suggested_rtol": {
        "params": 1e-06,
        "se": 1e-06,
        "loglik": 1e-10,
    },
}


# g. NB2 on ships with exposure(service), Stata nbreg default OIM SEs (full precision).
# Reordered: Stata lists [yr_con, op_75_79, _cons]; here Intercept is first.
NB2_SHIPS_EXPOSURE = {
    "model": "negbin2",
    "family": "negbin",
    "link": "log",
    "dataset": "ships.csv",
    "formula": "accident ~ yr_con + op_75_79",
    "offset": "log(service)",
    "nobs": 34,
    "names": ["Intercept", "yr_con", "op_75_79"],
    "params": [-6.5908639033905, 0.28503762550355, 0.17127003537767],
    "se": [0.40391814231008, 0.14983643534827, 0.27580549562862],
    "lnalpha": -1.4034722260565,
    "lnalpha_se": 0.51305874839271,
    "alpha": 0.24574220834903,
    "alpha_se": 0.12608018984282,
    "loglik": -82.49115612464288,
    "source": (
        "statsmodels/discrete/tests/results/results_count_robust_cluster.py "
        "(results_negbin_exposure_nonrobust); original command: Stata: nbreg accident "
        "yr_con op_75_79, exposure(service)"
    ),
    "convention": (
        "OIM (observed information); no scaling. lnalpha_se is the OIM SE of ln(alpha); "
        "alpha_se = alpha * lnalpha_se (delta method)."
    ),
    "notes": (
        "ships.csv has 40 rows; Stata used the 34 with service/accident present (drop "
        "the 6 rows with missing values first). yr_con (1..4) and op_75_79 enter as "
        "numeric regressors."
    ),
    "suggested_rtol": {
        "params": 2e-06,
        "se": 1e-06,
        "loglik": 1e-10,
    },
}


# g. NB2 on ships, Stata nbreg vce(robust).
# Reordered: Stata lists [yr_con, op_75_79, _cons]; here Intercept is first.
NB2_SHIPS_ROBUST = {
    "model": "negbin2",
    "family": "negbin",
    "link": "log",
    "dataset": "ships.csv",
    "formula": "accident ~ yr_con + op_75_79",
    "offset": None,
    "nobs": 34,
    "names": ["Intercept", "yr_con", "op_75_79"],
    "params": [2.2952623989519, -0.03536709401845, 0.23211570238882],
    "se": [0.76040210713867, 0.26106873337039, 0.56245325203342],
    "lnalpha": 0.84599628895555,
    "lnalpha_se": 0.24005700345444,
    "alpha": 2.3302983089051,
    "alpha_se": 0.55940442919073,
    "loglik": -109.0877965183258,
    "source": (
        "statsmodels/discrete/tests/results/results_count_robust_cluster.py "
        "(results_negbin_hc1); original command: Stata: nbreg accident yr_con op_75_79, "
        "vce(robust)"
    ),
    "convention": (
        "Stata vce(robust) for ML: se = sqrt(n/(n-1)) * HC0 sandwich (n = 34), HC0 = "
        "H^-1 (sum_i s_i s_i') H^-1 with H the observed Hessian. For nbreg the sandwich "
        "is over the joint (beta, ln alpha) score, so alpha's estimation affects the "
        "coefficient SEs."
    ),
    "notes": (
        "ships.csv has 40 rows; Stata used the 34 with service/accident present (drop "
        "the 6 rows with missing values first). yr_con (1..4) and op_75_79 enter as "
        "numeric regressors."
    ),
    "suggested_rtol": {
        "params": 2e-06,
        "se": 1e-06,
        "loglik": 1e-10,
    },
}


# g. NB2 on ships, Stata nbreg vce(cluster ship).
# Reordered: Stata lists [yr_con, op_75_79, _cons]; here Intercept is first.
NB2_SHIPS_CLUSTER = {
    "model": "negbin2",
    "family": "negbin",
    "link": "log",
    "dataset": "ships.csv",
    "formula": "accident ~ yr_con + op_75_79",
    "offset": None,
    "nobs": 34,
    "cluster": "ship",
    "n_clusters": 5,
    "names": ["Intercept", "yr_con", "op_75_79"],
    "params": [2.2952623989519, -0.03536709401845, 0.23211570238882],
    "se": [1.2335785495143, 0.27216090050938, 0.09972456245386],
    "lnalpha": 0.84599628895555,
    "lnalpha_se": 0.22483100011931,
    "alpha": 2.3302983089051,
    "alpha_se": 0.52392329936749,
    "loglik": -109.0877965183258,
    "source": (
        "statsmodels/discrete/tests/results/results_count_robust_cluster.py "
        "(results_negbin_clu); original command: Stata: nbreg accident yr_con op_75_79, "
        "vce(cluster ship)"
    ),
    "convention": (
        "Stata vce(cluster ship) for ML: V = G/(G-1) * H^-1 (sum_g S_g S_g') H^-1 with "
        "S_g the score summed within ship, G = 5 clusters; NO (N-1)/(N-K) factor. "
        "(statsmodels' default cluster correction also multiplies by (N-1)/(N-K) = "
        "33/31, so divide its SEs by sqrt(33/31) to compare; for nbreg K includes "
        "lnalpha, K = 4.) For nbreg the sandwich is over the joint (beta, ln alpha) "
        "score, so alpha's estimation affects the coefficient SEs."
    ),
    "notes": (
        "ships.csv has 40 rows; Stata used the 34 with service/accident present (drop "
        "the 6 rows with missing values first). yr_con (1..4) and op_75_79 enter as "
        "numeric regressors."
    ),
    "suggested_rtol": {
        "params": 2e-06,
        "se": 1e-06,
        "loglik": 1e-10,
    },
}


# g. NB2 on ships with exposure(service), Stata nbreg vce(cluster ship).
# Reordered: Stata lists [yr_con, op_75_79, _cons]; here Intercept is first.
NB2_SHIPS_EXPOSURE_CLUSTER = {
    "model": "negbin2",
    "family": "negbin",
    "link": "log",
    "dataset": "ships.csv",
    "formula": "accident ~ yr_con + op_75_79",
    "offset": "log(service)",
    "nobs": 34,
    "cluster": "ship",
    "n_clusters": 5,
    "names": ["Intercept", "yr_con", "op_75_79"],
    "params": [-6.5908639033905, 0.28503762550355, 0.17127003537767],
    "se": [0.62542746996715, 0.14270989695062, 0.17997186802799],
    "lnalpha": -1.4034722260565,
    "lnalpha_se": 0.86579403765571,
    "alpha": 0.24574220834903,
    "alpha_se": 0.21276213878894,
    "loglik": -82.49115612464288,
    "source": (
        "statsmodels/discrete/tests/results/results_count_robust_cluster.py "
        "(results_negbin_exposure_clu); original command: Stata: nbreg accident yr_con "
        "op_75_79, exposure(service) vce(cluster ship)"
    ),
    "convention": (
        "Stata vce(cluster ship) for ML: V = G/(G-1) * H^-1 (sum_g S_g S_g') H^-1 with "
        "S_g the score summed within ship, G = 5 clusters; NO (N-1)/(N-K) factor. "
        "(statsmodels' default cluster correction also multiplies by (N-1)/(N-K) = "
        "33/31, so divide its SEs by sqrt(33/31) to compare; for nbreg K includes "
        "lnalpha, K = 4.) For nbreg the sandwich is over the joint (beta, ln alpha) "
        "score, so alpha's estimation affects the coefficient SEs."
    ),
    "notes": (
        "ships.csv has 40 rows; Stata used the 34 with service/accident present (drop "
        "the 6 rows with missing values first). yr_con (1..4) and op_75_79 enter as "
        "numeric regressors."
    ),
    "suggested_rtol": {
        "params": 2e-06,
        "se": 1e-06,
        "loglik": 1e-10,
    },
}


# g. Heteroscedasticity-consistent SEs for the Longley OLS fit (low precision: 4-7
# significant digits, the intercept's only to the unit). Reordered: Intercept first.
OLS_LONGLEY_HC = {
    "model": "ols",
    "family": "normal",
    "link": "identity",
    "dataset": "longley.csv",
    "formula": "TOTEMP ~ GNPDEFL + GNP + UNEMP + ARMED + POP + YEAR",
    "nobs": 16,
    "names": ["Intercept", "GNPDEFL", "GNP", "UNEMP", "ARMED", "POP", "YEAR"],
    "params": [
        -3482258.63459582, 15.0618722713733, -0.035819179292591, -2.02022980381683,
        -1.03322686717359, -0.0511041056535807, 1829.15146461355,
    ],
    "se_HC0": [832212.0, 51.22035, 0.02458, 0.38324, 0.14625, 0.15821, 428.38438],
    "se_HC1": [1109615.0, 68.2938, 0.03277, 0.51099, 0.19499, 0.21094, 571.17917],
    "se_HC2": [1202370.0, 67.49208, 0.03653, 0.55334, 0.20522, 0.22324, 617.59295],
    "se_HC3": [1799477.0, 91.11939, 0.05562, 0.82213, 0.29879, 0.32491, 922.80784],
    "source": (
        "statsmodels/regression/tests/results/results_regression.py (class Longley, "
        "HC0_se .. HC3_se; the class docstring says these non-NIST results 'were "
        "obtained from Stata'; the exact command is not given). HC1 is what Stata prints "
        "for: regress totemp gnpdefl gnp unemp armed pop year, vce(robust)."
    ),
    "convention": (
        "HC0 = (X'X)^-1 X' diag(e_i^2) X (X'X)^-1 (no factor); HC1 = HC0 * n/(n-k) = HC0 "
        "* 16/9 (Stata regress vce(robust)); HC2 uses e_i^2/(1-h_ii); HC3 uses "
        "e_i^2/(1-h_ii)^2."
    ),
    "notes": (
        "Printed precision only (4-5 significant digits for most): compare with rtol "
        "5e-4, and the intercept with atol 1."
    ),
    "suggested_rtol": {
        "se": 0.0005,
    },
}


# Extra: Gamma GLM, canonical inverse link, on the Scottish vote data (R glm, family = Gamma).
# Reordered: statsmodels lists the 7 regressors then const; here Intercept is first.
# R's formula COUTAX * UNEMPF is written with the precomputed interaction column
# COUTAX_FEMALEUNEMP.
GAMMA_SCOTLAND_GLM = {
    "model": "gamma_glm",
    "family": "gamma",
    "link": "inverse",
    "dataset": "scotland.csv",
    "formula": "YES ~ COUTAX + UNEMPF + MOR + ACT + GDP + AGE + COUTAX_FEMALEUNEMP",
    "nobs": 32,
    "names": ["Intercept", "COUTAX", "UNEMPF", "MOR", "ACT", "GDP", "AGE", "COUTAX_FEMALEUNEMP"],
    "params": [
        -0.01776527, 4.961768e-05, 0.002034423, -7.181429e-05, 0.000111852, -1.467515e-07,
        -0.0005186831, -2.42717498e-06,
    ],
    "se": [
        0.01147922, 1.621577e-05, 0.0005320802, 2.711664e-05, 4.057691e-05, 1.236569e-07,
        0.0002402534, 7.460253e-07,
    ],
    "scale": 0.003584283,
    "deviance": 0.087388516417,
    "pearson_chi2": 0.0860228056,
    "df_resid": 24,
    "source": (
        "statsmodels/genmod/tests/results/results_glm.py (class Scotvote) and "
        "statsmodels/datasets/scotland/R_scotvote.s; original command: R: "
        "summary(glm(YES ~ COUTAX * UNEMPF + MOR + ACT + GDP + AGE, family = Gamma))"
    ),
    "convention": (
        "R summary.glm: expected information (Fisher scoring; = observed for the "
        "canonical inverse link) times the Pearson dispersion phi = Pearson chi2/(n-p) = "
        "0.0860228/24 = 0.003584283. A full ML fit that estimates the gamma shape gives "
        "the same coefficients but SEs scaled by sqrt(phi_ML/phi_Pearson)."
    ),
    "notes": (
        "R printed 7 significant digits. No loglik given: the file's llf values mix "
        "conventions."
    ),
    "suggested_rtol": {
        "params": 1e-06,
        "se": 1e-06,
    },
}


# name -> entry, in the order above
ALL = {
    "LOGIT_SPECTOR": LOGIT_SPECTOR,
    "PROBIT_SPECTOR": PROBIT_SPECTOR,
    "POISSON_RANDHIE": POISSON_RANDHIE,
    "NB2_RANDHIE": NB2_RANDHIE,
    "OLS_LONGLEY_NIST": OLS_LONGLEY_NIST,
    "ORDINAL_UCLA_POLR": ORDINAL_UCLA_POLR,
    "ORDINAL_UCLA_OLOGIT": ORDINAL_UCLA_OLOGIT,
    "LOGIT_SPECTOR_ROBUST": LOGIT_SPECTOR_ROBUST,
    "POISSON_SHIPS_ROBUST": POISSON_SHIPS_ROBUST,
    "POISSON_SHIPS_CLUSTER": POISSON_SHIPS_CLUSTER,
    "POISSON_SHIPS_EXPOSURE": POISSON_SHIPS_EXPOSURE,
    "POISSON_SHIPS_EXPOSURE_ROBUST": POISSON_SHIPS_EXPOSURE_ROBUST,
    "POISSON_SHIPS_EXPOSURE_CLUSTER": POISSON_SHIPS_EXPOSURE_CLUSTER,
    "NB2_SHIPS_EXPOSURE": NB2_SHIPS_EXPOSURE,
    "NB2_SHIPS_ROBUST": NB2_SHIPS_ROBUST,
    "NB2_SHIPS_CLUSTER": NB2_SHIPS_CLUSTER,
    "NB2_SHIPS_EXPOSURE_CLUSTER": NB2_SHIPS_EXPOSURE_CLUSTER,
    "OLS_LONGLEY_HC": OLS_LONGLEY_HC,
    "GAMMA_SCOTLAND_GLM": GAMMA_SCOTLAND_GLM,
}
