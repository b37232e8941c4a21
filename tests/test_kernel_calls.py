"""Unit tests of :mod:`labtools.grading.kernel_calls`, fast: no sandbox, no notebook.

The kernel's helpers (:data:`KERNEL_HELPER_SOURCE`) run here in a plain dict standing in for
a notebook's globals, as they run in the student's kernel. Expected values are facts of the
scenario (what a cell bound, what JSON makes of a value, numpy's own dtype codes), never
outputs copied from the code under test.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from labtools.grading.kernel_calls import (
    CALL_HELPER,
    DESCRIBE_HELPER,
    KERNEL_HELPER_SOURCE,
    VALUE_HELPER,
    encode_arguments,
    forget_snapshots,
    put_snapshot,
    snapshot_code,
    snapshots_in_process,
)
from opsmodel.toil_params import ToilParams


@pytest.fixture
def notebook() -> dict[str, Any]:
    """A notebook's globals with the grader's helpers defined in them, as after a run."""
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(KERNEL_HELPER_SOURCE, namespace)
    yield namespace
    forget_snapshots(namespace)


def run(namespace: dict[str, Any], code: str) -> None:
    """Run ``code`` as a cell of the notebook ``namespace``."""
    exec(code, namespace)


def call(namespace: dict[str, Any], name: str, *args: Any, snapshot: str | None = None) -> Any:
    """Call the notebook's ``name`` the way the grader does: tagged JSON in."""
    return namespace[CALL_HELPER](name, encode_arguments(args, {}), snapshot)


# --------------------------------------------------------------------------- arguments


def test_plain_arguments_travel_as_plain_json() -> None:
    payload = json.loads(encode_arguments((1, 2.5, "x", None, True), {"k": [1, 2]}))
    assert payload == {"args": [1, 2.5, "x", None, True], "kwargs": {"k": [1, 2]}}


def test_tuples_become_lists_and_numpy_scalars_python_numbers() -> None:
    payload = json.loads(encode_arguments(((1, 2), np.int64(7), np.float32(0.5)), {}))
    assert payload["args"] == [[1, 2], 7, 0.5]
    assert type(payload["args"][1]) is int


def test_arrays_are_tagged_with_their_values_and_dtype() -> None:
    payload = json.loads(encode_arguments((np.array([[1, 2], [3, 4]], dtype=np.int32),), {}))
    # numpy's dtype code of a little-endian 4-byte integer.
    assert payload["args"] == [{"__ndarray__": [[1, 2], [3, 4]], "dtype": "<i4"}]


def test_toil_params_travel_as_a_named_record() -> None:
    params = ToilParams(alert_hours=7.0)
    (record,) = json.loads(encode_arguments((params,), {}))["args"]
    assert record["__record__"] == "ToilParams"
    assert record["fields"]["alert_hours"] == 7.0
    assert record["fields"]["hourly_cost_usd"] == 125.0  # the documented default


@pytest.mark.parametrize(
    "value",
    [{1, 2}, object(), {1: "a"}, b"bytes", complex(1, 2)],
    ids=["set", "object", "int key", "bytes", "complex"],
)
def test_what_json_cannot_carry_is_refused_before_sending(value: Any) -> None:
    with pytest.raises(TypeError):
        encode_arguments((value,), {})


def test_an_unknown_record_is_refused() -> None:
    from dataclasses import dataclass

    @dataclass
    class Secret:
        answer: int = 42

    with pytest.raises(TypeError, match="Secret"):
        encode_arguments((Secret(),), {})


# --------------------------------------------------------------------------- the kernel side


def test_the_call_helper_rebuilds_arrays_and_records(notebook: dict[str, Any]) -> None:
    run(
        notebook,
        "def inspect(a, p, rows):\n"
        "    return [type(a).__name__, str(a.dtype), a.shape[0], type(p).__name__,\n"
        "            p.alert_hours, type(rows).__name__]\n",
    )
    out = call(notebook, "inspect", np.arange(3, dtype=np.float32), ToilParams(alert_hours=9), [])
    assert out == ["ndarray", "float32", 3, "ToilParams", 9.0, "list"]


def test_the_call_helper_passes_keyword_arguments(notebook: dict[str, Any]) -> None:
    run(notebook, "def power(x, *, exponent=2):\n    return x ** exponent\n")
    payload = encode_arguments((3,), {"exponent": 3})
    assert notebook[CALL_HELPER]("power", payload, None) == 27


