"""Where a batch's submissions are: the input forms, who submitted what, the unpacked zips.

Input forms, detected by :func:`detect_submissions`:

``files``
    A folder of notebooks or zips, one per student (``jdoe.ipynb``, ``asmith.zip``); the
    student id is the file name without its extension. Other files are ignored (and logged).
``folders``
    A folder of sub-folders, one per student (``jdoe/ops_scale.ipynb``); the student id is the
    sub-folder's name. The sub-folder is graded as Gradescope's ``submission/`` would be.
``gradescope``
    Gradescope's "Export Submissions": ``submission_metadata.yml`` next to one
    ``submission_<id>`` folder per submission. Names, SIDs and emails of the submitters come
    from the metadata (a group submission lists them all, joined by ``;``). The export's zip,
    or a folder holding the unzipped export folder, are accepted as they are.

A zipped export and a zipped autograder are unpacked into the output folder first
(:func:`unpack_submissions`, :func:`unpack_autograder`).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from labtools.files import unzip_fresh
from opsmodel._validation import InvalidInputError

__all__ = [
    "FORMS",
    "METADATA_NAME",
    "BatchSubmission",
    "DetectedSubmissions",
    "detect_submissions",
    "unpack_submissions",
    "unpack_autograder",
]

#: The input forms :func:`detect_submissions` recognises.
FORMS = ("files", "folders", "gradescope")
METADATA_NAME = "submission_metadata.yml"
_SUBMISSION_SUFFIXES = (".ipynb", ".zip")
# Operating-system litter that is never a submission.
_LITTER = {"__MACOSX", ".ipynb_checkpoints", ".DS_Store", "Thumbs.db", "desktop.ini"}
_UNSAFE_KEY_CHARS = re.compile(r"[^A-Za-z0-9._@+-]+")
_MAX_KEY_CHARS = 100


@dataclass(frozen=True)
class BatchSubmission:
    """One submission of the batch and who it belongs to.

    Attributes
    ----------
    key : str
        File-name-safe name, unique in the batch: ``results/<key>.json``,
        ``feedback/<key>.txt``.
    path : Path
        The notebook or zip file (``files`` form) or the folder graded.
    student_id : str
        The file or folder name, or the submitters' SIDs (Gradescope), joined by ``;``.
    name, email : str
        The submitters' names and emails when known (Gradescope), joined by ``;``.
    """

    key: str
    path: Path
    student_id: str
    name: str = ""
    email: str = ""


@dataclass(frozen=True)
class DetectedSubmissions:
    """What :func:`detect_submissions` found: the form, the submissions, what it ignored."""

    form: str
    root: Path
    submissions: tuple[BatchSubmission, ...]
    warnings: tuple[str, ...] = ()


def _visible(path: Path) -> bool:
    return not path.name.startswith(".") and path.name not in _LITTER


def _safe_key(text: str) -> str:
    key = _UNSAFE_KEY_CHARS.sub("_", text).strip("._")
    return key[:_MAX_KEY_CHARS] or "submission"


def _with_unique_keys(
    items: list[BatchSubmission], warnings: list[str]
) -> tuple[BatchSubmission, ...]:
    """Disambiguate keys that collide (``a b`` and ``a_b``, ``jdoe.ipynb`` and ``jdoe.zip``)."""
    taken: set[str] = set()
    unique = []
    for item in sorted(items, key=lambda s: (s.key, str(s.path))):
        key, n = item.key, 1
        while key.lower() in taken:  # lower(): case-insensitive file systems collide too
            n += 1
            key = f"{item.key}~{n}"
        if key != item.key:
            warnings.append(f"{item.path.name}: key {item.key!r} already used, named {key!r}")
        taken.add(key.lower())
        unique.append(replace(item, key=key))
    return tuple(unique)


# --------------------------------------------------------------------------- Gradescope export


class _LenientLoader(yaml.SafeLoader):
    """SafeLoader that reads Ruby-tagged nodes (``!ruby/object:...``) as plain data."""


def _construct_tagged(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_LenientLoader.add_multi_constructor("!", _construct_tagged)


def _field(record: dict[Any, Any], name: str) -> Any:
    # Gradescope writes Ruby symbols as keys (":submitters", ":sid"); accept plain keys too.
    return record.get(f":{name}", record.get(name))


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _read_metadata(path: Path) -> dict[str, list[dict[str, str]]]:
    """Submission folder -> its submitters (name, sid, email), from Gradescope's metadata."""
    try:
        # _LenientLoader is a SafeLoader: tags build plain data, never Python objects.
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LenientLoader)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            f"submissions: {path} is not readable YAML ({type(exc).__name__}: {exc})"
        ) from exc
    if not isinstance(data, dict):
        raise InvalidInputError(
            f"submissions: {path} must map each submission folder to its submitters, "
            f"got {type(data).__name__}"
        )
    people: dict[str, list[dict[str, str]]] = {}
    for folder, record in data.items():
        submitters = _field(record, "submitters") if isinstance(record, dict) else None
        people[str(folder)] = [
            {k: _text(_field(s, k)) for k in ("name", "sid", "email")}
            for s in (submitters if isinstance(submitters, list) else [])
            if isinstance(s, dict)
        ]
    return people


