"""Data in and out: synthetic data sets (:mod:`~gdplot.data.datasets`), CSV files as people
have them (:mod:`~gdplot.data.csv_text` reads and sniffs the text, :mod:`~gdplot.data.tables`
turns columns into arrays), preprocessing (:mod:`~gdplot.data.preprocessing`), saved models
(:mod:`~gdplot.data.model_files`) and the run folders plots are written to
(:mod:`~gdplot.data.run_folder`).
"""

from gdplot.data.csv_text import DataError, read_csv_text, sniff_delimiter
from gdplot.data.datasets import make_classification, make_nonlinear, make_regression
from gdplot.data.preprocessing import split_rows, standardize
from gdplot.data.tables import load_columns, load_csv, load_table

__all__ = [
    "DataError",
    "load_columns",
    "load_csv",
    "load_table",
    "make_classification",
    "make_nonlinear",
    "make_regression",
    "read_csv_text",
    "sniff_delimiter",
    "split_rows",
    "standardize",
]