def test_the_helpers_ignore_a_notebook_that_rebinds_json_and_numpy(
    notebook: dict[str, Any],
) -> None:
    # Names the helpers use, rebound after they were defined (a student's own json or np).
    run(notebook, "json = None\nnp = None\ndef total(a):\n    return float(a.sum())\n")
    assert call(notebook, "total", np.array([1.5, 2.5])) == 4.0


def test_a_snapshot_keeps_values_and_functions_as_they_were(notebook: dict[str, Any]) -> None:
    run(notebook, "answer = 42\ndef double(x):\n    return 2 * x\n")
    run(notebook, snapshot_code("q1"))
    run(notebook, "answer = 'changed'\ndouble = double(21)\n")
    assert notebook[VALUE_HELPER]("answer", "q1") == 42
    assert notebook[VALUE_HELPER]("answer") == "changed"  # None: the final state
    assert call(notebook, "double", 5, snapshot="q1") == 10
    assert notebook["double"] == 42  # the notebook's own globals are given back after the call


def test_a_function_sees_the_snapshots_globals_while_called(notebook: dict[str, Any]) -> None:
    # quadruple looks double up at call time: at q1, double was still the function.
    run(notebook, "def double(x):\n    return 2 * x\n")
    run(notebook, "def quadruple(x):\n    return double(double(x))\n")
    run(notebook, snapshot_code("q1"))
    run(notebook, "double = None")
    assert call(notebook, "quadruple", 3, snapshot="q1") == 12
    with pytest.raises(TypeError):  # on the final state, double is None
        call(notebook, "quadruple", 3)


def test_globals_are_given_back_when_the_function_raises(notebook: dict[str, Any]) -> None:
    run(notebook, "x = 1\ndef boom():\n    raise ValueError('no')\n")
    run(notebook, snapshot_code("q1"))
    run(notebook, "x = 2")
    with pytest.raises(ValueError):
        call(notebook, "boom", snapshot="q1")
    assert notebook["x"] == 2


def test_describe_tells_each_kind_and_what_a_later_cell_did(notebook: dict[str, Any]) -> None:
    run(
        notebook,
        "import os\nanswer = ...\nvalue = 3\ndef f():\n    return 1\ngone = 1\nkept = [1]\n",
    )
    run(notebook, snapshot_code("q1"))
    run(notebook, "f = 5\ndel gone\n")
    names = ["os", "answer", "value", "f", "gone", "kept", "never"]
    described = notebook[DESCRIBE_HELPER](names, "q1")
    assert described == {
        "os": {"kind": "module", "rebound_to": None},
        "answer": {"kind": "unanswered", "rebound_to": None},
        "value": {"kind": "value", "rebound_to": None},
        "f": {"kind": "callable", "rebound_to": "int"},
        "gone": {"kind": "value", "rebound_to": "deleted"},
        "kept": {"kind": "value", "rebound_to": None},
        "never": {"kind": "missing", "rebound_to": None},
    }
    final = notebook[DESCRIBE_HELPER](["f", "gone"], None)
    assert final == {
        "f": {"kind": "value", "rebound_to": None},
        "gone": {"kind": "missing", "rebound_to": None},
    }


def test_the_snapshot_code_binds_no_name_in_the_notebook(notebook: dict[str, Any]) -> None:
    before = set(notebook)
    run(notebook, snapshot_code("q1"))
    assert set(notebook) == before


def test_an_empty_snapshot_label_is_refused() -> None:
    # Other labels that are not identifiers: tests/test_grading_loop.py.
    with pytest.raises(ValueError, match="label"):
        snapshot_code("")


# --------------------------------------------------------------------------- in-process stores


def test_snapshots_of_two_namespaces_do_not_mix() -> None:
    first: dict[str, Any] = {"x": 1}
    second: dict[str, Any] = {"x": 2}
    try:
        exec(snapshot_code("q1"), first)
        exec(snapshot_code("q1"), second)
        assert snapshots_in_process(first)["q1"]["x"] == 1
        assert snapshots_in_process(second)["q1"]["x"] == 2
        put_snapshot(first, "q2", {"x": 10})
        assert set(snapshots_in_process(first)) == {"q1", "q2"}
        assert set(snapshots_in_process(second)) == {"q1"}
        forget_snapshots(first)
        assert snapshots_in_process(first) == {}
        assert snapshots_in_process(second)["q1"]["x"] == 2
    finally:
        forget_snapshots(first)
        forget_snapshots(second)