def _gradescope(root: Path) -> DetectedSubmissions:
    warnings: list[str] = []
    metadata = _read_metadata(root / METADATA_NAME)
    folders = {p.name: p for p in root.iterdir() if p.is_dir() and _visible(p)}
    items = []
    for name, folder in sorted(folders.items()):
        if name not in metadata and not name.startswith("submission_"):
            warnings.append(f"{name}/: not a submission folder of the export, ignored")
            continue
        submitters = metadata.get(name)
        if submitters is None:
            warnings.append(f"{name}/: missing from {METADATA_NAME}, graded without names")
            submitters = []
        sids = [s["sid"] for s in submitters if s["sid"]]
        everyone_has_sid = bool(submitters) and len(sids) == len(submitters)
        items.append(
            BatchSubmission(
                key=_safe_key("+".join(sids) if everyone_has_sid else name),
                path=folder,
                student_id=";".join(sids) or name,
                name="; ".join(s["name"] for s in submitters if s["name"]),
                email=";".join(s["email"] for s in submitters if s["email"]),
            )
        )
    warnings += [
        f"{name}: listed in {METADATA_NAME} but its folder is missing"
        for name in sorted(set(metadata) - set(folders))
    ]
    return DetectedSubmissions(
        "gradescope", root, _with_unique_keys(items, warnings), tuple(warnings)
    )


# --------------------------------------------------------------------------- detection


def detect_submissions(submissions: Path) -> DetectedSubmissions:
    """Find every submission in a folder, and the form the folder has.

    Parameters
    ----------
    submissions : Path, an existing folder
        A folder of notebooks or zips (``files``), of per-student sub-folders (``folders``),
        or a Gradescope export (``gradescope``: ``submission_metadata.yml`` in the folder, or
        in its only sub-folder).

    Returns
    -------
    DetectedSubmissions
        The form, the folder the submissions are in, the submissions sorted by key, and what
        was ignored or renamed (for the log).

    Raises
    ------
    InvalidInputError
        If ``submissions`` is not a folder, holds no submission, mixes notebook files with
        sub-folders (ambiguous: move one or the other), or has unreadable metadata.

    Notes
    -----
    Hidden entries (a leading dot) and operating-system litter (``__MACOSX``,
    ``.ipynb_checkpoints``) are never submissions. Keys are the student ids with characters
    outside ``A-Za-z0-9._@+-`` replaced by ``_``; colliding keys get ``~2``, ``~3``.

    Examples
    --------
    >>> detect_submissions(Path("export")).form  # doctest: +SKIP
    'gradescope'
    """
    root = Path(submissions)
    if not root.is_dir():
        raise InvalidInputError(
            f"submissions must be a folder or a zip of a Gradescope export, got {str(root)!r}"
        )
    if (root / METADATA_NAME).is_file():
        return _gradescope(root)
    children = sorted(p for p in root.iterdir() if _visible(p))
    # Gradescope's zip unpacks to one ``assignment_<id>_export/`` folder.
    if len(children) == 1 and (children[0] / METADATA_NAME).is_file():
        return _gradescope(children[0])
    files = [p for p in children if p.is_file() and p.suffix.lower() in _SUBMISSION_SUFFIXES]
    folders = [p for p in children if p.is_dir()]
    warnings = [
        f"{p.name}: not a notebook, zip or folder, ignored"
        for p in children
        if p.is_file() and p not in files
    ]
    if files and folders:
        raise InvalidInputError(
            f"submissions must hold either notebook/zip files or per-student sub-folders, "
            f"not both; {root} has {len(files)} files ({files[0].name}, ...) and "
            f"{len(folders)} sub-folders ({folders[0].name}, ...)"
        )
    if not files and not folders:
        raise InvalidInputError(
            f"submissions must hold notebooks, zips, sub-folders or a Gradescope export; "
            f"{root} holds none"
        )
    form, entries = ("files", files) if files else ("folders", folders)
    items = [
        BatchSubmission(
            key=_safe_key(p.stem if form == "files" else p.name),
            path=p,
            student_id=p.stem if form == "files" else p.name,
        )
        for p in entries
    ]
    return DetectedSubmissions(form, root, _with_unique_keys(items, warnings), tuple(warnings))


# --------------------------------------------------------------------------- unpacking


def unpack_submissions(submissions: Path, output: Path) -> Path:
    """The folder to detect submissions in: ``submissions``, or its zip unpacked.

    A zip (Gradescope's export) is unpacked into ``output/.export``, emptied first.
    """
    path = Path(submissions)
    if path.is_file() and zipfile.is_zipfile(path):
        return unzip_fresh(path, output / ".export")
    return path


def unpack_autograder(autograder_source: Path, output: Path) -> Path:
    """The autograder's source folder: ``autograder_source``, or its zip unpacked.

    A zip is unpacked into ``output/.autograder``, emptied first.

    Raises
    ------
    InvalidInputError
        If the folder has no ``ops_lab.json``.
    """
    path = Path(autograder_source)
    if path.is_file() and zipfile.is_zipfile(path):
        path = unzip_fresh(path, output / ".autograder")
    if not (path / "ops_lab.json").is_file():
        raise InvalidInputError(
            "autograder_source must be the autograder zip or its unzipped source folder "
            f"(with ops_lab.json; `ops-lab build` writes dist/autograder/source), "
            f"got {str(autograder_source)!r}"
        )
    return path
