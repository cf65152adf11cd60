"""Comparing the package's DataFrames with the CSV the program writes for the same rows."""

import io
import math

import pandas as pd


def csv_frame(text):
    """The program's CSV as a DataFrame: only an empty field is missing, numbers parsed
    exactly (the CSV holds them at full precision)."""
    return pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""], float_precision="round_trip")


def _cell(v):
    # CSV writes an empty string and an empty cell alike.
    if v is None or v == "" or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, str) and v in ("true", "false"):
        return v == "true"
    if hasattr(v, "item"):  # numpy scalars
        v = v.item()
    return v


def rows(frame):
    """The frame's cells as plain Python values, None for missing, row by row."""
    return [[_cell(v) for v in row] for row in frame.astype(object).itertuples(index=False, name=None)]


def assert_same_rows(frame, csv_text):
    expected = csv_frame(csv_text)
    assert list(frame.columns) == list(expected.columns)
    assert rows(frame) == rows(expected)
