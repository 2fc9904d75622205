"""Hand-written backprop against central finite differences and against PyTorch autograd."""

import doctest

import numpy as np
import pytest

import gdplot.models.nn
from gdplot.models.nn import Linear, MSELoss, ReLU, Sequential, gradcheck, numerical_gradient

RTOL, ATOL = 1e-6, 1e-8


def away_from_zero(rng, shape, margin=0.1):
    """Normal samples with |x| >= margin, so that no finite-difference step crosses a ReLU kink."""
    x = rng.normal(size=shape)
    return np.where(np.abs(x) < margin, np.copysign(margin, x) + x, x)


def network(rng, n_in=3, n_hidden=5):
    return Sequential(
        ("hidden", Linear(n_in, n_hidden, rng=rng)),
        ("relu", ReLU()),
        ("output", Linear(n_hidden, 1, rng=rng)),
    )


def weighted_sum(layer, weights):
    """A scalar loss L = sum(weights * layer(x)), whose gradient w.r.t. the output is weights."""
    return lambda x: float(np.sum(weights * layer.forward(x)))


# -- each layer against finite differences ------------------------------------------------------


def test_linear_forward_is_x_at_weight_plus_bias():
    rng = np.random.default_rng(0)
    layer = Linear(3, 2, rng=rng)
    assert layer.params["weight"].shape == (3, 2) and layer.params["bias"].shape == (2,)
    x = rng.normal(size=(4, 3))
    np.testing.assert_allclose(layer.forward(x), x @ layer.params["weight"] + layer.params["bias"])


def test_linear_gradients_match_finite_differences():
    rng = np.random.default_rng(1)
    layer = Linear(4, 3, rng=rng)
    x, weights = rng.normal(size=(6, 4)), rng.normal(size=(6, 3))
    loss = weighted_sum(layer, weights)
    loss(x)
    grad_x = layer.backward(weights)
    np.testing.assert_allclose(grad_x, numerical_gradient(loss, x), rtol=RTOL, atol=ATOL)
    for name in ("weight", "bias"):
        analytic = layer.grads[name].copy()
        assert analytic.shape == layer.params[name].shape
        numeric = numerical_gradient(lambda _: loss(x), layer.params[name])
        np.testing.assert_allclose(analytic, numeric, rtol=RTOL, atol=ATOL)


def test_relu_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    relu = ReLU()
    x, weights = away_from_zero(rng, (5, 4)), rng.normal(size=(5, 4))
    loss = weighted_sum(relu, weights)
    loss(x)
    np.testing.assert_allclose(
        relu.backward(weights), numerical_gradient(loss, x), rtol=RTOL, atol=ATOL
    )


def test_relu_gradient_at_zero_is_zero():
    relu = ReLU()
    np.testing.assert_array_equal(relu.forward(np.array([[-1.0, 0.0, 2.0]])), [[0.0, 0.0, 2.0]])
    np.testing.assert_array_equal(relu.backward(np.array([[5.0, 5.0, 5.0]])), [[0.0, 0.0, 5.0]])


def test_mse_loss_value_and_gradient():
    rng = np.random.default_rng(3)
    pred, target = rng.normal(size=(7, 2)), rng.normal(size=(7, 2))
    loss_fn = MSELoss()
    value = loss_fn.forward(pred, target)
    assert isinstance(value, float) and value == pytest.approx(np.mean((pred - target) ** 2))
    analytic = loss_fn.backward()
    assert analytic.shape == pred.shape
    numeric = numerical_gradient(lambda p: MSELoss().forward(p, target), pred)
    np.testing.assert_allclose(analytic, numeric, rtol=RTOL, atol=ATOL)


def test_linear_relu_linear_mse_chain_matches_finite_differences():
    rng = np.random.default_rng(4)
    model, loss_fn = network(rng), MSELoss()
    x, target = rng.normal(size=(8, 3)), rng.normal(size=(8, 1))

    def loss(_):
        return loss_fn.forward(model.forward(x), target)

    loss(None)
    grad_x = model.backward(loss_fn.backward())
    analytic = {name: grad.copy() for name, _, grad in model.parameters()}
    assert list(analytic) == ["hidden.weight", "hidden.bias", "output.weight", "output.bias"]
    for name, param, _ in model.parameters():
        assert gradcheck(loss, param, analytic[name], rtol=RTOL, atol=ATOL), name
    np.testing.assert_allclose(
        grad_x,
        numerical_gradient(lambda xx: loss_fn.forward(model.forward(xx), target), x),
        rtol=RTOL,
        atol=ATOL,
    )


def test_gradcheck_catches_a_wrong_gradient():
    x = np.array([1.0, -2.0, 3.0])

    def cube_sum(v):
        return float(np.sum(v**3))

    assert gradcheck(cube_sum, x, 3 * x**2)
    assert not gradcheck(cube_sum, x, 3 * x**2 * (1 + 1e-4))
    np.testing.assert_array_equal(x, [1.0, -2.0, 3.0])  # restored after perturbing
    with pytest.raises(TypeError, match=r"writeable float64"):
        numerical_gradient(cube_sum, np.array([1, 2, 3]))


# -- against PyTorch autograd (torch is not a dependency) -------------------------------------


