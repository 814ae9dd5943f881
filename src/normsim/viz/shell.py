"""What both pages share: the frame, the run buttons, figure cards and always-labelled sliders.

The pages are plain Solara pages around the models, rather than Mesa's ``SolaraViz``: its
frame puts a "Page 0" tab over one page, shows a slider's value only while the slider has
focus, builds its controls once (so they cannot follow the chosen scenario) and re-renders
the whole controller on every step. Here the controls are built from the chosen scenario,
every slider shows its value, and a step is done under a lock, one per click: a click that
arrives while a step is drawn waits for it instead of being lost.

The tab title: ``normsim viz`` sets ``SOLARA_THEME_TITLE`` (the page's ``<title>`` before
the app has loaded) and ``SOLARA_THEME_SHOW_BANNER=False`` (no "runs on Solara" badge); the
frame's bottom padding keeps the last rows clear of the badge when the server is started
by hand.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import reacton.ipywidgets as rw
import solara

CSS = """
.normsim-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(500px, 1fr));
                gap: 12px; padding: 8px 8px 64px 8px; }
.normsim-card { background: white; border: 1px solid #e3e3e3; border-radius: 6px;
                padding: 6px 8px; min-width: 0; }
.normsim-card h4 { margin: 0 0 2px 0; font-size: 13px; font-weight: 600; color: #333; }
.normsim-sidebar .v-input { margin-top: 2px !important; }
.normsim-sidebar .v-slider__thumb-label { font-size: 10px; }
.normsim-value { font-size: 12px; color: #333; font-variant-numeric: tabular-nums; }
.normsim-busy { color: #888; font-size: 12px; }
"""
"""The pages' styles: a responsive grid of figure cards, padded at the bottom."""

FIGURE_LAYOUT = {"width": "100%", "height": "auto", "object_fit": "contain"}


def image(data: bytes) -> rw.Image:
    """A PNG as a widget as wide as its card."""
    return rw.Image(value=data, format="png", layout=FIGURE_LAYOUT)


@solara.component
def Card(title: str, figure: bytes | None = None, text: str = "") -> None:
    """A titled card of the page's grid: a figure (PNG), or a line of text."""
    with solara.Div(classes=["normsim-card"]):
        solara.HTML(tag="h4", unsafe_innerHTML=title)
        if figure is not None:
            image(figure)
        if text:
            solara.HTML(tag="div", unsafe_innerHTML=text, classes=["normsim-busy"])


@solara.component
def LabelledSlider(label: str, value: float, on_value: Callable[[Any], None], *, lo: float,
                   hi: float, step: float, fmt: str = "{:g}", integer: bool = False) -> None:
    """A slider whose label always shows its value (not only while it has focus)."""
    with solara.Column(gap="0px", classes=["normsim-slider"]):
        solara.HTML(tag="div", unsafe_innerHTML=f"{label}: <b>{fmt.format(value)}</b>",
                    classes=["normsim-value"])
        slider = solara.SliderInt if integer else solara.SliderFloat
        slider(label="", value=value, on_value=on_value, min=lo, max=hi, step=step,
               thumb_label=False)


class Runner:
    """A model stepped by clicks and by Play, one step at a time under a lock.

    Args:
        build: makes a fresh model (Reset).
        done: whether the model has reached its end.

    Attributes:
        model: the current model.
        lock: held while the model steps or is drawn.
    """

    def __init__(self, build: Callable[[], Any], done: Callable[[Any], bool]):
        self.build, self.done = build, done
        self.lock = threading.RLock()
        self.model = build()

    def step(self) -> bool:
        """One step, unless the model is at its end; whether it stepped."""
        with self.lock:
            if self.done(self.model):
                return False
            self.model.step()
            return True

    def reset(self) -> None:
        """A fresh model from the current controls."""
        with self.lock:
            self.model = self.build()


@solara.component
def RunButtons(runner: Runner, version: solara.Reactive[int], clock: str,
               interval: float = 0.3) -> None:
    """Reset, Play/Pause and Step, and the clock text.

    Every Step click is done: the handler only steps the model under the runner's lock
    (milliseconds) and asks for a redraw; the redraw runs in a thread of its own and draws
    the latest state once for the clicks that came while it drew. So clicks that come
    quickly are all done, in order, none dropped or waiting behind a redraw. Play steps in a
    thread every ``interval`` seconds until Pause or the end.
    """
    playing = solara.use_reactive(False)
    dirty = solara.use_memo(threading.Event, [])

    def worker(cancel: threading.Event) -> None:
        # One thread steps while playing and redraws after clicks: no two of them race.
        while not cancel.is_set():
            if playing.value:
                started = time.monotonic()
                if not runner.step():
                    playing.set(False)
                dirty.clear()
                version.set(version.value + 1)
                time.sleep(max(0.0, interval - (time.monotonic() - started)))
            elif dirty.wait(timeout=0.1):
                dirty.clear()
                version.set(version.value + 1)

    solara.use_thread(worker, dependencies=[], intrusive_cancel=False)

    def on_step() -> None:
        runner.step()
        dirty.set()

    def on_reset() -> None:
        playing.set(False)
        runner.reset()
        version.set(version.value + 1)

    at_end = runner.done(runner.model)
    with solara.Row(justify="space-between"):
        solara.Button(label="Reset", color="primary", on_click=on_reset)
        solara.Button(label="❚❚" if playing.value else "▶", color="primary",
                      on_click=lambda: playing.set(not playing.value),
                      disabled=at_end and not playing.value)
        solara.Button(label="Step", color="primary", on_click=on_step,
                      disabled=playing.value or at_end)
    solara.Text(clock)
