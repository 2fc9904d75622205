"""Line plots of a run: the loss per epoch, and the fitted curve over the data.
"""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import LogLocator, NullFormatter

from gdplot.models.snapshot import Snapshot
from gdplot.plots.backgrounds import data_digest
from gdplot.plots.live_plot import LivePlot, loss_axis, margins, nice_ceil


class LossPlot(LivePlot):
    """Loss per epoch so far (epoch 0: before training), and the loss on held-out rows when
    the fit has them; log scale if it spans more than a decade.

    The x-axis runs to the run's last epoch when it is known; the y-axis grows in steps
    (whole decades on a log scale, 1-2-5 steps on a linear one), so most frames only
    redraw the line and the title.
    """

    what = "training loss"
    layout = "texts"

    def __init__(self, snapshot: Snapshot) -> None:
        if snapshot.val_history is not None:
            self.what = "training and validation loss"
        super().__init__(snapshot)
        ax = self.axes
        (self.line,) = ax.plot([], [], markersize=3, label="training")
        self._animate(self.line)
        self.val_line = None
        if snapshot.val_history is not None:
            (self.val_line,) = ax.plot([], [], markersize=3, color="C1", label="validation")
            self._animate(self.val_line)
        self._x_max = self._x_limit(snapshot)
        self._scale, self._y_limits = loss_axis(self._all_losses(snapshot))
        ax.set_xlim(0, self._x_max)
        ax.set_yscale(self._scale)
        ax.set_ylim(*self._y_limits)
        if self._scale == "log":
            # Decades as plain numbers (0.01, 0.1, 1; 1e-05 past four places), not 10^k:
            # they read at a glance, and are plain text, not mathtext to typeset.
            ax.yaxis.set_major_formatter("{x:g}")
            # Unlabelled minor ticks at 2 and 5 times each decade: enough to read a value
            # off, and each tick is several artists to build on a fresh figure.
            ax.yaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
            ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.grid(True, alpha=0.3)
        if self.val_line is not None:
            self._animate_legend()
        self._reuse_background(self._x_max, self._scale, self._y_limits,
                               self.val_line is not None)

    @staticmethod
    def _curve(snapshot: Snapshot, validation: bool = False) -> tuple[np.ndarray, np.ndarray]:
        history = snapshot.val_history if validation else snapshot.history
        initial = snapshot.val_initial_loss if validation else snapshot.initial_loss
        epochs = np.arange(1, len(history) + 1)
        losses = np.asarray(history, dtype=float)
        if np.isfinite(initial):
            epochs = np.concatenate([[0], epochs])
            losses = np.concatenate([[initial], losses])
        return epochs, losses

    @classmethod
    def _all_losses(cls, snapshot: Snapshot) -> np.ndarray:
        """Training and held-out losses together: the y-axis shows both."""
        losses = cls._curve(snapshot)[1]
        if snapshot.val_history is None:
            return losses
        return np.concatenate([losses, cls._curve(snapshot, validation=True)[1]])

    @staticmethod
    def _x_limit(snapshot: Snapshot) -> float:
        if snapshot.epochs_total >= max(snapshot.epoch, 1):
            return float(snapshot.epochs_total)
        return nice_ceil(max(snapshot.epoch, 1))

    def fits(self, snapshot: Snapshot) -> bool:
        # In order, a run's limits only grow, so this is equality; a frame arriving late (from
        # a second worker) is drawn on the wider axes already there instead of a new figure.
        scale, (low, high) = loss_axis(self._all_losses(snapshot))
        return (self._x_limit(snapshot) == self._x_max and scale == self._scale
                and self._y_limits[0] <= low and high <= self._y_limits[1])

    def update(self, snapshot: Snapshot) -> None:
        super().update(snapshot)
        epochs, losses = self._curve(snapshot)
        self.line.set_data(epochs, losses)
        self.line.set_marker("o" if len(losses) < 30 else "None")
        if self.val_line is not None and snapshot.val_history is not None:
            epochs, losses = self._curve(snapshot, validation=True)
            self.val_line.set_data(epochs, losses)
            self.val_line.set_marker("o" if len(losses) < 30 else "None")


class FitPlot(LivePlot):
    """The data and the model's current curve over its single feature.

    Regression: the prediction. Classification: the probability of class 1 over the 0/1
    labels. The axes are fitted to the data (fixed for a run): a curve far off the data
    leaves the axes, as it should.
    """

    what = "current fit"
    layout = "texts"

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__(snapshot)
        ax = self.axes
        x = np.asarray(snapshot.X[:, 0], dtype=float)
        y = np.asarray(snapshot.y, dtype=float)
        self._grid = np.linspace(x.min(), x.max(), 200)
        maths = snapshot.maths
        ax.scatter(x, y, s=10, alpha=0.5, label="data")
        (self.curve,) = ax.plot([], [], color="C3", linewidth=2, label=maths.output_label)
        self._animate(self.curve)
        if maths.task == "classification":
            ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
            y = np.concatenate([y, [0.0, 1.0]])
        ax.set_xlim(*margins(x))
        ax.set_ylim(*margins(y))
        ax.set_xlabel(snapshot.feature_name(0))
        ax.set_ylabel(snapshot.target_label)
        self._animate_legend()
        self._reuse_background(data_digest(x, y), maths.task, maths.output_label)

    def update(self, snapshot: Snapshot) -> None:
        super().update(snapshot)
        self.curve.set_data(self._grid, snapshot.decision(self._grid[:, None]))