def test_forward_backward_match_pytorch_autograd():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    model, loss_fn = network(rng, n_in=4, n_hidden=6), MSELoss()
    x, target = rng.normal(size=(10, 4)), rng.normal(size=(10, 1))
    loss = loss_fn.forward(model.forward(x), target)
    grad_x = model.backward(loss_fn.backward())

    tensors = {
        name: torch.tensor(param, requires_grad=True) for name, param, _ in model.parameters()
    }
    x_t = torch.tensor(x, requires_grad=True)
    hidden = torch.relu(x_t @ tensors["hidden.weight"] + tensors["hidden.bias"])
    out = hidden @ tensors["output.weight"] + tensors["output.bias"]
    loss_t = torch.nn.functional.mse_loss(out, torch.tensor(target))
    loss_t.backward()

    assert loss == pytest.approx(loss_t.item(), rel=1e-12)
    np.testing.assert_allclose(grad_x, x_t.grad.numpy(), rtol=1e-10, atol=1e-12)
    for name, _, grad in model.parameters():
        np.testing.assert_allclose(grad, tensors[name].grad.numpy(), rtol=1e-10, atol=1e-12)


def test_each_layer_matches_pytorch_autograd():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    x, grad_out = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    layer = Linear(3, 2, rng=rng)
    layer.forward(x)
    grad_x = layer.backward(grad_out)
    x_t = torch.tensor(x, requires_grad=True)
    weight_t = torch.tensor(layer.params["weight"], requires_grad=True)
    bias_t = torch.tensor(layer.params["bias"], requires_grad=True)
    (x_t @ weight_t + bias_t).backward(torch.tensor(grad_out))
    np.testing.assert_allclose(grad_x, x_t.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.grads["weight"], weight_t.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.grads["bias"], bias_t.grad.numpy(), rtol=1e-12)

    relu, z = ReLU(), np.array([[-1.0, 0.0, 2.0]])
    relu.forward(z)
    z_t = torch.tensor(z, requires_grad=True)
    torch.relu(z_t).backward(torch.ones(1, 3, dtype=torch.float64))
    np.testing.assert_array_equal(relu.backward(np.ones((1, 3))), z_t.grad.numpy())  # 0 at 0 too


# -- structure and errors ---------------------------------------------------------------------


def test_sequential_names_layers_and_yields_live_parameters():
    rng = np.random.default_rng(7)
    unnamed = Sequential(Linear(2, 3, rng=rng), ReLU(), Linear(3, 1, rng=rng))
    assert [name for name, _, _ in unnamed.parameters()] == [
        "0.weight",
        "0.bias",
        "2.weight",
        "2.bias",
    ]
    model = network(rng)
    for name, param, grad in model.parameters():
        layer = dict(model.layers)[name.split(".")[0]]
        key = name.split(".")[1]
        assert param is layer.params[key] and grad is layer.grads[key]
    nested = Sequential(("block", model))
    assert next(nested.parameters())[0] == "block.hidden.weight"


def test_linear_initialisation_is_pytorchs_default_and_seeded():
    layer = Linear(50, 400, rng=np.random.default_rng(0))
    weight, bias = layer.params["weight"], layer.params["bias"]
    bound = 1 / np.sqrt(50)  # kaiming_uniform_(a=sqrt(5)) for weights, the same for biases
    for param in (weight, bias):
        assert np.abs(param).max() <= bound and np.abs(param).max() > 0.95 * bound
    assert weight.var() == pytest.approx(1 / (3 * 50), rel=0.05)  # U(-b, b): Var = b^2 / 3
    assert abs(weight.mean()) < 0.01 * bound
    np.testing.assert_array_equal(
        weight, Linear(50, 400, rng=np.random.default_rng(0)).params["weight"]
    )
    np.testing.assert_array_equal(weight, Linear(50, 400, rng=0).params["weight"])


@pytest.mark.parametrize(
    "make", [lambda: Linear(2, 1), ReLU, lambda: network(np.random.default_rng(0))]
)
def test_backward_before_forward_is_a_runtime_error(make):
    layer = make()
    with pytest.raises(RuntimeError, match=r"backward\(\) called without a forward\(\) first"):
        layer.backward(np.ones((1, 1)))


def test_backward_twice_is_a_runtime_error():
    layer = Linear(2, 1, rng=0)
    layer.forward(np.ones((3, 2)))
    layer.backward(np.ones((3, 1)))
    with pytest.raises(RuntimeError):
        layer.backward(np.ones((3, 1)))
    loss_fn = MSELoss()
    with pytest.raises(RuntimeError, match=r"MSELoss.backward\(\) called without a forward"):
        loss_fn.backward()


def test_shape_errors_are_value_errors():
    layer = Linear(3, 2, rng=0)
    with pytest.raises(ValueError, match=r"expects an input of shape \(batch, 3\), got \(4, 2\)"):
        layer.forward(np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"got \(3,\)"):
        layer.forward(np.ones(3))
    layer.forward(np.ones((4, 3)))
    with pytest.raises(
        ValueError, match=r"grad_out of shape \(4, 2\) \(the forward batch\), got \(5, 2\)"
    ):
        layer.backward(np.ones((5, 2)))
    relu = ReLU()
    relu.forward(np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"ReLU.backward expects grad_out of shape \(2, 2\)"):
        relu.backward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"same shape, got \(3, 1\) and \(3,\)"):
        MSELoss().forward(np.ones((3, 1)), np.ones(3))


@pytest.mark.parametrize(
    "args, error, message",
    [
        ((0, 2), ValueError, r"in_features must be an int >= 1, got in_features=0"),
        ((2, 1.5), TypeError, r"out_features must be an int >= 1, got out_features=1.5"),
    ],
)
def test_linear_checks_its_sizes(args, error, message):
    with pytest.raises(error, match=message):
        Linear(*args)


def test_sequential_checks_its_layers():
    with pytest.raises(ValueError, match=r"at least one layer"):
        Sequential()
    with pytest.raises(TypeError, match=r"layer '1' has no forward/backward"):
        Sequential(ReLU(), "not a layer")
    with pytest.raises(ValueError, match=r"name 'a' is used twice"):
        Sequential(("a", ReLU()), ("a", ReLU()))


def test_docstring_examples_run():
    assert doctest.testmod(gdplot.models.nn).failed == 0
