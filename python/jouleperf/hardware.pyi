from typing import Sequence, Union
import os

import pandas

from . import Document

def list(files: Sequence[Union[str, os.PathLike[str]]] = ...) -> pandas.DataFrame: ...
def show(name: str, files: Sequence[Union[str, os.PathLike[str]]] = ...) -> Document: ...
