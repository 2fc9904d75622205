"""Loss-landscape maths: the loss over a grid of parameters, shared ranges, and the
principal-direction view (:class:`PathView`) through a path of more than two parameters.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gdplot.models.snapshot import Snapshot
from gdplot.plots.live_plot import GRID_POINTS, MAX_VIEW_POINTS, padded_range

# Bounds the (grid points x samples) block of the loss grid held in memory at once.
_GRID_BLOCK_ELEMENTS = 2_000_000


def loss_grid(snapshot: Snapshot, a_values: np.ndarray, b_values: np.ndarray) -> np.ndarray:
    """The loss on the plotting sample over a grid of the first two flat parameters.

    ``a_values`` (shape ``(na,)``) replaces the first entry of ``[*coef, intercept]``,
    ``b_values`` (shape ``(nb,)``) the second; the others keep their current values.
    Returns shape ``(nb, na)`` (rows follow ``b``, as contour plots expect).
    """
    design = _design(snapshot)
    flat = np.append(snapshot.params["coef"], snapshot.params["intercept"])
    a_grid, b_grid = np.meshgrid(a_values, b_values)
    points = np.repeat(flat[None, :], a_grid.size, axis=0)
    points[:, 0], points[:, 1] = a_grid.ravel(), b_grid.ravel()
    return losses_at(snapshot, points, design).reshape(a_grid.shape)


def losses_at(snapshot: Snapshot, points: np.ndarray,
              design: np.ndarray | None = None) -> np.ndarray:
    """The loss on the plotting sample at each flat parameter vector ``[*coef, intercept]``
    of ``points`` ``(m, n_params)``; shape ``(m,)``. Computed in blocks of bounded size."""
    design = _design(snapshot) if design is None else design
    y = np.asarray(snapshot.y, dtype=float)
    loss_of_z = snapshot.maths.loss_of_z
    out = np.empty(len(points))
    block = max(1, _GRID_BLOCK_ELEMENTS // max(1, len(design)))
    for start in range(0, len(points), block):
        stop = start + block
        out[start:stop] = loss_of_z(points[start:stop] @ design.T, y)
    return out


def surface_ranges(snapshots: Sequence[Snapshot]) -> tuple[np.ndarray, np.ndarray]:
    """The ``(a_values, b_values)`` grid of the two-parameter surface plot that shows every
    snapshot's path.

    It also takes in the minimum where it is known (see :func:`known_minimum`; else for
    linear models the least-squares optimum of the two parameters), so the bowl shows where
    descent is heading, not only where it has been.
    """
    points = []
    for snapshot in snapshots:
        path_taken = drawn_path(snapshot)
        points.append(path_taken[:, :2])
        minimum = known_minimum(snapshot)
        if minimum is not None:
            points.append(np.array([minimum]))
        elif snapshot.maths.task == "regression":  # a linear least-squares model
            design = _design(snapshot)
            flat = path_taken[-1]
            target = snapshot.y - design[:, 2:] @ flat[2:]
            optimum = np.linalg.lstsq(design[:, :2], target, rcond=None)[0]
            if np.all(np.isfinite(optimum)):
                points.append(optimum[None, :])
    if not points:
        raise ValueError("surface_ranges needs at least one snapshot, got none")
    stacked = np.vstack(points)
    return padded_range(stacked[:, 0]), padded_range(stacked[:, 1])


class PathView:
    """A 2-D view of a parameter path in which every path point sits on its own loss.

    Coordinates: ``reference + a * u + b * v``, with ``reference`` the path's start and ``u``,
    ``v`` the path's two principal directions about it (Li et al. 2018, "Visualizing
    the Loss Landscape of Neural Nets"). A plane holds only three points of a path in many
    dimensions, so the surface is a *sheet* through the path: at ``(a, b)`` it adds the
    off-plane offset of the path points, interpolated by inverse squared distance (exact at
    each point). So the loss drawn under each path point is that point's real loss.
    """

    def __init__(self, path_taken: np.ndarray, keep: Sequence[int] = ()) -> None:
        path_taken = np.asarray(path_taken, dtype=float)
        count = len(path_taken)
        spread = np.linspace(0, count - 1, min(count, MAX_VIEW_POINTS)).round().astype(int)
        #: Indices (epochs) of the path points drawn: the sheet passes through exactly these.
        self.nodes = np.array(sorted({*spread.tolist(), *(i for i in keep if 0 <= i < count)}))
        points = path_taken[self.nodes]
        self.reference = points[0]  # the start: it stays put while the path grows
        offsets = points - self.reference
        self.u, self.v = _principal_directions(offsets)
        self.coords = np.column_stack([offsets @ self.u, offsets @ self.v])
        self.residuals = offsets - np.outer(self.coords[:, 0], self.u) - np.outer(
            self.coords[:, 1], self.v)

    def drawn(self, epoch: int) -> np.ndarray:
        """The view coordinates of the nodes up to ``epoch`` (an animation's frame)."""
        return self.coords[self.nodes <= epoch]

    def project(self, points: np.ndarray) -> np.ndarray:
        """View coordinates ``(m, 2)`` of flat parameters ``points`` ``(m, n_params)``: on the
        sheet exactly for the path's own points (an animation draws prefixes of it)."""
        offsets = np.asarray(points, dtype=float) - self.reference
        return np.column_stack([offsets @ self.u, offsets @ self.v])

    def ranges(self, points: int = GRID_POINTS) -> tuple[np.ndarray, np.ndarray]:
        return (padded_range(self.coords[:, 0], points), padded_range(self.coords[:, 1], points))

    def params_at(self, coords: np.ndarray) -> np.ndarray:
        """The flat parameters at view coordinates ``coords`` ``(m, 2)``: ``(m, n_params)``."""
        coords = np.asarray(coords, dtype=float)
        squared = ((coords[:, None, :] - self.coords[None, :, :]) ** 2).sum(axis=2)
        exact = squared <= 1e-24 * max(1.0, float(np.abs(self.coords).max()) ** 2)
        with np.errstate(divide="ignore"):
            weights = np.where(exact, 0.0, 1.0 / squared)
        hit = exact.any(axis=1)
        weights[hit] = exact[hit]  # on a path point: that point's offset, exactly
        weights /= weights.sum(axis=1, keepdims=True)
        return (self.reference + np.outer(coords[:, 0], self.u) + np.outer(coords[:, 1], self.v)
                + weights @ self.residuals)

    def loss_grid(self, snapshot: Snapshot, a_values: np.ndarray,
                  b_values: np.ndarray) -> np.ndarray:
        """The loss on the plotting sample over the view's grid, shape ``(nb, na)``."""
        a_grid, b_grid = np.meshgrid(a_values, b_values)
        params = self.params_at(np.column_stack([a_grid.ravel(), b_grid.ravel()]))
        return losses_at(snapshot, params).reshape(a_grid.shape)


def path_view(snapshot: Snapshot) -> PathView:
    """The :class:`PathView` of ``snapshot``'s parameter path (its recorded steps, if any)."""
    return PathView(drawn_path(snapshot))


def _principal_directions(offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two orthonormal directions: the top principal directions of ``offsets`` ``(m, d)``,
    completed with coordinate axes where the path has fewer than two; each oriented so that
    the offsets lie on its positive side on average."""
    dims = offsets.shape[1]
    directions: list[np.ndarray] = []
    if np.any(offsets):
        _, singular, right = np.linalg.svd(offsets, full_matrices=False)
        scale = singular[0]
        directions = [right[i] for i in range(min(2, len(singular)))
                      if singular[i] > 1e-12 * scale]
    for axis in range(dims):
        if len(directions) == 2:
            break
        candidate = np.eye(dims)[axis]
        for d in directions:
            candidate = candidate - (candidate @ d) * d
        norm = np.linalg.norm(candidate)
        if norm > 1e-6:
            directions.append(candidate / norm)
    # An SVD fixes a direction only up to its sign, and which sign it returns can change when
    # the path grows by a point: a live view would then mirror from one frame to the next
    # (and leave its axes' ranges, so redraw its background). The mean side of the path moves
    # little per point; on real fits it never flipped where "the farthest point's side" did.
    total = offsets.sum(axis=0)
    u, v = (-d if total @ d < 0 else d for d in directions)
    return u, v


def _design(snapshot: Snapshot) -> np.ndarray:
    """The plotting sample with a column of ones: ``design @ [*coef, intercept]`` is ``z``."""
    X = np.asarray(snapshot.X, dtype=float)
    return np.column_stack([X, np.ones(len(X))])


def surface_path(snapshot: Snapshot) -> np.ndarray:
    """The snapshot's parameter path, shape ``(epoch + 1, n_params)``."""
    if snapshot.path is None:
        raise ValueError("the 'surface' plot needs the snapshot's parameter path, got path=None")
    return np.asarray(snapshot.path, dtype=float)


# --------------------------------------------------------------------------- one-off charts


def drawn_path(snapshot: Snapshot) -> np.ndarray:
    """The path a surface draws: the recorded steps when the fit recorded them (the zig-zag
    of stochastic and mini-batch descent), ending at the current parameters; else the path
    of epochs."""
    path = surface_path(snapshot)
    if snapshot.step_path is None or len(snapshot.step_path) == 0:
        return path
    steps = np.asarray(snapshot.step_path, dtype=float)
    if np.array_equal(steps[-1], path[-1]):
        return steps
    return np.vstack([steps, path[-1:]])


def known_minimum(snapshot: Snapshot) -> tuple[float, float] | None:
    """Where the loss of a two-parameter model is lowest, when that is known: the
    least-squares solution of a linear regression, or for a classifier the point Newton's
    method converges to from the current parameters; ``None`` past two parameters, or if
    Newton's method does not converge (on separable data there is no finite minimum)."""
    path = surface_path(snapshot)
    if path.shape[1] != 2:
        return None
    design = _design(snapshot)
    y = np.asarray(snapshot.y, dtype=float)
    if snapshot.maths.task == "regression":
        optimum = np.linalg.lstsq(design, y, rcond=None)[0]
        return (float(optimum[0]), float(optimum[1])) if np.all(np.isfinite(optimum)) else None
    theta = path[-1].copy()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(50):
            p = snapshot.maths.link(design @ theta)
            gradient = design.T @ (p - y) / len(y)
            hessian = (design * (p * (1 - p))[:, None]).T @ design / len(y)
            try:
                move = np.linalg.solve(hessian, gradient)
            except np.linalg.LinAlgError:
                return None
            theta = theta - move
            if not np.all(np.isfinite(theta)) or np.abs(theta).max() > 1e6:
                return None
            if np.linalg.norm(move) < 1e-10 * (1 + np.linalg.norm(theta)):
                return float(theta[0]), float(theta[1])
    return None
