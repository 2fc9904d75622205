"""Which gradient steps a run records, and the buffers they go into.

``history_`` holds one loss per epoch. A lesson on stochastic gradient descent needs more: the
loss, and the parameters, between the steps of an epoch, where the zig-zag is. An estimator
built with ``record_steps`` records them at the steps of a fixed schedule:

- ``k`` (an int >= 1): every ``k``-th step;
- ``"log"``: ``LOG_STEPS_PER_DECADE`` steps per decade of steps (every step at first, ever
  fewer later), so a long run costs a few hundred records and a log-x plot gets evenly
  spaced points.

Step 0 (the start) and the run's last step are always recorded. A record costs one loss
evaluation on the training set; nothing at all is done per step when ``record_steps`` is
``None``.
"""

from __future__ import annotations

import math

import numpy as np

from gdplot.validation import check_int

__all__ = ["LOG_STEPS_PER_DECADE", "StepRecorder", "check_record_steps", "samples_processed",
           "step_schedule"]

#: Records per decade of steps with ``record_steps="log"``.
LOG_STEPS_PER_DECADE = 50


def check_record_steps(value: object) -> int | str | None:
    """``record_steps`` as given if valid: ``None``, ``"log"`` or an int >= 1."""
    if value is None or (isinstance(value, str) and value == "log"):
        return value
    if isinstance(value, str):
        raise ValueError(f"record_steps must be None, 'log' or an int >= 1, got {value!r}")
    return check_int(value, "record_steps")


def step_schedule(record_steps: int | str, total_steps: int) -> np.ndarray:
    """The sorted steps to record in a run of ``total_steps`` steps, ``0`` and
    ``total_steps`` included, as int64."""
    if record_steps == "log":
        count = max(2, math.ceil(LOG_STEPS_PER_DECADE * math.log10(max(total_steps, 1))) + 1)
        inner = np.round(np.geomspace(1, max(total_steps, 1), count)).astype(np.int64)
    else:
        inner = np.arange(record_steps, total_steps + 1, record_steps, dtype=np.int64)
    return np.unique(np.concatenate([[0], inner, [total_steps]]))


def samples_processed(steps: np.ndarray, n_samples: int, batch_size: int) -> np.ndarray:
    """Gradient evaluations (rows seen) after each of ``steps``, when an epoch is
    ``ceil(n_samples / batch_size)`` steps whose last batch may be short."""
    steps = np.asarray(steps, dtype=np.int64)
    per_epoch = -(-n_samples // batch_size)
    epochs, into = np.divmod(steps, per_epoch)
    return epochs * n_samples + np.minimum(into * batch_size, n_samples)


class StepRecorder:
    """The loss and the flat parameters at the scheduled steps of one run.

    ``due`` is the next step to record; the training loop compares its step count with it
    and calls :meth:`record` when they meet. ``count`` records are filled so far.
    """

    #: The estimator's attributes of recorded steps, as they are without any.
    ATTRIBUTES = dict.fromkeys(("steps_", "step_samples_", "step_history_", "step_path_"))

    def __init__(self, schedule: np.ndarray, n_params: int | None, n_samples: int,
                 batch_size: int) -> None:
        self.steps = schedule
        #: Training rows processed (gradient evaluations) by each scheduled step.
        self.samples = samples_processed(schedule, n_samples, batch_size)
        try:
            self.losses = np.empty(schedule.size)
            self.path = None if n_params is None else np.empty((schedule.size, n_params))
        except MemoryError:
            size = schedule.size * (1 + (n_params or 0)) * 8 / 2**30
            raise ValueError(
                f"record_steps needs {size:.3g} GiB to record {schedule.size:,} steps; "
                "record fewer (a larger record_steps, or 'log')"
            ) from None
        self.count = 0
        self.due = int(schedule[0])

    def attributes(self) -> dict[str, np.ndarray | None]:
        """The estimator's ``steps_``, ``step_samples_``, ``step_history_`` and
        ``step_path_``: windows on the records so far."""
        count = self.count
        return {
            "steps_": self.steps[:count],
            "step_samples_": self.samples[:count],
            "step_history_": self.losses[:count],
            "step_path_": None if self.path is None else self.path[:count],
        }

    def record(self, loss: float, params: np.ndarray | None) -> None:
        """Record the step ``due``: its loss and (if the model has a path) parameters."""
        self.losses[self.count] = loss
        if self.path is not None:
            self.path[self.count] = params
        self.count += 1
        self.due = int(self.steps[self.count]) if self.count < self.steps.size else -1
