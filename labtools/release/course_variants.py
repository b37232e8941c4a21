"""Per-student variants in a release: the secret to the graders, each code to its student.

With ``[variants] mode = "per-student"`` the build puts the course secret beside the roster
in the Gradescope autograder and in the nbgrader course (both instructor-only), and writes
``variant-codes.csv`` for the instructor: one row per roster student with their track and
variant code, ready for a mail merge or an LMS's private comment. The student release gets
neither (the release scan looks for the secret and every code).
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

from labtools.files import write_atomic
from labtools.grading.roster import ROSTER_FILE, Roster, RosterPerson, load_roster
from labtools.grading.variant_codes import CourseVariants, write_course_variants
from labtools.release.autograder_zip import zip_folder

__all__ = [
    "CODES_FILE",
    "roster_people",
    "write_variant_codes",
    "install_course_variants",
    "autograder_with_variants",
]

#: The instructor's list of codes, in the build's ``grading/`` folder.
CODES_FILE = "variant-codes.csv"


def roster_people(roster: Roster) -> list[RosterPerson]:
    """Every student of the roster once, in the order of their identities."""
    unique = {person.student.casefold(): person for person in roster.people.values()}
    return [unique[key] for key in sorted(unique)]


def write_variant_codes(path: Path, roster: Roster, variants: CourseVariants) -> Path:
    """Write the CSV ``student, name, email, track, variant_code`` of every roster student."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "name", "email", "track", "variant_code"])
    for person in roster_people(roster):
        track = roster.track_for([person.student])
        writer.writerow(
            [person.student, person.name, person.email, track, variants.code_for(person.student)]
        )
    write_atomic(path, out.getvalue())
    path.chmod(0o600)
    return path


def install_course_variants(
    secret: bytes, roster: Roster, *, graders: list[Path], codes_file: Path
) -> list[str]:
    """Give every grader folder the secret and write the codes; return the codes.

    Parameters
    ----------
    secret : bytes
        The course secret.
    roster : Roster
        The students who get a variant (the roster the graders read too).
    graders : list of Path
        Folders the graders read their settings from (autograder source, nbgrader course).
    codes_file : Path
        Where the instructor's :data:`CODES_FILE` goes.
    """
    for folder in graders:
        write_course_variants(folder, secret)
    variants = CourseVariants(secret)
    write_variant_codes(codes_file, roster, variants)
    return [variants.code_for(p.student) for p in roster_people(roster)]


def autograder_with_variants(
    source: Path, roster: Path, secret: bytes, destination: Path, *, codes_file: Path
) -> Path:
    """A copy of the autograder ``source`` folder with a roster and variants, zipped.

    What ``ops-lab build --variants per-student`` makes, from a build without them (the
    self-check grades its variant samples with it). Returns the zip's path.
    """
    folder = destination.with_suffix("")
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(source, folder)
    shutil.copy2(roster, folder / ROSTER_FILE)
    install_course_variants(secret, load_roster(roster), graders=[folder], codes_file=codes_file)
    return zip_folder(folder, destination)
