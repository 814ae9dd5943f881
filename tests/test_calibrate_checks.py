"""Checks of the calibration (MODEL-BRIEF §8): parameter recovery, the hold-out, model choice."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyabc")

from normsim.analysis.recovery import coverage, recovery_table, weighted_quantile
from normsim.cli import main
from normsim.experiments.calibration import calibrate, mismatches
from normsim.experiments.calibrationfile import ModelChoice, last_year, load_calibration
from normsim.experiments.recovery import recover, synthetic_record
from normsim.plotting.calibration import plot_model_choice, plot_recovery
from normsim.scenario import resolve_path, shipped_names

# The 2003 summit only (two steps): cheap enough for many repeats. SGP's and VNM's 2002
# supports on [0, 1] decide whether they block it, so the record informs them.
SUMMIT_2003 = """\
scenario: asean-2003
overrides: {end_year: 2004}
targets: {file: asean-history, fit: [proposal-2003-fails, opponents-2003-sgp-vnm]}
parameters:
  sgp: {key: states.SGP.support, uniform: [0.0, 1.0]}
  vnm: {key: states.VNM.support, uniform: [0.0, 1.0]}
  resistance: {key: dynamics.resistance, uniform: [0.075, 0.3]}
population: 40
epsilons: [0]
seed: 11
"""


def _write(tmp_path: Path, text: str, name: str = "cal.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _problems(capsys) -> str:
    return "\n".join(line for line in capsys.readouterr().err.splitlines() if line.strip())


# --------------------------------------------------------------------------- the distance


def test_the_distance_counts_departures_from_a_record_with_misses():
    assert mismatches({"a": 1.0, "b": 0.0}, {"a": 1.0, "b": 1.0}) == 1.0  # the history
    assert mismatches({"a": 1.0, "b": 0.0}, {"a": 1.0, "b": 0.0}) == 0.0  # a synthetic miss
    assert mismatches({"a": 0.0, "b": 1.0}, {"a": 1.0, "b": 0.0}) == 2.0
    assert mismatches({"a": 0.5, "held": 0.0}, {"a": 1.0}) == 0.5  # held-out keys do not count


# --------------------------------------------------------------------------- hold-out


def test_the_shipped_holdout_fits_up_to_2014_and_predicts_2015_2023():
    cal = load_calibration("asean-holdout-2014")
    assert set(cal.fit) == {"proposal-2003-fails", "opponents-2003-sgp-vnm",
                            "only-idn-supports-2014", "lesser-version-2011",
                            "force-off-table-2011"}
    assert set(cal.predict) == {"no-force-by-2023", "support-2015-broader",
                                "revival-2015-rejected", "emergence-through-2023"}
    assert set(cal.observed()) == set(cal.fit)
    for p in cal.targets:
        assert (last_year(p.statistic) <= 2014) == (p.id in cal.fit), p.id
    full = load_calibration("asean-history")
    assert full.priors == cal.priors  # the same model and priors as the full calibration


def test_last_year_of_each_statistic_kind():
    assert last_year({"kind": "summit", "year": 2003}) == 2003
    assert last_year({"kind": "summit", "years": [2011, 2015]}) == 2015
    assert last_year({"kind": "adopters", "year": 2013}) == 2013
    assert last_year({"kind": "version_adopted", "between": [2010, 2012]}) == 2012
    assert last_year({"kind": "version_adopted", "by": 2023}) == 2023
    assert last_year({"kind": "regional_stage", "never_tipped_by": 2023}) == 2023
    assert last_year({"kind": "support_broader", "earlier": 2003, "later": 2015}) == 2015
    assert last_year({"kind": "speedup_after_tipping", "window": 3}) is None


def test_fit_and_predict_lists_choose_the_targets(tmp_path):
    text = SUMMIT_2003.replace("overrides: {end_year: 2004}\n", "").replace(
        "fit: [proposal-2003-fails, opponents-2003-sgp-vnm]",
        "predict: [revival-2015-rejected]")
    cal = load_calibration(_write(tmp_path, text))
    assert cal.predict == ("revival-2015-rejected",)
    assert len(cal.fit) == 8 and "revival-2015-rejected" not in cal.fit
    only = load_calibration(_write(tmp_path, SUMMIT_2003, "only.yaml"))
    assert [p.id for p in only.targets] == ["proposal-2003-fails", "opponents-2003-sgp-vnm"]
    assert only.predict == ()


@pytest.mark.parametrize(("targets", "needles"), [
    ("{file: asean-history, fit: [no-such-pattern], predict: [speedup-after-tipping]}",
     ["targets.fit[0]", "unknown pattern 'no-such-pattern'", "targets.predict[0]",
      "it is a pattern of asean-2024-localized"]),
    ("{file: asean-history, fit: [proposal-2003-fails], predict: [proposal-2003-fails]}",
     ["targets.predict[0]", "also in fit"]),
    ("{file: asean-history, holdout_after: 2014, fit: [proposal-2003-fails]}",
     ["targets", "at most one of holdout_after or fit"]),
    ("{file: asean-history, holdout_after: 2002}", ["targets.holdout_after", "nothing to fit"]),
    ("{file: asean-history, holdout_after: 2030}",
     ["targets.holdout_after", "nothing to predict"]),
    ("{file: asean-history, scenario: asean-1999}",
     ["targets.scenario", "no pattern of the scenario asean-1999"]),
    ("{file: asean-history, holdout_after: two}", ["targets.holdout_after", "expected an integer"]),
    ("{fit: [proposal-2003-fails]}", ["targets.file", "missing"]),
])
def test_bad_target_splits_one_line_per_problem_exit_2(tmp_path, capsys, targets, needles):
    text = SUMMIT_2003.replace("overrides: {end_year: 2004}\n", "").replace(
        "{file: asean-history, fit: [proposal-2003-fails, opponents-2003-sgp-vnm]}", targets)
    path = _write(tmp_path, text.replace("population: 40", "population: 1"))
    assert main(["calibrate", str(path), "--out", str(tmp_path / "out")]) == 2
    err = _problems(capsys)
    for needle in needles:
        assert needle in err, (needle, err)
    assert "population" in err  # every problem of the file, not the first only
    assert not (tmp_path / "out").exists()


def test_holdout_calibration_end_to_end(tmp_path, capsys):
    text = """\
