"""Arguments for the student's functions, as tagged JSON.

The trusted side never sends or receives a pickle. Arguments that JSON cannot carry as they
are (numpy arrays, the ``ToilParams`` record) travel as tagged objects and are rebuilt in the
student's kernel by :data:`KERNEL_HELPER_SOURCE`, which the grader runs there after the
student's cells. Results come back through the sandbox's own JSON conversion.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np

__all__ = ["encode_arguments", "KERNEL_HELPER_SOURCE", "CALL_HELPER", "DESCRIBE_HELPER"]

#: Names of the helpers defined in the student's kernel.
CALL_HELPER = "__ops_grader_call"
DESCRIBE_HELPER = "__ops_grader_describe"

# Dataclasses the kernel may rebuild, by class name -> module in the student's support
# package. Anything else is refused on the trusted side before it is sent.
_KNOWN_RECORDS = {"ToilParams": "opsmodel.toil_params"}


def _encode(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if name not in _KNOWN_RECORDS:
            raise TypeError(f"cannot send a {name} to the student's kernel")
        fields = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"__record__": name, "fields": fields}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("only string keys can be sent to the student's kernel")
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot send a {type(value).__name__} to the student's kernel")


def encode_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """JSON text of the arguments of one call, with arrays and records tagged."""
    return json.dumps({"args": [_encode(a) for a in args], "kwargs": _encode(kwargs)})


#: Run in the student's kernel after the notebook. It decodes tagged arguments and calls a
#: global by name. It uses only names bound at definition time, so a notebook that later
#: rebinds ``json`` or ``np`` cannot change what it does (and the notebook has already run).
KERNEL_HELPER_SOURCE = f"""
def {CALL_HELPER}(name, payload, *, _json=__import__("json"), _np=__import__("numpy"),
                  _import=__import__("importlib").import_module, _records={_KNOWN_RECORDS!r}):
    def decode(value):
        if isinstance(value, dict):
            if "__ndarray__" in value:
                return _np.asarray(value["__ndarray__"], dtype=value["dtype"])
            if "__record__" in value:
                module = _import(_records[value["__record__"]])
                fields = {{k: decode(v) for k, v in value["fields"].items()}}
                return getattr(module, value["__record__"])(**fields)
            return {{k: decode(v) for k, v in value.items()}}
        if isinstance(value, list):
            return [decode(v) for v in value]
        return value
    data = _json.loads(payload)
    function = globals()[name]
    return function(*decode(data["args"]), **decode(data["kwargs"]))


def {DESCRIBE_HELPER}(names):
    kinds = {{}}
    for n in names:
        if n not in globals():
            kinds[n] = "missing"
        elif globals()[n] is Ellipsis:
            kinds[n] = "unanswered"
        elif isinstance(globals()[n], type(__import__("os"))):
            kinds[n] = "module"
        elif callable(globals()[n]):
            kinds[n] = "callable"
        else:
            kinds[n] = "value"
    return kinds
"""
