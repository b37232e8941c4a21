"""The student release as a student sees it: JupyterLab, Debian Chromium, Playwright.

One JupyterLab session per module, in the order a student works: open the release with one
track's answers typed in (Edge Guardian, not the default track), set ``TRACK`` and, as a
student of a course with per-student variants, ``STUDENT_ID`` and ``VARIANT_CODE`` in the
editor, clear all outputs and run all (which reaches the export cell too). Then:

- the track card names the variant, and every number printed is the variant's;

- every instrument (the three static figures and the three workbenches) shows an image;
- moving one control of each workbench redraws its image;
- the zip the export cell wrote during Run All, and the one it writes when run again, hold
  the notebook the browser shows (its ``TRACK`` line, its outputs); running it twice leaves
  one zip; no output mentions a ``RuntimeWarning``.

Nothing saves the notebook but the product: autosave is off (see ``browser_support``), so
a zip made from a stale file on disk cannot pass by a timer's luck.

Element screenshots of every instrument, before and after its control moves, go to
``$OPS_BROWSER_SHOTS`` (default /tmp/ops-browser-shots) for a human to look at.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import browser_support as bs
import nbformat
import pytest

from labtools.grading.variant_codes import read_course_secret, variant_code
from labtools.selfcheck.samples import SAMPLE_SECRET

pytestmark = pytest.mark.slow

TRACK_KEY = "edge_guardian"  # not the default track: a stale or default TRACK shows
#: The sample class's Edge Guardian student (assignment/samples/roster.csv).
STUDENT = "s1003"
VARIANT = variant_code(read_course_secret(SAMPLE_SECRET), STUDENT)

#: Instruments by what their cell displays (cells are found by content, not position).
STATIC_FIGURES = {
    "breakeven_plot": "OpsBreakEvenPlot",
    "shadow_dashboard": "ShadowModeDashboard",
    "ensemble_trace": "EnsembleTrace",
}
WORKBENCHES = {
    "roi_workbench": "roi_workbench(",
    "canary_workbench": "canary_workbench(",
    "ensemble_workbench": "ensemble_workbench(",
}

PNG = "img[src^='data:image/png']"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# Timeouts (ms) of every wait; typical times on 2 cores in comments.
PAGE_TIMEOUT_MS = 30_000  # any single Playwright action
KERNEL_READY_MS = 90_000  # ~8 s from the page load
RUN_ALL_MS = 600_000  # ~15 s, the export's re-run of the public checks included
EXPORT_MS = 300_000  # ~5 s
WIDGET_IMAGE_MS = 60_000  # a workbench draws when its view appears, just after Run All
STATIC_IMAGE_MS = 2_000  # a displayed PNG is in the page when its cell's prompt is a number
REDRAW_MS = 60_000  # ~1 s


def _need_browser() -> tuple[Any, str]:
    """Playwright's sync API and the Chromium binary; skip (fail on CI) if either is missing."""
    problems = []
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
        problems.append("the `playwright` package is not installed (pip install -e '.[dev]')")
    chromium = bs.find_chromium()
    if chromium is None:
        problems.append(
            f"Chromium not found at {bs.CHROMIUM_CANDIDATES} (apt-get install chromium)"
        )
    if problems:
        reason = "browser test cannot run: " + "; ".join(problems)
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI must run it: scripts/bootstrap.sh installs both)")
        pytest.skip(reason)
    return sync_playwright, chromium


