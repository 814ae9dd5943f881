"""The browser page under a posterior (normsim viz --posterior DIR), without a browser."""

from __future__ import annotations

import socket
import time

import pytest

solara = pytest.importorskip("solara", reason="needs the viz extra: pip install -e '.[viz]'")
ipywidgets = pytest.importorskip("ipywidgets")

from normsim.cli import main  # noqa: E402
from normsim.experiments.posterior import load_posterior  # noqa: E402
from normsim.viz import app, controls  # noqa: E402
from normsim.viz.controls import DRAWS_ENV, POSTERIOR_ENV, PageModel, model_params  # noqa: E402

from .test_posterior import write_calibration  # noqa: E402


@pytest.fixture
def posterior(tmp_path, monkeypatch):
    folder = write_calibration(tmp_path / "cal")
    monkeypatch.setenv(POSTERIOR_ENV, str(folder))
    monkeypatch.setenv(DRAWS_ENV, "20")
    return folder


def _values(name: str) -> dict:
    return {k: v["value"] for k, v in model_params(name).items() if k not in ("scenario", "rng")}


def test_the_ensemble_spreads_its_runs_over_the_draws_and_the_levers_still_apply(posterior):
    draws = controls.launch_draws()
    assert len(draws) == 20 and draws == load_posterior(posterior).draw(20, 0)
    values = _values("asean-2003")
    low = app.ensemble_update("asean-2003", values, 200, 0, None, draws)
    assert low.stats.n == 200
    assert "posterior ensemble: 200 runs over 20 parameter sets" in low.stats.posterior
    high = app.ensemble_update("asean-2003", {**values, "entrepreneur_intensity": 2.0}, 200, 0,
                               None, draws)
    assert high.stats.cascade.p > low.stats.cascade.p  # the lever, under the drawn values
    plain = app.ensemble_update("asean-2003", values, 200, 0)
    assert plain.stats.posterior == "" and plain.fan != low.fan
    few = app.ensemble_update("asean-2003", values, 10, 0, None, draws)  # R < D
    assert "10 runs over 10 parameter sets" in few.stats.posterior
    # a scenario the posterior does not fit runs as written, and says so
    council = app.ensemble_update("examples/un-security-council",
                                  _values("examples/un-security-council"), 50, 0, None, draws)
    assert council.stats.posterior.startswith("not a posterior ensemble")
    assert council.stats.n == 50


def test_the_single_run_uses_one_draw_and_says_so(posterior):
    draws = controls.launch_draws()
    model = PageModel("asean-2024", rng="23")
    assert model.draw == 23 % 20 and not model.notes
    assert model.norm_scenario.data["dynamics"]["resistance"] == draws.values[3][0]
    assert "posterior draw 3" in app._status_html(model)
    council = PageModel("examples/un-security-council", rng="1")
    assert council.draw is None and "does not apply" in council.notes[0]


def test_the_page_says_it_shows_a_posterior_ensemble(posterior):
    _, rc = solara.render(app.Page(), handle_error=False)
    deadline = time.monotonic() + 60
    while len(rc.find(ipywidgets.Image)) < 5 and time.monotonic() < deadline:
        time.sleep(0.1)  # the ensemble runs in a thread
    html = " ".join(w.unsafe_innerHTML or "" for w in rc.find(solara.widgets.HTML).widgets)
    assert "Posterior ensemble: 500 runs over 20 parameter sets" in html
    assert "fake-history" in html and "P(cascade by 2040)" in html


class Started(Exception):
    """Raised by the stand-in for os.execve."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_viz_command_passes_the_posterior_to_the_page(tmp_path, monkeypatch, capsys):
    folder = write_calibration(tmp_path / "cal")
    monkeypatch.delenv(POSTERIOR_ENV, raising=False)

    def execve(*args):
        raise Started(*args)

    monkeypatch.setattr("os.execve", execve)
    with pytest.raises(Started) as started:
        main(["viz", "asean-2024", "--posterior", str(folder), "--draws", "7",
              "--port", str(_free_port())])
    _, _argv, env = started.value.args
    assert env[POSTERIOR_ENV] == str(folder.resolve()) and env[DRAWS_ENV] == "7"
    assert "under the posterior" in capsys.readouterr().out
    monkeypatch.setenv(POSTERIOR_ENV, str(folder))  # from the calling shell: not passed on
    with pytest.raises(Started) as started:
        main(["viz", "asean-2024", "--port", str(_free_port())])
    assert POSTERIOR_ENV not in started.value.args[2]
    monkeypatch.setattr("os.execve", lambda *a: pytest.fail("must not start"))
    assert main(["viz", "--posterior", str(tmp_path / "none")]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert main(["viz", "examples/un-security-council", "--posterior", str(folder)]) == 2
    assert "cannot take the fitted parameters" in capsys.readouterr().err
    assert main(["viz", "threshold/watts-2002", "--posterior", str(folder)]) == 2
    assert "no posterior ensemble" in capsys.readouterr().err
    assert main(["viz", "--draws", "5"]) == 2
