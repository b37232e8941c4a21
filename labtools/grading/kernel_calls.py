"""Arguments for the student's functions, as tagged JSON, and the kernel's snapshots.

The trusted side never sends or receives a pickle. Arguments that JSON cannot carry as they
are (numpy arrays, the ``ToilParams`` record) travel as tagged objects and are rebuilt in the
student's kernel by :data:`KERNEL_HELPER_SOURCE`, which the grader runs there after the
student's cells. Results come back through the sandbox's own JSON conversion.

Each question is graded on the notebook as it stood right after that question's check cell:
the grader runs :func:`snapshot_code` there, which keeps a shallow copy of the notebook's
globals outside them (on the IPython shell object). The helpers call a function, or read a
value, with the globals of a snapshot put back for the duration of the call, so that a
later ``psi = psi(a, b)`` changes neither ``psi`` nor the ``skew_check`` that calls it.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np

__all__ = [
    "CALL_HELPER",
    "DESCRIBE_HELPER",
    "KERNEL_HELPER_SOURCE",
    "VALUE_HELPER",
    "encode_arguments",
    "forget_snapshots",
    "put_snapshot",
    "snapshot_code",
    "snapshots_in_process",
]

#: Names of the helpers defined in the student's kernel.
CALL_HELPER = "__ops_grader_call"
DESCRIBE_HELPER = "__ops_grader_describe"
VALUE_HELPER = "__ops_grader_value"
# Attribute of the kernel's ``sys`` module that holds the snapshots: outside the notebook's
# globals, so neither a later cell's names nor the snapshots themselves collide. Snapshots are
# keyed by the id of the namespace they copy, so two namespaces in one process (an in-process
# kernel beside another) never read each other's.
_SNAPSHOTS_ATTRIBUTE = "_ops_grader_snapshots"

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
def snapshot_code(label: str) -> str:
    """Code that keeps the notebook's globals, as they are now, as snapshot ``label``.

    One expression statement: it binds no name in the notebook.
    """
    if not label.isidentifier():
        raise ValueError(f"label must be an identifier, got {label!r}")
    # The code runs as a cell, so its globals() are the notebook's namespace, whatever runs
    # it (an IPython shell or a plain exec).
    return (
        f'__import__("sys").__dict__.setdefault({_SNAPSHOTS_ATTRIBUTE!r}, {{}})'
        f"[(id(globals()), {label!r})] = dict(globals())"
    )


def snapshots_in_process(namespace: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The snapshots :func:`snapshot_code` took of ``namespace`` in this process, by label.

    For kernels that run in the grader's own process (the impostor audit's, the tests'
    fakes); a sandboxed kernel keeps its snapshots in its own process.
    """
    import sys

    store = sys.__dict__.get(_SNAPSHOTS_ATTRIBUTE, {})
    return {label: snap for (owner, label), snap in store.items() if owner == id(namespace)}


def put_snapshot(namespace: dict[str, Any], label: str, globals_: dict[str, Any]) -> None:
    """Set this process's snapshot ``label`` of ``namespace`` (the audit restores one)."""
    import sys

    sys.__dict__.setdefault(_SNAPSHOTS_ATTRIBUTE, {})[(id(namespace), label)] = globals_


def forget_snapshots(namespace: dict[str, Any]) -> None:
    """Drop this process's snapshots of ``namespace`` (an in-process kernel's reset)."""
    import sys

    store = sys.__dict__.get(_SNAPSHOTS_ATTRIBUTE)
    if store is not None:
        for key in [key for key in store if key[0] == id(namespace)]:
            del store[key]
        if not store:
            del sys.__dict__[_SNAPSHOTS_ATTRIBUTE]


KERNEL_HELPER_SOURCE = f"""
def __ops_grader_globals(snapshot, _store=__import__("sys").__dict__):
    # The notebook's globals as of a snapshot (None: as they are now).
    if snapshot is None:
        return None
    return _store.get({_SNAPSHOTS_ATTRIBUTE!r}, {{}}).get((id(globals()), snapshot))


def {VALUE_HELPER}(name, snapshot=None, _globals=__ops_grader_globals):
    snap = _globals(snapshot)
    return (globals() if snap is None else snap)[name]


def {CALL_HELPER}(name, payload, snapshot=None, *, _json=__import__("json"),
                  _np=__import__("numpy"), _import=__import__("importlib").import_module,
                  _records={_KNOWN_RECORDS!r}, _globals=__ops_grader_globals):
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
    args, kwargs = decode(data["args"]), decode(data["kwargs"])
    snap = _globals(snapshot)
    if snap is None:
        return globals()[name](*args, **kwargs)
    # The notebook's globals put back as they were at the snapshot for the call, then
    # restored: functions look their globals up at call time, in this very dict. The call
    # is made from this frame, so the student's function's caller is this helper.
    current = dict(globals())
    globals().clear()
    globals().update(snap)
    try:
        return globals()[name](*args, **kwargs)
    finally:
        globals().clear()
        globals().update(current)


def {DESCRIBE_HELPER}(names, snapshot=None, _globals=__ops_grader_globals):
    # Each name's kind at the snapshot, and whether a later cell bound it to something else.
    seen = _globals(snapshot)
    seen = globals() if seen is None else seen
    now = globals()
    described = {{}}
    for n in names:
        if n not in seen:
            kind = "missing"
        elif seen[n] is Ellipsis:
            kind = "unanswered"
        elif isinstance(seen[n], type(__import__("os"))):
            kind = "module"
        elif callable(seen[n]):
            kind = "callable"
        else:
            kind = "value"
        later = None
        if n in seen and (n not in now or now[n] is not seen[n]):
            later = "deleted" if n not in now else type(now[n]).__name__
        described[n] = {{"kind": kind, "rebound_to": later}}
    return described
"""
