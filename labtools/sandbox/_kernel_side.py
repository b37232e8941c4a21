"""Code that the grader runs inside each sandboxed kernel right after it starts.

The grader sends this file's source as a silent cell, followed by
``_ops_sandbox_install(<config JSON>)``. It is a courtesy layer for honest notebooks, never a
security boundary: the student's code runs in the same interpreter and may replace any of it.
Everything it sends back is re-checked on the trusted side (sizes, types, JSON parsing).

It installs two things (and, where the grader reads no images, turns off their rendering):

* a cap on what ``sys.stdout`` and ``sys.stderr`` send per execution, so a notebook that
  prints 50 MB is cut at the limit with a marker instead of filling the message channel;
* ``__ops_sandbox_call__(request_json)``, which looks up a global of the notebook, calls it
  (or reads it) and publishes the result as JSON text under a private MIME type. numpy
  scalars and arrays, tuples and int/float/str subclasses become plain lists, ints, floats
  and strings; anything else is refused with an error rather than approximated.
"""

# This module runs in the kernel namespace, so everything it needs lives inside the install
# function: nothing but ``__ops_sandbox_call__`` is left behind in the notebook's globals.


def _ops_sandbox_install(config_json: str) -> None:
    import json
    import sys

    from IPython import get_ipython
    from IPython.display import publish_display_data

    config = json.loads(config_json)
    output_cap = int(config["max_output_chars"])
    result_cap = int(config["max_result_bytes"])
    mime = str(config["mime"])
    # Bound now, so a notebook that later replaces json.dumps or json.loads does not change
    # what this helper produces (it only breaks its own kernel's messages).
    encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=True, separators=(",", ":"))
    decode = json.JSONDecoder().decode
    shell = get_ipython()
    # exit() and quit() in a notebook cell would stop the kernel after the cell: ipykernel's
    # exit sets keepkernel_on_exit = False itself, then calls ask_exit. A grader needs the
    # kernel, so ask_exit does nothing here.
    shell.ask_exit = lambda *_args, **_kwargs: None
    state = {"used": 0, "cut": False}

    def reset(*_args: object) -> None:
        state["used"] = 0
        state["cut"] = False

    shell.events.register("pre_execute", reset)

    if not config.get("display_images", True):
        # Nobody reads the images: figures keep their text repr and are never rendered.
        for image in ("image/png", "image/jpeg", "image/svg+xml", "application/pdf"):
            formatter = shell.display_formatter.formatters.get(image)
            if formatter is not None:
                formatter.enabled = False

    marker = f"\n[output truncated by the sandbox after {output_cap} characters]\n"

    def capped(flush_buffers):
        def capped_flush_buffers(self):
            for parent, data in flush_buffers(self):
                left = output_cap - state["used"]
                if len(data) <= left:
                    state["used"] += len(data)
                    yield parent, data
                elif not state["cut"]:
                    state["cut"] = True
                    state["used"] = output_cap
                    yield parent, data[: max(left, 0)] + marker

        return capped_flush_buffers

    # Cut where the buffered text leaves for the channel, on the class: IPython swaps the
    # instances' ``write`` in every cell (to tee output into its history), and ipykernel's
    # fd watcher (output of C code and subprocesses) writes to the same buffers.
    for cls in {type(sys.stdout), type(sys.stderr)}:
        if hasattr(cls, "_flush_buffers"):
            cls._flush_buffers = capped(cls._flush_buffers)

    def plain(value, depth, budget):
        budget[0] -= 1
        if budget[0] < 0:
            raise ValueError(f"result has more than {result_cap} elements")
        if depth > 64:
            raise ValueError("result is nested more than 64 levels deep")
        kind = type(value)
        if value is None or kind in (bool, int, float, str):
            return value
        np = sys.modules.get("numpy")
        if np is not None:
            if isinstance(value, np.ndarray):
                if value.dtype.kind not in "biufOU":
                    raise TypeError(f"numpy array of dtype {value.dtype} is not JSON-safe")
                return plain(value.tolist(), depth + 1, budget)
            if isinstance(value, np.generic):
                if isinstance(value, np.bool_):
                    return bool(value)
                if isinstance(value, np.integer):
                    return int(value)
                if isinstance(value, np.floating):
                    return float(value)
                if isinstance(value, np.str_):
                    return str.__str__(value)
                raise TypeError(f"numpy scalar of type {kind.__name__} is not JSON-safe")
        # Subclasses: take the base type's own value, never the subclass's methods.
        if isinstance(value, bool):
            return bool(value)
        if isinstance(value, int):
            return int.__int__(value)
        if isinstance(value, float):
            return float.__float__(value)
        if isinstance(value, str):
            return str.__str__(value)
        if isinstance(value, list):
            return [plain(v, depth + 1, budget) for v in list.__iter__(value)]
        if isinstance(value, tuple):
            return [plain(v, depth + 1, budget) for v in tuple.__iter__(value)]
        if isinstance(value, dict):
            out = {}
            for key, item in dict.items(value):
                if not isinstance(key, str):
                    raise TypeError(f"dict key {type(key).__name__} is not a string")
                out[str.__str__(key)] = plain(item, depth + 1, budget)
            return out
        raise TypeError(f"value of type {kind.__name__} is not JSON-safe")

    import linecache

    def own_line(exc: BaseException) -> str:
        # The innermost line of the notebook's own code, as the student wrote it: notebook
        # cells live in linecache without a file behind them (mtime None). Library frames
        # and this layer's helpers are skipped; no path is shown.
        frames = []
        tb = exc.__traceback__
        while tb is not None:
            frames.append(tb)
            tb = tb.tb_next
        for frame in reversed(frames):
            code = frame.tb_frame.f_code
            entry = linecache.cache.get(code.co_filename)
            if entry is None or entry[1] is not None or code.co_name.startswith("__ops_"):
                continue
            line = linecache.getline(code.co_filename, frame.tb_lineno).strip()
            if line:
                return f" (in your code: `{line[:120]}`)"
        return ""

    def describe(exc: BaseException) -> str:
        try:
            text = f"{type(exc).__name__}: {exc}"
        except Exception:  # a student's __str__ may raise
            text = type(exc).__name__
        try:
            text += own_line(exc)
        except Exception:  # a courtesy: never a reason to lose the error itself
            pass
        return text[:2000]

    def call(request_json: str) -> None:
        request = decode(request_json)
        payload = {"token": request["token"], "ok": False, "json": None, "error": None}
        try:
            name = request["name"]
            if name not in shell.user_ns:
                raise NameError(f"name {name!r} is not defined in the notebook")
            target = shell.user_ns[name]
            if request["mode"] == "call":
                value = target(*request["args"], **request["kwargs"])
            else:
                value = target
            text = encoder.encode(plain(value, 0, [result_cap]))
            if len(text.encode("utf-8", "surrogatepass")) > result_cap:
                raise ValueError(f"result is larger than {result_cap} bytes")
            payload["ok"], payload["json"] = True, text
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit from a student counts too
            payload["error"] = describe(exc)
        publish_display_data({mime: payload})

    shell.push({"__ops_sandbox_call__": call}, interactive=False)
