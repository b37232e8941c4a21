"""The feedback page's exporter: student-written markdown rendered, then sanitized.

nbgrader renders each markdown cell of a submission to HTML as it is, so a student's
``<script>``, ``onerror=`` attribute or ``javascript:`` link would run for whoever opens the
feedback page, instructors included. :class:`SanitizedHTMLExporter` renders markdown as
nbconvert does, then passes the HTML through nh3 (the Rust ``ammonia`` sanitizer), keeping
text formatting, tables, code and links to web pages, and dropping every script, event
handler, style, frame, form, inline SVG and image, and every URL whose scheme is not
``http``, ``https`` or ``mailto`` (``javascript:``, ``data:``). Nothing a student wrote can run
or load anything; TeX stays as text for the page's own MathJax.

The course's ``nbgrader_config.py`` names it as ``GenerateFeedback.exporter_class``.
"""

from __future__ import annotations

from typing import Any

import nh3
from jinja2 import pass_context
from nbconvert.exporters import HTMLExporter

__all__ = ["ALLOWED_TAGS", "SanitizedHTMLExporter", "sanitize_html"]

#: Formatting a written answer needs; nothing that runs, styles the page or loads a resource.
ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl",
        "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "kbd", "li", "ol", "p",
        "pre", "s", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td",
        "th", "thead", "tr", "u", "ul",
    }
)  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "td": {"align"},
    "th": {"align"},
    "h1": {"id"},
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "h5": {"id"},
    "h6": {"id"},
}
_URL_SCHEMES = frozenset({"http", "https", "mailto"})


def sanitize_html(html: str) -> str:
    """Keep the formatting of ``html`` and drop everything that could run or load.

    Parameters
    ----------
    html : str
        HTML rendered from a student's markdown.

    Returns
    -------
    str
        The same text and formatting, without scripts, event handlers, styles, images,
        frames, SVG or non-web URLs; links open in a new context without a referrer.
    """
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in _ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(_URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


class SanitizedHTMLExporter(HTMLExporter):
    """nbconvert's HTML exporter with every markdown cell sanitized after rendering."""

    @pass_context  # as the method it overrides: Jinja passes the cell's context
    def markdown2html(self, context: Any, source: str) -> str:
        """Render ``source`` as nbconvert does, then :func:`sanitize_html` it."""
        return sanitize_html(super().markdown2html(context, source))
