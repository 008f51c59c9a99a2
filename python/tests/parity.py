"""Helpers shared by the parity tests: run one operation on the standard module and on
ftarray, and compare what happened (result, exception type and message, the array after).

Exception messages are compared after one normalisation only: ftarray's type is named
`ftarray.array` where the standard one is `array.array`.
"""

from __future__ import annotations

import array as std
import math
import warnings

import ftarray as ft

MODULES = (std, ft)


def norm_message(text: str) -> str:
    return text.replace("ftarray.arrayiterator", "array.arrayiterator").replace(
        "ftarray.array", "array.array"
    )


def norm(x):
    """A comparable form of a result: arrays by type code and items, floats by repr (so NaN
    equals NaN and -0.0 differs from 0.0), containers item by item."""
    if isinstance(x, (std.array, ft.array)):
        return ("array", x.typecode, [norm(v) for v in x.tolist()])
    if isinstance(x, float):
        return ("float", "nan" if math.isnan(x) else repr(x))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [norm(v) for v in x])
    if isinstance(x, (bytes, bytearray, str, int, bool)) or x is None:
        return x
    if hasattr(x, "dtype") and hasattr(x, "tolist"):  # numpy arrays and scalars
        return ("numpy", type(x).__name__, str(x.dtype), norm(x.tolist()))
    if isinstance(x, memoryview):
        return ("memoryview", x.format, x.itemsize, norm(x.tolist()))
    return ("other", type(x).__name__)


def outcome(fn, *, message=True):
    """("ok", result) or ("raised", exception type name, message)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return ("ok", norm(fn()))
        except Exception as e:  # noqa: BLE001 - every exception is part of the behaviour
            return ("raised", type(e).__name__, norm_message(str(e)) if message else "")


def state(a):
    """The array's type code, bytes and items (or the error its items give: a byteswapped
    character array may hold code points no `str` can)."""
    return (a.typecode, a.tobytes(), outcome(a.tolist))


def new(mod, typecode, items=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return mod.array(typecode) if items is None else mod.array(typecode, items)
