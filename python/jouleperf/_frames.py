"""The library's tables (one schema for every output format) as pandas DataFrames.

A table arrives from the extension as {"name", "title", "columns", "help", "rows"}; each
column keeps its name, which carries its unit (energy_per_batch_j, duration_s). An empty
cell is missing (NaN or None), never zero.
"""

import json


def _column(values):
    import numpy as np

    present = [v for v in values if v is not None]
    complete = len(present) == len(values)
    if present and all(isinstance(v, bool) for v in present):
        return np.array(values, dtype=bool) if complete else np.array(values, dtype=object)
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        if complete and all(isinstance(v, int) for v in present):
            return np.array(values, dtype=np.int64)
        return np.array([np.nan if v is None else float(v) for v in values], dtype=float)
    return np.array(values, dtype=object)


def table_frame(table):
    """A DataFrame of one table dict; attrs hold its name, title and each column's help."""
    import pandas as pd

    columns = list(table["columns"])
    data = {name: _column([row[i] for row in table["rows"]]) for i, name in enumerate(columns)}
    frame = pd.DataFrame(data, columns=columns)
    frame.attrs["name"] = table["name"]
    frame.attrs["title"] = table["title"]
    frame.attrs["help"] = dict(zip(columns, table["help"]))
    return frame


class Document:
    """What one library call produced: `header` and `footer` lines for people (what ran,
    MEASURED / ESTIMATED / SIMULATED), `tables` (name -> DataFrame, on demand) and `json`
    (what the matching command prints with --json)."""

    def __init__(self, doc):
        self.header = list(doc["header"])
        self.footer = list(doc["footer"])
        self._tables = {t["name"]: t for t in doc["tables"]}
        self.json = json.loads(doc["json"])

    @property
    def table_names(self):
        """The names of the document's tables, in order."""
        return list(self._tables)

    def table(self, name):
        """The table `name` as a DataFrame (KeyError naming the tables that exist)."""
        if name not in self._tables:
            raise KeyError(f"no table {name!r} (tables: {', '.join(self._tables) or 'none'})")
        return table_frame(self._tables[name])

    def to_frame(self, name=None):
        """The first table (or the one named) as a DataFrame."""
        if name is None:
            if not self._tables:
                raise KeyError("the document has no table")
            name = next(iter(self._tables))
        return self.table(name)

    def _repr_lines(self):
        return self.header + [f"tables: {', '.join(self._tables) or 'none'}"] + self.footer

    def __repr__(self):
        return "\n".join(self._repr_lines())

    def _repr_html_(self):
        import html

        parts = [f"<p>{html.escape(line)}</p>" for line in self.header]
        for name in self._tables:
            parts.append(f"<h4>{html.escape(self._tables[name]['title'] or name)}</h4>")
            parts.append(self.table(name).to_html(index=False, na_rep="", float_format=lambda v: f"{v:.4g}"))
        parts += [f"<p>{html.escape(line)}</p>" for line in self.footer]
        return "\n".join(parts)