scenario: asean-2003
overrides: {end_year: 2015}
targets: {file: asean-history, fit: [proposal-2003-fails, opponents-2003-sgp-vnm,
          force-off-table-2011], predict: [revival-2015-rejected, lesser-version-2011]}
parameters:
  resistance: {key: dynamics.resistance, uniform: [0.075, 0.3]}
  acquiescence: {key: region.acquiescence_margin, uniform: [0.0, 0.2]}
population: 20
epsilons: [1, 0]
seed: 3
"""
    out = tmp_path / "out"
    assert main(["calibrate", str(_write(tmp_path, text)), "--out", str(out),
                 "--predictive-draws", "10"]) == 0
    printed = capsys.readouterr().out
    assert "(held out)" in printed and "p = " in printed
    assert (out / "figures" / "holdout.png").is_file()
    held = pd.read_csv(out / "holdout.csv")
    assert list(held["target"]) == ["lesser-version-2011", "revival-2015-rejected",
                                    "(all held out)"]
    assert held[["p_conditional", "p_posterior", "p_prior"]].stack().between(0, 1).all()
    assert (held["p_value"] == held["p_conditional"]).all()
    assert held["p_value"].iloc[-1] <= held["p_value"].iloc[:-1].min() + 1e-12  # joint <= each
    # the conditional P(match) is read off the last generation's own runs: recompute it
    import pyabc

    history = pyabc.History("sqlite:///" + str((out / "history.db").resolve()))
    w, stats = history.get_weighted_sum_stats_for_model(m=0, t=history.max_t)
    x = pd.DataFrame(stats)
    fitted = ["proposal-2003-fails", "opponents-2003-sgp-vnm", "force-off-table-2011"]
    assert (x[fitted] == 1).all().all(), "at epsilon 0 every particle reproduces the fit"
    w = np.asarray(w)
    for target in ("lesser-version-2011", "revival-2015-rejected"):
        want = float((w * x[target]).sum() / w.sum())
        got = float(held.loc[held["target"] == target, "p_conditional"].iloc[0])
        assert got == pytest.approx(want)
    pred = pd.read_csv(out / "predictive.csv")
    assert {"(all)", "(all fitted)", "(all held out)"} <= set(pred["target"])
    assert set(pred.loc[pred["target"] == "revival-2015-rejected", "role"]) == {"predict"}
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["calibration"]["predict"] == ["lesser-version-2011", "revival-2015-rejected"]


# --------------------------------------------------------------------------- model choice


def test_the_shipped_model_choice_and_its_null_models_are_valid():
    choice = load_calibration("asean-null-models")
    assert isinstance(choice, ModelChoice)
    assert choice.names == ("asean-history", "asean-constant-resistance",
                            "asean-pure-threshold")
    fits = {frozenset(m.fit) for m in choice.models}
    assert len(fits) == 1 and len(next(iter(fits))) == 9
    bases = [m.base for m in choice.models]
    assert [b.name for b in bases] == ["asean-2003", "asean-2003-constant-resistance",
                                       "asean-2003-pure-threshold"]
    constant, pure = bases[1].data, bases[2].data
    norms = {code: tuple(s["norms"].values()) for code, s in constant["states"].items()}
    assert set(norms.values()) == {(1.0,) * 6}, "every state meets the same clash"
    assert not constant["mechanisms"]["regime_fear"]
    assert not constant["mechanisms"]["identity_drift"]
    on = {k for k, v in pure["mechanisms"].items() if v}
    assert on == {"neighbour_influence", "reversal", "internalization", "versions",
                  "withdrawal", "threshold_heterogeneity", "noise"}
    for name in ("null/asean-2003-constant-resistance", "null/asean-2003-pure-threshold"):
        assert name in shipped_names()
        assert resolve_path(name).is_file()


def test_bad_model_choice_files_one_line_per_problem_exit_2(tmp_path, capsys):
    _write(tmp_path, SUMMIT_2003, "summit.yaml")
    _write(tmp_path, SUMMIT_2003.replace(
        "fit: [proposal-2003-fails, opponents-2003-sgp-vnm]", "fit: [proposal-2003-fails]"),
        "other.yaml")
    _write(tmp_path, "models: [summit.yaml, summit.yaml]\nstop: {generations: 1}\n",
           "nested.yaml")
    bad = _write(tmp_path, """\
