"""A tiny multilayer perceptron (one hidden layer), trained and run with numpy/scipy.

Small enough to ship as JSON (a few kB of coefficients) and to run on every shore pixel
of a chip in a few milliseconds. Training minimises the class-weighted logistic loss
with an L2 penalty by L-BFGS (:func:`scipy.optimize.minimize`), so no machine-learning
framework is needed to rebuild the committed model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Mlp:
    """Standardise → ``tanh`` hidden layer → logistic output."""

    feature_names: tuple[str, ...]
    """Input features, in column order."""
    mean: F64
    """Per-feature mean used to standardise inputs."""
    scale: F64
    """Per-feature standard deviation used to standardise inputs."""
    w1: F64
    """Hidden weights, ``(n_features, n_hidden)``."""
    b1: F64
    """Hidden biases, ``(n_hidden,)``."""
    w2: F64
    """Output weights, ``(n_hidden,)``."""
    b2: float
    """Output bias."""
    meta: Mapping[str, Any] = field(default_factory=dict)
    """Thresholds and provenance stored beside the coefficients."""

    def __post_init__(self) -> None:
        n = len(self.feature_names)
        if self.mean.shape != (n,) or self.scale.shape != (n,) or self.w1.shape[0] != n:
            raise ValueError(f"MLP shapes disagree with {n} features")
        if self.b1.shape != (self.w1.shape[1],) or self.w2.shape != (self.w1.shape[1],):
            raise ValueError("MLP hidden-layer shapes disagree")

    def predict(self, x: F32) -> F32:
        """Probability of the positive class for each row of ``x``."""
        z = (x - self.mean.astype(np.float32)) / self.scale.astype(np.float32)
        h = np.tanh(z @ self.w1.astype(np.float32) + self.b1.astype(np.float32))
        logit = h @ self.w2.astype(np.float32) + np.float32(self.b2)
        out: F32 = (1.0 / (1.0 + np.exp(-np.clip(logit, -30, 30)))).astype(np.float32)
        return out

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form (coefficients rounded to 6 significant digits)."""

        def r(a: F64) -> list[float]:
            return [float(f"{v:.6g}") for v in np.asarray(a).ravel()]

        return {
            "kind": "mlp-tanh-1",
            "feature_names": list(self.feature_names),
            "mean": r(self.mean),
            "scale": r(self.scale),
            "n_hidden": int(self.w1.shape[1]),
            "w1": r(self.w1),
            "b1": r(self.b1),
            "w2": r(self.w2),
            "b2": float(f"{self.b2:.6g}"),
            "meta": dict(self.meta),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Mlp:
        """Rebuild from :meth:`to_json` output.

        Raises:
            ValueError: When the document is not an ``mlp-tanh-1`` model.
        """
        if doc.get("kind") != "mlp-tanh-1":
            raise ValueError(f"unknown model kind {doc.get('kind')!r}; expected 'mlp-tanh-1'")
        names = tuple(str(n) for n in doc["feature_names"])
        hidden = int(doc["n_hidden"])
        return cls(
            feature_names=names,
            mean=np.asarray(doc["mean"], dtype=np.float64),
            scale=np.asarray(doc["scale"], dtype=np.float64),
            w1=np.asarray(doc["w1"], dtype=np.float64).reshape(len(names), hidden),
            b1=np.asarray(doc["b1"], dtype=np.float64),
            w2=np.asarray(doc["w2"], dtype=np.float64),
            b2=float(doc["b2"]),
            meta=dict(doc.get("meta", {})),
        )

    @classmethod
    def load(cls, path: Path) -> Mlp:
        """Read a model written by :meth:`save`."""
        return cls.from_json(json.loads(path.read_text()))

    def save(self, path: Path) -> None:
        """Write the model as indented JSON."""
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n")


def fit_mlp(
    x: F32,
    y: NDArray[np.bool_],
    *,
    feature_names: Sequence[str],
    n_hidden: int = 16,
    l2: float = 1e-3,
    max_iter: int = 400,
    seed: int = 0,
) -> Mlp:
    """Fit an :class:`Mlp` by L-BFGS on the class-balanced logistic loss.

    Args:
        x: ``(n, n_features)`` training rows.
        y: ``(n,)`` labels.
        feature_names: Column names of ``x``.
        n_hidden: Hidden units.
        l2: Weight-decay strength (on standardised inputs).
        max_iter: L-BFGS iterations.
        seed: Seed of the initial weights.

    Returns:
        The fitted model.
    """
    xd = x.astype(np.float64)
    mean = xd.mean(axis=0)
    scale = xd.std(axis=0) + 1e-9
    z = (xd - mean) / scale
    t = y.astype(np.float64)
    n_pos = max(t.sum(), 1.0)
    n_neg = max(len(t) - t.sum(), 1.0)
    weight = np.where(t > 0, 0.5 / n_pos, 0.5 / n_neg)
    n_feat = z.shape[1]
    rng = np.random.default_rng(seed)
    sizes = (n_feat * n_hidden, n_hidden, n_hidden, 1)

    def unpack(theta: F64) -> tuple[F64, F64, F64, float]:
        a, b, c, _ = np.cumsum(sizes)
        return (
            theta[:a].reshape(n_feat, n_hidden),
            theta[a:b],
            theta[b:c],
            float(theta[c]),
        )

    def loss(theta: F64) -> tuple[float, F64]:
        w1, b1, w2, b2 = unpack(theta)
        h = np.tanh(z @ w1 + b1)
        logit = h @ w2 + b2
        p = 1.0 / (1.0 + np.exp(-np.clip(logit, -30, 30)))
        eps = 1e-12
        value = -np.sum(weight * (t * np.log(p + eps) + (1 - t) * np.log(1 - p + eps)))
        value += 0.5 * l2 * (np.sum(w1**2) + np.sum(w2**2))
        d_logit = weight * (p - t)
        g_w2 = h.T @ d_logit + l2 * w2
        g_b2 = d_logit.sum()
        d_h = np.outer(d_logit, w2) * (1 - h**2)
        g_w1 = z.T @ d_h + l2 * w1
        g_b1 = d_h.sum(axis=0)
        grad = np.concatenate([g_w1.ravel(), g_b1, g_w2, [g_b2]])
        return float(value), grad

    theta0 = np.concatenate(
        [
            rng.normal(0, 1 / np.sqrt(n_feat), n_feat * n_hidden),
            np.zeros(n_hidden),
            rng.normal(0, 1 / np.sqrt(n_hidden), n_hidden),
            [0.0],
        ]
    )
    result = minimize(loss, theta0, jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
    w1, b1, w2, b2 = unpack(np.asarray(result.x, dtype=np.float64))
    return Mlp(tuple(feature_names), mean, scale, w1, b1, w2, b2)


@dataclass(frozen=True, eq=False)
class Logistic:
    """Standardise → linear → logistic: the offshore-object classifier."""

    feature_names: tuple[str, ...]
    """Input features, in column order."""
    mean: F64
    """Per-feature mean used to standardise inputs."""
    scale: F64
    """Per-feature standard deviation used to standardise inputs."""
    coef: F64
    """Weights on the standardised features, ``(n_features,)``."""
    intercept: float
    """Bias."""
    threshold: float = 0.5
    """Objects scoring below this are dropped."""

    def __post_init__(self) -> None:
        n = len(self.feature_names)
        if self.mean.shape != (n,) or self.scale.shape != (n,) or self.coef.shape != (n,):
            raise ValueError(f"logistic model shapes disagree with {n} features")

    def predict(self, x: F32) -> F32:
        """Probability of the positive class for each row of ``x``."""
        z = (x.astype(np.float64) - self.mean) / self.scale
        logit = np.clip(z @ self.coef + self.intercept, -30, 30)
        out: F32 = (1.0 / (1.0 + np.exp(-logit))).astype(np.float32)
        return out

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form (6 significant digits)."""

        def r(a: F64) -> list[float]:
            return [float(f"{v:.6g}") for v in np.asarray(a).ravel()]

        return {
            "kind": "logistic-1",
            "feature_names": list(self.feature_names),
            "mean": r(self.mean),
            "scale": r(self.scale),
            "coef": r(self.coef),
            "intercept": float(f"{self.intercept:.6g}"),
            "threshold": self.threshold,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Logistic:
        """Rebuild from :meth:`to_json` output.

        Raises:
            ValueError: When the document is not a ``logistic-1`` model.
        """
        if doc.get("kind") != "logistic-1":
            raise ValueError(f"unknown model kind {doc.get('kind')!r}; expected 'logistic-1'")
        return cls(
            feature_names=tuple(str(n) for n in doc["feature_names"]),
            mean=np.asarray(doc["mean"], dtype=np.float64),
            scale=np.asarray(doc["scale"], dtype=np.float64),
            coef=np.asarray(doc["coef"], dtype=np.float64),
            intercept=float(doc["intercept"]),
            threshold=float(doc.get("threshold", 0.5)),
        )


def fit_logistic(
    x: F32, y: NDArray[np.bool_], *, feature_names: Sequence[str], l2: float = 1.0
) -> Logistic:
    """Class-balanced, L2-penalised logistic regression by L-BFGS.

    Args:
        x: ``(n, n_features)`` training rows.
        y: ``(n,)`` labels.
        feature_names: Column names of ``x``.
        l2: Penalty on the weights of the standardised features (the inverse of
            scikit-learn's ``C``, in units of the class-balanced sample weight sum).
    """
    xd = x.astype(np.float64)
    mean = xd.mean(axis=0)
    scale = xd.std(axis=0) + 1e-9
    z = (xd - mean) / scale
    t = y.astype(np.float64)
    n = len(t)
    n_pos = max(t.sum(), 1.0)
    n_neg = max(n - t.sum(), 1.0)
    weight = np.where(t > 0, n / (2 * n_pos), n / (2 * n_neg))

    def loss(theta: F64) -> tuple[float, F64]:
        w, b = theta[:-1], theta[-1]
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w + b, -30, 30)))
        eps = 1e-12
        value = -np.sum(weight * (t * np.log(p + eps) + (1 - t) * np.log(1 - p + eps)))
        value += 0.5 * l2 * np.sum(w**2)
        d = weight * (p - t)
        grad = np.concatenate([z.T @ d + l2 * w, [d.sum()]])
        return float(value), grad

    theta0 = np.zeros(z.shape[1] + 1)
    result = minimize(loss, theta0, jac=True, method="L-BFGS-B", options={"maxiter": 500})
    theta = np.asarray(result.x, dtype=np.float64)
    return Logistic(tuple(feature_names), mean, scale, theta[:-1], float(theta[-1]))
