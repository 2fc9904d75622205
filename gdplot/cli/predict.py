"""``gdplot predict MODEL CSV``: a saved model's predictions for a CSV file's rows, as CSV
on stdout.
"""

from __future__ import annotations

import argparse
import csv
import sys
from typing import Any

import numpy as np

from gdplot.cli.errors import USAGE_ERROR, CommandError, note
from gdplot.data.csv_text import DataError, uses_decimal_comma
from gdplot.data.model_files import (
    ModelFileError,
    PredictionOverflow,
    load_model,
)
from gdplot.data.tables import LARGEST_VALUE, load_columns

# --------------------------------------------------------------------------- predict


def run_predict(args: argparse.Namespace) -> int:
    """Write the CSV's rows with a ``prediction`` column (and ``probability``) to stdout."""
    try:
        model = load_model(args.model)
    except ModelFileError as exc:
        raise CommandError(str(exc), USAGE_ERROR) from None
    try:
        text, X, complete = load_columns(args.csv, model.feature_names, largest=LARGEST_VALUE)
    except DataError as exc:
        raise CommandError(str(exc), USAGE_ERROR) from None
    # Numbers written as the input writes them: 1,5 in a file of decimal commas.
    comma = uses_decimal_comma(text, model.feature_names)

    def cell(value: Any) -> str:
        written = _cell(value)
        return written.replace(".", ",") if comma and isinstance(value, float) else written

    predictions: list[str] = [""] * len(text.rows)
    probabilities: list[str] = [""] * len(text.rows)
    rows = np.flatnonzero(complete)
    classifier = model.classes is not None
    if rows.size:
        try:
            predicted = model.predict(X[rows])
        except PredictionOverflow as exc:
            line = text.rows[rows[exc.row]][0]
            raise CommandError(
                f"{args.csv!r} line {line}: {exc.what} overflows float64's range "
                f"with the model {args.model!r}; nothing was written", USAGE_ERROR
            ) from None
        for i, value in zip(rows, predicted, strict=True):
            predictions[i] = cell(value.item() if isinstance(value, np.generic) else value)
        if classifier:
            for i, p in zip(rows, model.predict_proba(X[rows])[:, 1], strict=True):
                probabilities[i] = cell(float(p))
    missing = len(text.rows) - rows.size
    if missing:
        note(f"{missing} row(s) miss a value the model needs: their prediction is empty")
    added = ["prediction", *(["probability"] if classifier else [])]
    replaced = [name for name in added if name in text.columns]
    if replaced:
        note(f"the input's column(s) {', '.join(replaced)} are replaced by this prediction")
    keep = [i for i, name in enumerate(text.columns) if name not in added]
    writer = csv.writer(sys.stdout, delimiter=text.delimiter, lineterminator="\n")
    writer.writerow([text.columns[i] for i in keep] + added)
    for index, (_, cells) in enumerate(text.rows):
        extra = [predictions[index], *([probabilities[index]] if classifier else [])]
        writer.writerow([cells[i] for i in keep] + extra)
    sys.stdout.flush()
    return 0


def _cell(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return str(int(number)) if number.is_integer() and abs(number) < 2**53 else repr(number)
    return str(value)
