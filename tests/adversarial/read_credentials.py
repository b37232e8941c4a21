"""Attack 7: read credentials left in the grader's config or environment.

The test puts a fake token in this run's ``ops_lab.json`` and a fake secret in the grader's
environment. The cell collects every config file, environment and process command line it
can read (``/proc`` included) into ``_adv_loot``; the grader reads that variable after the
notebook ran. Expected: neither secret, nor any of the config's content, is in the loot or
in ``results.json``.
"""

GROUP = "snoop"

CELLS = [
    (
        "TRACK = ",
        r"""
import os

_adv_loot = []
for _p in ("@SOURCE@/ops_lab.json", "/autograder/source/ops_lab.json", "../source/ops_lab.json",
           "/autograder/source/otter_config.json", "/autograder/submission_metadata.json",
           "@SOURCE@/../submission_metadata.json", "/root/.netrc", "/root/.ssh/id_rsa",
           "/etc/shadow"):
    try:
        _adv_loot.append(open(_p).read()[:2000])
    except OSError:
        pass
_adv_loot.append(repr(dict(os.environ)))
for _pid in os.listdir("/proc"):
    if _pid.isdigit():
        for _what in ("environ", "cmdline"):
            try:
                with open(f"/proc/{_pid}/{_what}", "rb") as _f:
                    _adv_loot.append(_f.read()[:4000].decode("utf-8", "replace"))
            except OSError:
                pass
print(len(_adv_loot))
""",
    )
]

SCORES: dict[str, float] = {}
CELL_PROBLEM = None
# Strings the loot and results.json must not hold: both secrets and a key of ops_lab.json.
PROBES_EXCLUDE = {"_adv_loot": ["@SECRET@", "@ENV_SECRET@", "notebook_name"]}
RESULTS_EXCLUDE = ["@SECRET@", "@ENV_SECRET@"]
