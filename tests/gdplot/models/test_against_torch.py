"""MLPRegressorGD trains wherever PyTorch's same net does, at the same learning rate, batch
size and epochs: within 0.03 R^2 (issue 9). PyTorch trains with its own default
initialisation and ``torch.optim.SGD``; it is not a dependency, so these tests skip without it.

The default run keeps a few cases (the rates at which gdplot used to diverge in epoch 1);
``-m slow`` runs the whole grid, averaging several seeds on each side, since one seed's R^2
on the noisier tasks moves by a few hundredths.
"""

from __future__ import annotations

import numpy as np
import pytest

from gdplot import MLPRegressorGD

torch = pytest.importorskip("torch")

HIDDEN = 32
BATCH_SIZE = 32
EPOCHS = 100
TOLERANCE = 0.03  # R^2


@pytest.fixture(autouse=True)
def one_torch_thread():
    # The machine's cores are shared; a 32-unit net gains nothing from more threads.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def sin_task() -> tuple[np.ndarray, np.ndarray]:
    x = np.linspace(-3, 3, 600)[:, np.newaxis]
    return x, np.sin(x[:, 0])


def abs_task() -> tuple[np.ndarray, np.ndarray]:
    x = np.linspace(-3, 3, 600)[:, np.newaxis]
    return x, np.abs(x[:, 0])


def ring_task() -> tuple[np.ndarray, np.ndarray]:
    """A ring-shaped valley in 2-D: the distance from the unit circle."""
    X = np.random.default_rng(0).uniform(-2, 2, size=(600, 2))
    return X, np.abs(np.hypot(X[:, 0], X[:, 1]) - 1)


def diabetes_task() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's diabetes set, features and target standardised."""
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = datasets.load_diabetes(return_X_y=True)
    return (X - X.mean(axis=0)) / X.std(axis=0), (y - y.mean()) / y.std()


TASKS = {"sin": sin_task, "abs": abs_task, "ring": ring_task, "diabetes": diabetes_task}


def r_squared(y: np.ndarray, predicted: np.ndarray) -> float:
    if not np.all(np.isfinite(predicted)):
        return float("nan")
    return float(1 - np.sum((y - predicted) ** 2) / np.sum((y - y.mean()) ** 2))


def torch_r_squared(X: np.ndarray, y: np.ndarray, lr: float, seed: int) -> float:
    """``Linear-ReLU-Linear`` with PyTorch's default initialisation, trained by ``SGD(lr)`` on
    shuffled mini-batches (the last one smaller), the mean squared error, float64."""
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Linear(X.shape[1], HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 1)
    ).double()
    optimiser = torch.optim.SGD(net.parameters(), lr=lr)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)[:, None]
    for _ in range(EPOCHS):
        order = torch.randperm(X.shape[0])
        for start in range(0, X.shape[0], BATCH_SIZE):
            rows = order[start : start + BATCH_SIZE]
            optimiser.zero_grad()
            torch.nn.functional.mse_loss(net(X_t[rows]), y_t[rows]).backward()
            optimiser.step()
    with torch.no_grad():
        return r_squared(y, net(X_t)[:, 0].numpy())


def gdplot_r_squared(X: np.ndarray, y: np.ndarray, lr: float, seed: int) -> float:
    model = MLPRegressorGD(
        hidden=HIDDEN, lr=lr, epochs=EPOCHS, batch_size=BATCH_SIZE, random_state=seed
    )
    return model.fit(X, y).score(X, y)  # a DivergenceError fails the test, as it should


def compare(task: str, lr: float, seeds: range) -> None:
    X, y = TASKS[task]()
    theirs = np.mean([torch_r_squared(X, y, lr, seed) for seed in seeds])
    ours = np.mean([gdplot_r_squared(X, y, lr, seed) for seed in seeds])
    # The premise: PyTorch trains here (well above predicting the mean).
    assert theirs > 0.5, f"PyTorch itself reached only R^2 {theirs:.3f} on {task} at lr={lr}"
    assert ours >= theirs - TOLERANCE, (
        f"{task}, lr={lr}: gdplot R^2 {ours:.3f}, PyTorch {theirs:.3f} (mean of {len(seeds)})"
    )


@pytest.mark.parametrize("task, lr", [("sin", 0.1), ("ring", 0.05)])
def test_trains_where_pytorch_does(task, lr):
    compare(task, lr, seeds=range(1))


@pytest.mark.slow
@pytest.mark.parametrize("lr", [0.01, 0.05, 0.1])
@pytest.mark.parametrize("task", sorted(TASKS))
def test_trains_where_pytorch_does_on_every_task_and_rate(task, lr):
    compare(task, lr, seeds=range(4))
