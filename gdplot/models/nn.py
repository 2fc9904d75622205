"""Hand-written backpropagation, micrograd style: each ``backward`` sits right below its
``forward``.

A layer maps a batch ``x`` of shape ``(batch, in_features)`` to ``(batch, out_features)``.
``forward`` keeps what ``backward`` needs; ``backward(grad_out)`` takes the gradient of the loss
w.r.t. the layer's output, stores the gradients w.r.t. its parameters in ``grads`` (same keys
and shapes as ``params``) and returns the gradient w.r.t. its input. Layers hold no optimiser
state: whoever trains them updates ``params`` in place from ``grads`` (see
``gdplot.models.base.GradientDescentEstimator._take_step``).

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> model = Sequential(("hidden", Linear(3, 8, rng=rng)), ("relu", ReLU()),
    ...                    ("output", Linear(8, 1, rng=rng)))
    >>> loss_fn = MSELoss()
    >>> x, target = rng.normal(size=(5, 3)), rng.normal(size=(5, 1))
    >>> loss = loss_fn.forward(model.forward(x), target)
    >>> grad_x = model.backward(loss_fn.backward())
    >>> [name for name, param, grad in model.parameters()]
    ['hidden.weight', 'hidden.bias', 'output.weight', 'output.bias']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from gdplot.validation import check_int, check_random_state


class Layer:
    """Base of the layers: ``forward``, ``backward``, and ``params``/``grads`` dicts."""

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def parameters(self) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        """Yield ``(name, param, grad)`` for each parameter; the arrays are the live ones."""
        for name, param in self.params.items():
            yield name, param, self.grads[name]

    def _forwarded(self, saved: np.ndarray | None) -> np.ndarray:
        if saved is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward() called without a forward() first "
                "(each forward() allows one backward())"
            )
        return saved


def _as_batch(x: Any, n_features: int, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != n_features:
        raise ValueError(f"{name} expects an input of shape (batch, {n_features}), got {x.shape}")
    return x


class Linear(Layer):
    """``y = x @ weight + bias`` with ``weight`` ``(in_features, out_features)`` and ``bias``
    ``(out_features,)``.

    Initialisation (from ``rng``: ``None``, an int seed or a ``Generator``): PyTorch's default
    for ``torch.nn.Linear``, weights and biases both ``U(-b, b)`` with ``b = 1 / sqrt(in_features)``
    (for the weights that is ``kaiming_uniform_`` with ``a = sqrt(5)``; variance
    ``1 / (3 in_features)``). Training that works with PyTorch's net at some learning rate then
    works here at the same rate: He-uniform's ``sqrt(6 / in_features)``, 2.45 times wider, made
    mini-batch SGD diverge at rates PyTorch trains at. The biases spread the ReLU kinks out.
    """

    def __init__(self, in_features: int, out_features: int, *, rng: Any = None) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features")
        self.out_features = check_int(out_features, "out_features")
        rng = check_random_state(rng)
        bound = 1.0 / np.sqrt(self.in_features)
        self.params["weight"] = rng.uniform(-bound, bound, (self.in_features, self.out_features))
        self.params["bias"] = rng.uniform(-bound, bound, self.out_features)
        self.grads = {name: np.zeros_like(param) for name, param in self.params.items()}
        self._x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = _as_batch(x, self.in_features, "Linear.forward")
        out = self._x @ self.params["weight"]
        out += self.params["bias"]
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        x = self._forwarded(self._x)
        grad_out = _as_batch(grad_out, self.out_features, "Linear.backward")
        if grad_out.shape[0] != x.shape[0]:
            raise ValueError(
                f"Linear.backward expects grad_out of shape {(x.shape[0], self.out_features)} "
                f"(the forward batch), got {grad_out.shape}"
            )
        self._x = None
        np.matmul(x.T, grad_out, out=self.grads["weight"])
        np.sum(grad_out, axis=0, out=self.grads["bias"])
        return grad_out @ self.params["weight"].T

    def __repr__(self) -> str:
        return f"Linear({self.in_features}, {self.out_features})"


class ReLU(Layer):
    """``max(x, 0)`` elementwise. Its gradient at exactly 0 is taken to be 0 (as in PyTorch)."""

    def __init__(self) -> None:
        super().__init__()
        self._positive: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        self._positive = x > 0
        return np.maximum(x, 0.0)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        positive = self._forwarded(self._positive)
        grad_out = np.asarray(grad_out, dtype=np.float64)
        if grad_out.shape != positive.shape:
            raise ValueError(
                f"ReLU.backward expects grad_out of shape {positive.shape}, got {grad_out.shape}"
            )
        self._positive = None
        return grad_out * positive

    def __repr__(self) -> str:
        return "ReLU()"


class Sequential(Layer):
    """Layers applied in order. Each argument is a layer or a ``(name, layer)`` pair; unnamed
    layers are named by position (``"0"``, ``"1"``, ...). Parameter names are
    ``"<layer name>.<param name>"``, e.g. ``"hidden.weight"``."""

    def __init__(self, *layers: Any) -> None:
        super().__init__()
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        self.layers: list[tuple[str, Layer]] = []
        for position, item in enumerate(layers):
            name, layer = item if isinstance(item, tuple) else (str(position), item)
            if not (
                callable(getattr(layer, "forward", None))
                and callable(getattr(layer, "backward", None))
            ):
                raise TypeError(f"Sequential layer {name!r} has no forward/backward: {layer!r}")
            if name in dict(self.layers):
                raise ValueError(f"Sequential layer name {name!r} is used twice")
            self.layers.append((name, layer))

    def forward(self, x: np.ndarray) -> np.ndarray:
        for _, layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        for _, layer in reversed(self.layers):
            grad_out = layer.backward(grad_out)
        return grad_out

    def parameters(self) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        for layer_name, layer in self.layers:
            for name, param, grad in layer.parameters():
                yield f"{layer_name}.{name}", param, grad

    def __repr__(self) -> str:
        inner = ", ".join(f"({name!r}, {layer!r})" for name, layer in self.layers)
        return f"Sequential({inner})"


class MSELoss:
    """Mean squared error over all elements: ``mean((pred - target) ** 2)``."""

    def __init__(self) -> None:
        self._diff: np.ndarray | None = None

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        pred = np.asarray(pred, dtype=np.float64)
        target = np.asarray(target, dtype=np.float64)
        if pred.shape != target.shape:
            raise ValueError(
                "MSELoss needs pred and target of the same shape, "
                f"got {pred.shape} and {target.shape}"
            )
        self._diff = pred - target
        flat = self._diff.reshape(-1)
        return float(flat @ flat) / flat.shape[0]

    def backward(self) -> np.ndarray:
        """The gradient w.r.t. ``pred``: ``2 (pred - target) / pred.size``, shape of ``pred``."""
        if self._diff is None:
            raise RuntimeError("MSELoss.backward() called without a forward() first")
        diff, self._diff = self._diff, None
        return diff * (2.0 / diff.size)


def numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, *, eps: float = 1e-6
) -> np.ndarray:
    """Central finite differences ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)`` for every
    element ``i`` of ``x`` (any shape; float64, modified in place and restored).

    ``f(x)`` returns a scalar; ``x`` may be an array that ``f`` reads without being passed it,
    such as a layer's ``params["weight"]``.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64 or not x.flags.writeable:
        raise TypeError("numerical_gradient needs x to be a writeable float64 numpy array")
    grad = np.empty_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        f_plus = f(x)
        x[index] = original - eps
        f_minus = f(x)
        x[index] = original
        grad[index] = (f_plus - f_minus) / (2 * eps)
    return grad


def gradcheck(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    analytic: np.ndarray,
    *,
    eps: float = 1e-6,
    rtol: float = 1e-6,
    atol: float = 1e-8,
) -> bool:
    """Whether ``analytic`` matches the central-difference gradient of ``f`` at ``x`` within
    ``|analytic - numeric| <= atol + rtol * |numeric|`` elementwise."""
    numeric = numerical_gradient(f, x, eps=eps)
    return bool(np.allclose(analytic, numeric, rtol=rtol, atol=atol))