@dataclass
class Lab:
    """The JupyterLab session the tests share, and what they need to know about it."""

    page: Any
    release: Path
    notebook: nbformat.NotebookNode  # as written to disk (TRACK: the solution's default)
    track_name: str
    track_cell: int
    export_cell: int
    instruments: dict[str, int]  # name -> cell index
    zips_before: set[str]
    run_all_zip: tuple[str, bytes] | None  # the newest zip right after Run All
    dirty_after_run_all: bool
    shots: Path
    blocked: list[str]
    exported_again: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ reading the page

    def cell(self, index: int) -> Any:
        return self.page.locator(
            f"{bs.PANEL} .jp-Notebook-cell[data-windowed-list-index='{index}']"
        )

    def state(self) -> dict[str, Any]:
        return self.page.evaluate(bs.JS_NOTEBOOK_STATE)

    def output_text(self, index: int) -> str:
        area = self.cell(index).locator(".jp-OutputArea")
        return area.first.inner_text() if area.count() else ""

    def all_output_text(self) -> dict[int, str]:
        texts = self.page.evaluate(
            """(panel) => [...document.querySelectorAll(panel + ' .jp-Notebook-cell')].map(c =>
                 [Number(c.getAttribute('data-windowed-list-index')),
                  [...c.querySelectorAll('.jp-OutputArea')].map(a => a.innerText).join('\\n')])""",
            bs.PANEL,
        )
        return {i: t for i, t in texts if t.strip()}

    def image_src(self, index: int) -> str | None:
        images = self.cell(index).locator(f".jp-OutputArea {PNG}")
        return images.first.get_attribute("src") if images.count() else None

    def editor_text(self, index: int) -> str:
        return self.cell(index).locator(".cm-content").inner_text()

    def screenshot(self, index: int, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.cell(index).locator(".jp-Cell-outputWrapper").screenshot(path=path)
        return path

    def zips(self) -> list[Path]:
        found = [p for p in self.release.glob("*.zip") if p.name not in self.zips_before]
        return sorted(found, key=lambda p: p.stat().st_mtime_ns)


def _wait_state(page: Any, predicate_js: str, timeout_ms: int, arg: Any = None) -> Any:
    """Wait until ``predicate_js(state, arg)`` holds for the notebook state; return the state."""
    handle = page.wait_for_function(
        f"(arg) => {{ const s = ({bs.JS_NOTEBOOK_STATE})(); "
        f"return s && ({predicate_js})(s, arg) ? s : null; }}",
        arg=arg,
        timeout=timeout_ms,
        polling=250,
    )
    return handle.json_value()


def _open_menu_command(page: Any, menu: str, command: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
    page.locator(f".lm-Menu-item[data-command='{command}']").click()


def _student_notebook(built) -> nbformat.NotebookNode:
    with zipfile.ZipFile(built.student_zip) as archive:
        return nbformat.reads(archive.read("ops_scale.ipynb").decode("utf-8"), as_version=4)


@pytest.fixture(scope="module")
def lab(request, tmp_path_factory):
    sync_playwright, chromium = _need_browser()  # before the build: a skip costs nothing
    built = request.getfixturevalue("built")
    from opsmodel.tracks import TRACKS

    work = tmp_path_factory.mktemp("browser")
    release = work / "release"
    with zipfile.ZipFile(built.student_zip) as archive:
        archive.extractall(release)
    student = _student_notebook(built)
    solution = nbformat.read(built.solution_notebook, as_version=4)
    notebook, answered = bs.answered_notebook(student, solution)
    assert answered, "no answer cell to fill in"
    nbformat.write(notebook, release / "ops_scale.ipynb")

    track_name = TRACKS[TRACK_KEY].name
    code = [i for i, c in enumerate(notebook.cells) if c.cell_type == "code"]
    (track_cell,) = [i for i in code if bs.track_line(notebook.cells[i].source)]
    export_cell = code[-1]
    assert "export(" in notebook.cells[export_cell].source, "the last code cell exports"
    assert notebook.cells[export_cell].source == student.cells[export_cell].source
    instruments = {
        name: bs.find_display_cell(notebook, needle)
        for name, needle in {**STATIC_FIGURES, **WORKBENCHES}.items()
    }
    zips_before = {p.name for p in release.glob("*.zip")}
    shots = bs.shots_dir()
    for name in instruments:  # no stale picture from an earlier run
        for stale in (shots / f"{name}.png", shots / f"{name}-moved.png"):
            stale.unlink(missing_ok=True)

    with bs.lab_server(release, work / "home") as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=bs.CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            blocked = bs.block_outside_requests(context)
            page = context.new_page()
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            page.goto(server.page_url("ops_scale.ipynb"))
            # The execution indicator says idle before any kernel exists: also wait for the
            # kernel's name, and for every cell to be in the page.
            _wait_state(
                page,
                "(s, n) => s.status === 'idle' && (s.kernel || '').includes('ipykernel')"
                " && s.nCells === n",
                KERNEL_READY_MS,
                len(notebook.cells),
            )
            lab = Lab(
                page=page,
                release=release,
                notebook=notebook,
                track_name=track_name,
                track_cell=track_cell,
                export_cell=export_cell,
                instruments=instruments,
                zips_before=zips_before,
                run_all_zip=None,
                dirty_after_run_all=False,
                shots=shots,
                blocked=blocked,
            )

            # The student types their track, id and variant code in, as the notebook asks.
            wanted = bs.set_identity_lines(
                bs.set_track_line(notebook.cells[track_cell].source, track_name),
                STUDENT,
                VARIANT,
            )
            lab.cell(track_cell).locator(".cm-content").click()
            page.keyboard.press("Control+a")
            page.keyboard.insert_text(wanted)
            page.keyboard.press("Escape")
            page.wait_for_function(
                "([sel, want]) => document.querySelector(sel)?.innerText === want",
                arg=[
                    f"{bs.PANEL} .jp-Notebook-cell[data-windowed-list-index='{track_cell}']"
                    " .cm-content",
                    wanted,
                ],
                timeout=PAGE_TIMEOUT_MS,
            )

            # Edit > Clear Outputs of All Cells, then Run > Run All Cells.
            _open_menu_command(page, "Edit", "editmenu:clear-all")
            _wait_state(
                page,
                "(s) => s.prompts.every(p => p === null || p === '[ ]:')",
                PAGE_TIMEOUT_MS,
            )
            _open_menu_command(page, "Run", "runmenu:run-all")
            # Done: the kernel is idle, nothing is queued, and something ran. A cell that
            # raises stops Run All with the cells below it unrun: the test below says which.
            state = _wait_state(
                page,
                "(s) => s.status === 'idle' && !s.prompts.some(p => p === '[*]:')"
                " && s.prompts.some(p => /^\\[\\d+\\]/.test(p || ''))",
                RUN_ALL_MS,
            )
            lab.dirty_after_run_all = state["dirty"]
            made = lab.zips()
            if made:
                lab.run_all_zip = (made[-1].name, made[-1].read_bytes())
            yield lab
        finally:
            browser.close()


# ------------------------------------------------------------------ reading a zip


def _zip_notebook(name: str, data: bytes) -> nbformat.NotebookNode:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [n for n in archive.namelist() if n.endswith(".ipynb") and "/" not in n]
        assert names, f"{name} holds no notebook: {archive.namelist()}"
        return nbformat.reads(archive.read(names[0]).decode("utf-8"), as_version=4)


def _mismatches(lab: Lab, zipped: nbformat.NotebookNode) -> list[str]:
    """How the zipped notebook differs from what the browser shows."""
    problems = []
    if len(zipped.cells) != len(lab.notebook.cells):
        return [f"{len(zipped.cells)} cells in the zip, {len(lab.notebook.cells)} in the page"]

    shown_track = bs.track_line(lab.editor_text(lab.track_cell))
    zipped_track = bs.track_line(zipped.cells[lab.track_cell].source)
    if zipped_track != shown_track:
        problems.append(f"TRACK: the page shows {shown_track!r}, the zip holds {zipped_track!r}")

    prompts = lab.state()["prompts"]
    shown_outputs = lab.all_output_text()
    missing_counts, wrong_counts, missing_outputs = [], [], []
    for index, cell in enumerate(zipped.cells):
        if cell.cell_type != "code" or index == lab.export_cell:
            continue  # the export cell is running while it saves: its count is not final
        shown = bs.prompt_number(prompts[index])
        if cell.get("execution_count") is None:
            missing_counts.append(index)
        elif cell.execution_count != shown:
            wrong_counts.append(f"{index}: [{cell.execution_count}] vs [{shown}]")
        if shown_outputs.get(index) and not cell.get("outputs"):
            missing_outputs.append(index)
    if missing_counts:
        problems.append(f"code cells with no execution_count in the zip: {missing_counts}")
    if wrong_counts:
        problems.append(f"execution counts differ (zip vs page): {wrong_counts}")
    if missing_outputs:
        problems.append(f"cells with outputs in the page and none in the zip: {missing_outputs}")

    for name, index in lab.instruments.items():
        cell = zipped.cells[index]
        if name in STATIC_FIGURES:
            src = lab.image_src(index)
            pngs = bs.output_pngs(cell)
            if src is None:
                if pngs:
                    problems.append(f"{name}: an image in the zip, none in the page")
                continue  # no image in the page: test_every_instrument_shows_an_image says so
            if src.split(",", 1)[1] not in pngs:
                problems.append(f"{name}: the zip's image is not the page's ({len(pngs)} PNGs)")
        elif not any(WIDGET_VIEW in out.get("data", {}) for out in cell.get("outputs", [])):
            problems.append(f"{name}: no widget view among the zip's outputs")
    return problems


# ------------------------------------------------------------------------- tests


def test_the_student_works_on_their_own_variant(lab):
    from opsmodel.variants import student_track

    texts = lab.all_output_text()
    mine = student_track(lab.track_name, VARIANT)
    card = texts[lab.track_cell + 1]
    lab.screenshot(lab.track_cell + 1, "track_card")  # for a human to look at
    assert f"{lab.track_name} (AV Systems Lead), your variant {VARIANT}" in card
    assert f"{mine.n_models} models" in card and f"{mine.request_rate_per_s:,g} requests/s" in card


def test_run_all_runs_every_code_cell(lab):
    state = lab.state()
    unrun = [i for i, p in enumerate(state["prompts"]) if p is not None and not bs.prompt_number(p)]
    texts = lab.all_output_text()
    errors = {i: t[-800:] for i, t in texts.items() if "Traceback (most recent call last)" in t}
    assert not unrun and not errors, (
        f"Run All left code cells {unrun} unrun; tracebacks: {json.dumps(errors, indent=1)}"
    )
    # The track typed into the editor is the one that ran.
    assert any(lab.track_name in t for t in texts.values()), f"no output names {lab.track_name}"


def test_every_instrument_shows_an_image(lab):
    missing = {}
    for name, index in lab.instruments.items():
        timeout = WIDGET_IMAGE_MS if name in WORKBENCHES else STATIC_IMAGE_MS
        try:
            lab.cell(index).locator(f".jp-OutputArea {PNG}").first.wait_for(timeout=timeout)
        except Exception:  # playwright's TimeoutError: report every instrument at once
            missing[name] = lab.output_text(index)[:200]
        finally:
            lab.screenshot(index, name)
    assert not missing, (
        "instruments showing no image (their output text instead): "
        + json.dumps(missing, indent=1)
        + f"; screenshots in {lab.shots}"
    )


def _move_roi(lab: Lab, cell: Any) -> str:
    handle = cell.locator(".widget-slider .noUi-handle").first
    before = handle.get_attribute("aria-valuenow")
    handle.focus()
    lab.page.keyboard.press("ArrowRight")
    return f"'Models N' slider {before} -> " + _wait_attr_change(lab, handle, before)


def _move_canary(lab: Lab, cell: Any) -> str:
    handle = cell.locator(".widget-slider .noUi-handle").first
    before = handle.get_attribute("aria-valuenow")
    handle.focus()
    lab.page.keyboard.press("ArrowLeft")
    return f"'Target confidence' slider {before} -> " + _wait_attr_change(lab, handle, before)


def _move_ensemble(lab: Lab, cell: Any) -> str:
    select = cell.locator(".widget-dropdown select").first
    before = select.input_value()
    options = [o for o in select.locator("option").all_inner_texts() if o != before]
    select.select_option(label=options[0])
    return f"'Upstream version' dropdown {before} -> {options[0]}"


def _wait_attr_change(lab: Lab, locator: Any, before: str | None) -> str:
    handle = locator.element_handle()
    lab.page.wait_for_function(
        "([el, before]) => el.getAttribute('aria-valuenow') !== before",
        arg=[handle, before],
        timeout=PAGE_TIMEOUT_MS,
    )
    return str(locator.get_attribute("aria-valuenow"))


MOVES = {
    "roi_workbench": _move_roi,
    "canary_workbench": _move_canary,
    "ensemble_workbench": _move_ensemble,
}


def test_each_workbench_redraws_when_a_control_moves(lab):
    failures = {}
    for name in WORKBENCHES:
        index = lab.instruments[name]
        cell = lab.cell(index)
        try:
            cell.locator(f".jp-OutputArea {PNG}").first.wait_for(timeout=WIDGET_IMAGE_MS)
        except Exception:
            failures[name] = "no image to begin with: " + lab.output_text(index)[:200]
            continue
        before = lab.image_src(index)
        moved = MOVES[name](lab, cell)
        try:
            lab.page.wait_for_function(
                "([sel, before]) => { const img = document.querySelector(sel);"
                " return img && img.getAttribute('src') !== before; }",
                arg=[
                    f"{bs.PANEL} .jp-Notebook-cell[data-windowed-list-index='{index}']"
                    f" .jp-OutputArea {PNG}",
                    before,
                ],
                timeout=REDRAW_MS,
            )
        except Exception:
            failures[name] = f"{moved}, but the image did not change"
        lab.screenshot(index, f"{name}-moved")
    assert not failures, json.dumps(failures, indent=1)


def test_run_all_export_holds_what_the_browser_shows(lab):
    assert lab.run_all_zip is not None, (
        "Run All reached the export cell but no zip appeared next to the notebook; its "
        f"output: {lab.output_text(lab.export_cell)[-600:]!r}"
    )
    name, data = lab.run_all_zip
    problems = _mismatches(lab, _zip_notebook(name, data))
    assert not problems, (
        f"{name}, written by Run All, is not the notebook on the screen "
        f"(the page was {'still unsaved' if lab.dirty_after_run_all else 'saved'} after Run "
        "All):\n- " + "\n- ".join(problems)
    )


def test_export_cell_run_again_replaces_the_zip_and_holds_what_the_browser_shows(lab):
    before = bs.prompt_number(lab.state()["prompts"][lab.export_cell])
    lab.cell(lab.export_cell).locator(".jp-InputPrompt").click()
    lab.page.keyboard.press("Control+Enter")  # run the selected cell, as a student does
    _wait_state(
        lab.page,
        "(s, [i, before]) => s.status === 'idle' && /^\\[\\d+\\]/.test(s.prompts[i] || '')"
        " && s.prompts[i] !== `[${before}]:`",
        EXPORT_MS,
        [lab.export_cell, before],
    )
    zips = lab.zips()
    lab.exported_again["zips"] = zips
    output = lab.output_text(lab.export_cell)
    assert zips, f"the export cell wrote no zip; its output: {output[-600:]!r}"
    problems = _mismatches(lab, _zip_notebook(zips[-1].name, zips[-1].read_bytes()))
    if len(zips) != 1:
        problems.append(
            f"{len(zips)} zips after exporting twice ({[p.name for p in zips]}): "
            "which one to upload is in doubt"
        )
    assert not problems, f"{zips[-1].name}, from the export cell run again:\n- " + "\n- ".join(
        problems
    )


def _around(text: str, word: str, width: int = 400) -> str:
    at = text.find(word)
    return text[max(0, at - width) : at + width]


def test_no_output_mentions_runtime_warning(lab):
    word = "RuntimeWarning"
    found = {
        f"page cell {i}": _around(t, word) for i, t in lab.all_output_text().items() if word in t
    }
    zipped = [lab.run_all_zip] if lab.run_all_zip else []
    zipped += [(p.name, p.read_bytes()) for p in lab.exported_again.get("zips", [])]
    for name, data in zipped:
        for i, cell in enumerate(_zip_notebook(name, data).cells):
            text = bs.output_text(cell) if cell.cell_type == "code" else ""
            if word in text:
                found[f"{name} cell {i}"] = _around(text, word)
    assert not found, "\n\n".join(f"{where}:\n{text}" for where, text in found.items())
