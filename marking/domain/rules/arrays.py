"""What the numpy code shares: int64 array types, bounds against overflow, argument checks."""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

#: Bounds in the vectorised code, so that no intermediate value can overflow int64
#: there (2·N·step < 2**58): marks, steps and tolerances up to about 10⁹ marks, up to
#: 65,536 marks per response. The scalar code has no bound.
ARRAY_LIMIT = 2**40
MAX_COLUMNS = 2**16

IntArray: TypeAlias = npt.NDArray[np.int64]
StatusArray: TypeAlias = npt.NDArray[np.int8]


def int_array(name: str, value: Any) -> IntArray:
    """``value`` as an int64 array; TypeError naming ``name`` for anything but integers."""
    array = np.asarray(value)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must be an integer array in milli units, not {array.dtype}")
    return array.astype(np.int64, copy=False)


def first_true(mask: npt.NDArray[np.bool_]) -> int:
    """The flat index of the first True in ``mask`` (for naming an offending row)."""
    return int(np.argmax(mask))
