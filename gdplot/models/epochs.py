"""Each epoch's rows for the training loop: as they are, or shuffled into reused buffers,
the next epoch's shuffle gathered on a helper thread when the data are large."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from taskqueue import TaskQueue

#: From this many elements of X and this many epochs on, the next epoch's shuffled copy is
#: gathered on a helper thread while the current epoch trains. Below, a thread hand-off per
#: epoch, or the first touch of a second buffer, costs more than the overlap saves.
PREFETCH_MIN_ELEMENTS = 2**18
PREFETCH_MIN_EPOCHS = 4


def epoch_data(
    X: np.ndarray, y: np.ndarray, *, shuffle: bool, rng: np.random.Generator, epochs: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield each epoch's rows: as they are, or shuffled into reused buffers.

    Shuffling gathers the rows once per epoch into contiguous memory, so every batch is then a
    contiguous slice (a view), however small the batches are. On large data the gather for
    the next epoch runs on a helper thread while this epoch trains (``rng.shuffle`` and
    ``np.take`` release the GIL), into a second buffer; the random stream, and so the result,
    is the same either way.
    """
    if not shuffle:
        for _ in range(epochs):
            yield X, y
        return
    order = np.arange(X.shape[0])

    def gather(into: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        rng.shuffle(order)  # in place: a shuffle of any permutation is uniformly random
        # mode="clip" (indices are valid anyway) lets np.take write straight into `out`.
        np.take(X, order, axis=0, out=into[0], mode="clip")
        np.take(y, order, out=into[1], mode="clip")
        return into

    if X.size < PREFETCH_MIN_ELEMENTS or epochs < PREFETCH_MIN_EPOCHS:
        buffer = np.empty_like(X), np.empty_like(y)
        for _ in range(epochs):
            yield gather(buffer)
        return
    buffers = [(np.empty_like(X), np.empty_like(y)) for _ in range(2)]
    with TaskQueue(1, name="gdplot-shuffle", drain_at_exit=False) as helper:
        next_epoch = helper.submit(gather, buffers[0])
        for epoch in range(epochs):
            ready = next_epoch.result()
            if epoch + 1 < epochs:  # the buffer the last epoch trained on is free again
                next_epoch = helper.submit(gather, buffers[(epoch + 1) % 2])
            yield ready
