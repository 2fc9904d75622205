"""CSV files shaped like the public data sets people try first, generated (no downloads).

Each writer returns the path it wrote. The shapes, column kinds, missing cells and
target scales follow the originals; the values are synthetic, with a known signal.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np


def penguins(path: Path, n: int = 344, seed: int = 0) -> Path:
    """Like seaborn's penguins: text species/island/sex, 4 measurements, empty cells.

    Rows 3 and 271 (0-based) miss every measurement (lines 5 and 273); 11 rows miss ``sex``.
    ``body_mass_g`` is about ``50 * flipper_length_mm - 6000`` (+- 300).
    """
    rng = np.random.default_rng(seed)
    species = rng.choice(["Adelie", "Chinstrap", "Gentoo"], n)
    island = rng.choice(["Torgersen", "Biscoe", "Dream"], n)
    bill = rng.normal(44, 5, n)
    depth = rng.normal(17, 2, n)
    flipper = rng.normal(200, 14, n)
    mass = 50 * flipper - 6000 + 20 * (bill - 44) + rng.normal(0, 300, n)
    sex = rng.choice(["MALE", "FEMALE"], n)
    sex[rng.choice(n, 11, replace=False)] = ""
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["species", "island", "bill_length_mm", "bill_depth_mm",
                         "flipper_length_mm", "body_mass_g", "sex"])
        for i in range(n):
            row = [species[i], island[i], f"{bill[i]:.1f}", f"{depth[i]:.1f}",
                   f"{flipper[i]:.0f}", f"{mass[i]:.0f}", sex[i]]
            if i in (3, 271):
                row[2:6] = ["", "", "", ""]
            writer.writerow(row)
    return path


def diabetes(path: Path, n: int = 442, seed: int = 1) -> Path:
    """Like scikit-learn's diabetes (unscaled): 10 features, target ``progression``
    152 +- 77, of which a linear model explains about half."""
    rng = np.random.default_rng(seed)
    age = rng.normal(48, 13, n).round()
    sex = rng.choice([1.0, 2.0], n)
    bmi = rng.normal(26.4, 4.4, n).round(1)
    bp = rng.normal(94.6, 13.8, n).round(2)
    serum = rng.normal(size=(n, 6)) * [34, 30, 13, 1.3, 0.5, 11] + [189, 115, 50, 4, 4.6, 91]
    signal = 0.55 * (bmi - 26.4) / 4.4 + 0.35 * (bp - 94.6) / 13.8 + 0.3 * (serum[:, 4] - 4.6) / 0.5
    target = 152 + 77 * (signal / signal.std() * 0.72 + 0.69 * rng.normal(size=n))
    target = np.clip(target, 25, 346).round()
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6",
                         "progression"])
        for i in range(n):
            writer.writerow([age[i], sex[i], bmi[i], bp[i], *serum[i].round(4), target[i]])
    return path


def breast_cancer(path: Path, n: int = 569, seed: int = 2) -> Path:
    """Like the Wisconsin breast-cancer table: an ``id`` column, 30 measurements on very
    different scales, and a text ``diagnosis`` of ``B`` (357) or ``M`` (212)."""
    rng = np.random.default_rng(seed)
    malignant = np.zeros(n, dtype=bool)
    malignant[rng.choice(n, 212, replace=False)] = True
    base = rng.normal(size=(n, 30)) + 1.6 * malignant[:, None] * rng.uniform(0.3, 1, 30)
    scales = np.geomspace(0.001, 1000, 30)
    table = base * scales + 5 * scales
    names = [f"{kind} {what}" for kind in ("mean", "se", "worst")
             for what in ("radius", "texture", "perimeter", "area", "smoothness", "compactness",
                          "concavity", "concave points", "symmetry", "fractal dimension")]
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["id", "diagnosis", *names])
        for i in range(n):
            writer.writerow([842302 + 17 * i, "M" if malignant[i] else "B",
                             *(f"{v:.6g}" for v in table[i])])
    return path


def pandas_indexed(path: Path, n: int = 120, seed: int = 3) -> Path:
    """As pandas ``DataFrame.to_csv()`` writes it: an unnamed index column of 0..n-1.

    ``y = 3 a - 2 b + 1`` (+- 0.3).
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = X @ [3.0, -2.0] + 1.0 + rng.normal(0, 0.3, n)
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["", "a", "b", "y"])
        for i in range(n):
            writer.writerow([i, repr(float(X[i, 0])), repr(float(X[i, 1])), repr(float(y[i]))])
    return path


def semicolon(path: Path, n: int = 120, seed: int = 4) -> Path:
    """As a European spreadsheet exports it: ``;`` between cells, ``,`` for decimals.

    ``price = 2 size + 50`` (+- 1).
    """
    rng = np.random.default_rng(seed)
    size = rng.uniform(30, 150, n)
    price = 2 * size + 50 + rng.normal(0, 1, n)
    lines = ["size;rooms;price"]
    for i in range(n):
        rooms = int(size[i] // 25) + 1
        lines.append(f"{size[i]:.2f};{rooms};{price[i]:.2f}".replace(".", ","))
    path.write_text("\n".join(lines) + "\n")
    return path