models: [summit.yaml, other.yaml, missing.yaml, nested.yaml]
population: 0
bogus: 1
""", "choice.yaml")
    assert main(["calibrate", str(bad), "--out", str(tmp_path / "out")]) == 2
    err = _problems(capsys)
    for needle in ("bogus", "population", "models[1]", "the same targets", "models[2]",
                   "no such file", "models[3]", "a model choice itself", "stop"):
        assert needle in err, (needle, err)
    one = _write(tmp_path, "models: [summit.yaml]\nepsilons: [0]\n", "one.yaml")
    assert main(["calibrate", str(one), "--out", str(tmp_path / "out")]) == 2
    assert "at least two" in _problems(capsys)
    assert main(["calibrate", str(one), "--recovery", "2"]) == 2


def test_model_choice_gives_a_model_that_cannot_match_probability_zero(tmp_path, capsys):
    """Exact at epsilon 0: a model under which Singapore never blocks cannot match."""
    text = SUMMIT_2003.replace("proposal-2003-fails, opponents-2003-sgp-vnm",
                               "opponents-2003-sgp-vnm")
    _write(tmp_path, text.replace("seed: 11", "name: can\nseed: 11"), "can.yaml")
    never = text.replace("overrides: {end_year: 2004}",
                         "overrides: {end_year: 2004, states.SGP.support: 1.0}")
    never = never.replace("  sgp: {key: states.SGP.support, uniform: [0.0, 1.0]}\n", "")
    _write(tmp_path, never.replace("seed: 11", "name: cannot\nseed: 11"), "cannot.yaml")
    path = _write(tmp_path, "models: [can.yaml, cannot.yaml]\npopulation: 30\n"
                  "epsilons: [1, 0]\nseed: 4\n", "choice.yaml")
    out = tmp_path / "out"
    assert main(["calibrate", str(path), "--out", str(out), "--predictive-draws", "30"]) == 0
    printed = capsys.readouterr()
    assert "P(model)" in printed.err and "direct" in printed.out
    probs = pd.read_csv(out / "model_probabilities.csv")
    last = probs[probs["generation"] == probs["generation"].max()].set_index("model")
    assert last.loc["can", "probability"] == pytest.approx(1.0)
    assert last.loc["cannot", "probability"] == 0.0 and last.loc["cannot", "particles"] == 0
    evidence = pd.read_csv(out / "model_evidence.csv").set_index("model")
    assert evidence.loc["cannot", "matches"] == 0 and evidence.loc["can", "matches"] > 0
    assert evidence.loc["cannot", "probability"] == 0.0
    per_target = pd.read_csv(out / "model_predictive.csv").set_index(["model", "target"])
    assert per_target.loc[("cannot", "opponents-2003-sgp-vnm"), "p_match"] == 0.0
    post = pd.read_parquet(out / "posteriors.parquet")
    assert set(post["model"]) == {"can"} and "weight" in post
    assert (out / "figures" / "model_probabilities.png").is_file()
    assert (out / "figures" / "marginals-can.png").is_file()
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["model_choice"]["models"] == ["can", "cannot"]
    # run --posterior refuses a model-choice folder: it holds no single posterior
    assert main(["run", "asean-2003", "--posterior", str(out), "-n", "2"]) == 2


def test_model_choice_splits_evenly_between_two_copies_of_one_model(tmp_path):
    """Two identical models: P(m | record) = 1/2; the SMC weights must not favour either."""
    _write(tmp_path, SUMMIT_2003.replace("seed: 11", "name: first\nseed: 11"), "a.yaml")
    _write(tmp_path, SUMMIT_2003.replace("seed: 11", "name: second\nseed: 11"), "b.yaml")
    choice = load_calibration(_write(tmp_path, "models: [a.yaml, b.yaml]\npopulation: 100\n"
                                     "epsilons: [1, 0]\nseed: 8\n", "choice.yaml"))
    result = calibrate(choice, tmp_path / "out", predictive_draws=2, log=lambda line: None,
                       figures=plot_model_choice)
    probs = result["meta"]["model_probabilities"]
    # tolerance: 100 particles with unequal weights, ESS about 70 -> sd of P about 0.06;
    # 0.5 +- 0.2 is more than three sd
    assert abs(probs["first"] - 0.5) < 0.2, probs
    assert probs["first"] + probs["second"] == pytest.approx(1.0)


# --------------------------------------------------------------------------- recovery


def test_weighted_quantile_matches_numpy_with_equal_weights_and_follows_weights():
    x = np.random.default_rng(0).normal(size=101)
    w = np.ones_like(x)
    assert weighted_quantile(x, w, [0.05, 0.5, 0.95]) == pytest.approx(
        np.quantile(x, [0.05, 0.5, 0.95], method="hazen"))
    # CDF 1/8 at 0 and 5/8 at 1 (each value at the middle of its weight): the median is 3/4
    assert weighted_quantile([0.0, 1.0], [1.0, 3.0], 0.5) == pytest.approx(0.75)


def test_synthetic_records_are_draws_of_the_model_and_replay(tmp_path):
    cal = load_calibration(_write(tmp_path, SUMMIT_2003))
    records = [synthetic_record(cal, m) for m in range(12)]
    assert records[3] == synthetic_record(cal, 3)  # from the seed and the repeat alone
    values = {tuple(r[1].values()) for r in records}
    assert values <= {(1.0, 1.0), (1.0, 0.0), (0.0, 0.0), (0.0, 1.0)}
    assert (1.0, 0.0) in values and (1.0, 1.0) in values, "records with misses and without"
    for truth, _, _ in records:
        assert 0 <= truth["sgp"] <= 1 and 0.075 <= truth["resistance"] <= 0.3


def test_parameter_recovery_covers_at_the_nominal_rate_and_a_wrong_posterior_does_not(tmp_path):
    """Simulation-based calibration with stated tolerances, and its power against errors.

    M = 50 repeats, 40 particles each, epsilon 0 (exact rejection ABC). A calibrated
    posterior of 40 draws covers the truth with its 90% interval with probability
    0.9 x 40/41 = 0.878; the count inside must lie in the central 99.8% of
    Binomial(50, 0.878) for every parameter (a false alarm about once in 170 studies
    per parameter). Two wrong posteriors built from the same particles must fall out of
    that band: one shrunk to a quarter of its spread around its mean (overconfident), one
    shifted by 1.5 prior sd (biased; one sd is not always enough with 50 repeats). The
    record informs Singapore's and Vietnam's supports: their posterior sd is below the
    prior's, as a posterior that ignored the data would not be.
    """
    cal = load_calibration(_write(tmp_path, SUMMIT_2003))
    out = tmp_path / "rec"
    result = recover(cal, out, 50, log=lambda line: None, figures=plot_recovery)
    for name in ("recovery.csv", "recovery_summary.csv", "metadata.json",
                 "figures/recovery.png", "figures/recovery_truths.png", "repeats/0049.json",
                 "repeats/0049.parquet"):
        assert (out / name).is_file(), name
    assert not list((out / "repeats").glob("*.db")), "pyabc's per-repeat history is removed"
    table, summary = result["table"], result["summary"].set_index("parameter")
    assert (table["final_epsilon"] == 0).all() and np.allclose(table["ess"], 40)
    assert table["expected"].iloc[0] == pytest.approx(0.9 * 40 / 41)
    band = coverage(table, probability=0.998).set_index("parameter")
    assert band["calibrated"].all(), band[["inside", "band_low", "band_high"]]
    assert (band["band_low"] >= 36).all()  # the band has power: well above a 25% coverage
    assert summary.loc["sgp", "sd_ratio_mean"] < 0.95
    assert summary.loc["vnm", "sd_ratio_mean"] < 0.95

    infos = result["repeats"]
    truths = [i["truth"] for i in infos]
    prior_sd = {p.name: p.sd() for p in cal.priors}
    posteriors = [pd.read_parquet(out / "repeats" / f"{i['repeat']:04d}.parquet") for i in infos]

    def shrunk(post: pd.DataFrame) -> pd.DataFrame:
        post = post.copy()
        for name in prior_sd:
            mean = np.average(post[name], weights=post["weight"])
            post[name] = mean + 0.25 * (post[name] - mean)
        return post

    def shifted(post: pd.DataFrame) -> pd.DataFrame:
        return post.assign(**{name: post[name] + 1.5 * sd for name, sd in prior_sd.items()})

    for wrong in (shrunk, shifted):
        bad = coverage(recovery_table(truths, [wrong(p) for p in posteriors], prior_sd),
                       probability=0.998)
        assert not bad["calibrated"].any(), (wrong.__name__, bad[["parameter", "inside"]])

    # --resume of a finished study reads the repeats back and recomputes the same table
    again = recover(cal, out, 50, resume=True, log=lambda line: None)
    pd.testing.assert_frame_equal(again["table"], table)


def test_recovery_through_the_cli_and_resume_after_an_interruption(tmp_path, capsys):
    path = _write(tmp_path, SUMMIT_2003.replace("population: 40", "population: 10"))
    out = tmp_path / "rec"
    cal = load_calibration(path)
    seen: list[str] = []

    def interrupt(line: str) -> None:
        seen.append(line)
        if line.startswith("repeat 2/"):
            raise KeyboardInterrupt  # killed after two repeats are written

    with pytest.raises(KeyboardInterrupt):
        recover(cal, out, 4, log=interrupt)
    assert (out / "repeats" / "0001.json").is_file() and not (out / "metadata.json").exists()
    assert main(["calibrate", str(path), "--recovery", "4", "--out", str(out),
                 "--resume"]) == 0
    captured = capsys.readouterr()
    assert "repeat 3/4 done" in captured.err and "repeat 1/4 done" not in captured.err
    assert "truth inside the 90% interval" in captured.out
    table = pd.read_csv(out / "recovery.csv")
    assert sorted(table["repeat"].unique()) == [0, 1, 2, 3]
    assert {"truth", "low", "high", "inside", "sd_ratio", "misses", "final_epsilon"} <= set(table)
    # another number of repeats is another study: refused on resume
    assert main(["calibrate", str(path), "--recovery", "5", "--out", str(out),
                 "--resume"]) == 2
    assert "another calibration" in capsys.readouterr().err
