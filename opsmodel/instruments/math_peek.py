"""Math Peek: the formula behind each instrument, as text and as a show/hide widget.

:func:`math_peek` returns Markdown with LaTeX (``$...$`` and ``$$...$$``) that a notebook
renders with ``IPython.display.Markdown``; :func:`math_peek_toggle` wraps the same text
in an ipywidgets toggle (imported only when called, so this module imports without
ipywidgets).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .._validation import InvalidInputError

__all__ = ["TOPICS", "math_peek", "MathPeek", "math_peek_toggle"]

_ROI = r"""**Platform ROI: the Operations Invariant**

$$\mathrm{ROI}_{\text{platform}}(N) = \text{Toil}_{\text{manual}}(N)
- \left(\text{CapEx}_{\text{platform}} + \text{Toil}_{\text{platform}}(N)\right)$$

$$\text{Toil}_{\text{manual}}(N) = c\,Y\left[\underbrace{a\,N}_{\text{alerts, }O(N)}
+ \underbrace{d\,N\log_2 N}_{\text{deployment, }O(N\log N)}
+ \underbrace{k\,h\,\frac{N(N-1)}{2}}_{\text{dependencies, }O(N^2)}\right]$$

$$\text{Toil}_{\text{platform}}(N) = c\,Y\,u\,N$$

Here $c$ is the loaded engineer cost (dollars per hour), $Y$ the horizon (years), $a$ the
alert-triage hours per model per year, $d$ the deployment hours per model per year per
$\log_2 N$, $k$ the coordination hours per cross-type pair per year, $h$ the heterogeneity
(the probability that two different models are of different types, so $h\,N(N-1)/2$ is the
number of cross-type pairs) and $u$ the platform upkeep hours per model per year.

The break-even point is the smallest fleet where the platform is strictly cheaper:
$N^* = \min\{N \ge 1 : \mathrm{ROI}_{\text{platform}}(N) > 0\}$. The $N^2$ term is why
heterogeneity brings $N^*$ down faster than scale alone."""

_ZERO_FAILURE = r"""**Zero-failure sample size (the Confidence Clock)**

If the new model failed at rate $p$, the chance of seeing no failure in $n$ independent
requests is $(1-p)^n$. To be $C$ confident that the failure rate is below $p_{\max}$, demand

$$(1 - p_{\max})^n \le 1 - C \quad\Longleftrightarrow\quad
n = \left\lceil \frac{\ln(1 - C)}{\ln(1 - p_{\max})} \right\rceil
\approx \frac{-\ln(1 - C)}{p_{\max}}$$

At $C = 95\%$, $-\ln 0.05 \approx 3$: the rule of three, $n \approx 3/p_{\max}$ (Hanley and
Lippman-Hand, 1983). Exactly, $C = 95\%$ and $p_{\max} = 0.001$ need $n = 2995$. Where the
ratio is within $10^{-9}$ (relative) of an integer, that integer is the answer, not the
next one.

The confidence reached after $n$ clean requests, the clock's curve, is
$1 - (1 - p_{\max})^n$, and the shadow time is

$$t_{\text{shadow}} = \frac{n}{r \cdot 3600 \cdot f} \text{ hours}$$

for a fleet rate $r$ (requests per second) and shadow fraction $f$; it must fit the
168-hour release cycle."""

_SPRT = r"""**Sequential validation: Wald's SPRT**

$H_0$: the new model fails at rate $p_0$ (fine); $H_1$: at $p_1 > p_0$ (regressed). After
$n$ requests with $d$ failures, the log-likelihood ratio is

$$\Lambda_n = d \ln\frac{p_1}{p_0} + (n - d) \ln\frac{1 - p_1}{1 - p_0}$$

Roll back when $\Lambda_n \ge \ln\frac{1-\beta}{\alpha}$, promote when
$\Lambda_n \le \ln\frac{\beta}{1-\alpha}$, otherwise keep watching (Wald, 1945). With
$g = \ln\frac{p_1(1-p_0)}{p_0(1-p_1)}$ the same rule, as failure-count lines, is

$$\text{roll back if } d \ge s\,n + h_1, \qquad \text{promote if } d \le s\,n - h_0$$

$$s = \frac{1}{g}\ln\frac{1-p_0}{1-p_1}, \qquad h_1 = \frac{1}{g}\ln\frac{1-\beta}{\alpha},
\qquad h_0 = \frac{1}{g}\ln\frac{1-\alpha}{\beta}$$

With $\alpha = 0.05$, $\beta = 0.20$ the test stops, on average, after about half the
requests of the fixed-$n$ test with the same error rates."""

_PSI = r"""**Population Stability Index (the skew check)**

Bin one feature by the quantiles of its training (reference) values; let $e_i$ be the
training share and $a_i$ the serving share of bin $i$ (each clipped below at
$\varepsilon = 10^{-4}$). Then

$$\mathrm{PSI} = \sum_{i=1}^{B} (a_i - e_i) \ln\frac{a_i}{e_i}$$

Bands: below $0.10$ stable, $0.10$ to $0.25$ moderate, $0.25$ and above significant
(Yurdakul, 2018).

A serving batch is skewed when any feature has $\mathrm{PSI} \ge 0.25$ **or** the feature
contract differs:

$$\mathrm{hash}(\text{schema}_{\text{train}}) \ne \mathrm{hash}(\text{schema}_{\text{serving}})$$

PSI alone cannot see a sign flip of a symmetric feature (every marginal distribution
unchanged); the contract can. That is the Training-Serving Skew Invariant: a model is only
valid on the feature distribution and definition it was trained on."""

_TEXTS: MappingProxyType[str, str] = MappingProxyType(
    {"roi": _ROI, "zero_failure": _ZERO_FAILURE, "sprt": _SPRT, "psi": _PSI}
)

#: The topics :func:`math_peek` knows, one per instrument.
TOPICS: tuple[str, ...] = tuple(_TEXTS)

_TITLES: MappingProxyType[str, str] = MappingProxyType(
    {
        "roi": "Math Peek: platform ROI",
        "zero_failure": "Math Peek: zero-failure sample size",
        "sprt": "Math Peek: sequential test (SPRT)",
        "psi": "Math Peek: PSI and contracts",
    }
)


def _check_topic(topic: Any) -> str:
    if not isinstance(topic, str) or topic not in _TEXTS:
        raise InvalidInputError(f"topic must be one of {', '.join(TOPICS)}, got {topic!r}")
    return topic


def math_peek(topic: str) -> str:
    """The formula behind an instrument, as Markdown with LaTeX.

    Parameters
    ----------
    topic : {"roi", "zero_failure", "sprt", "psi"}
        ``"roi"``: the break-even plot; ``"zero_failure"``: the Confidence Clock;
        ``"sprt"``: the SPRT trace; ``"psi"``: the ensemble trace's skew check.

    Returns
    -------
    str
        Markdown: a bold heading, paragraphs and display equations in ``$$...$$``.

    Raises
    ------
    InvalidInputError
        If ``topic`` is not one of :data:`TOPICS` (the message names ``topic``).

    Examples
    --------
    >>> "ROI" in math_peek("roi")
    True
    >>> from IPython.display import Markdown  # doctest: +SKIP
    >>> Markdown(math_peek("zero_failure"))  # doctest: +SKIP
    """
    return _TEXTS[_check_topic(topic)]


def _markdown_to_html(text: str) -> str:
    # The texts use only paragraphs, **bold** and LaTeX: enough to convert by hand for
    # HTMLMath (which renders $...$ with MathJax but does not read Markdown).
    paragraphs = []
    for block in text.split("\n\n"):
        escaped = html.escape(block.strip(), quote=False)
        escaped = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", escaped)
        paragraphs.append(f"<p>{escaped}</p>")
    return "\n".join(paragraphs)


@dataclass(frozen=True)
class MathPeek:
    """A show/hide Math Peek: a toggle button above a hidden formula panel.

    Attributes
    ----------
    topic : str
        The :func:`math_peek` topic shown.
    button : ipywidgets.ToggleButton
        Pressed: the formula shows; released: it hides.
    panel : ipywidgets.HTMLMath
        The formula (hidden while the button is up).
    container : ipywidgets.VBox
        Button and panel, to display or to place inside a workbench.

    Notes
    -----
    Displaying a :class:`MathPeek` displays its container.
    """

    topic: str
    button: Any
    panel: Any
    container: Any

    @property
    def shown(self) -> bool:
        """Whether the formula panel is visible."""
        return self.panel.layout.display != "none"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.container._repr_mimebundle_(**kwargs)


def math_peek_toggle(topic: str, *, shown: bool = False) -> MathPeek:
    """A toggle button that shows and hides the formula of :func:`math_peek`.

    Parameters
    ----------
    topic : {"roi", "zero_failure", "sprt", "psi"}
        Which formula.
    shown : bool, default False, keyword-only
        Start with the formula visible.

    Returns
    -------
    MathPeek
        The button, the panel and their container (an ``ipywidgets.VBox``).

    Raises
    ------
    InvalidInputError
        If ``topic`` is unknown.
    ImportError
        If ipywidgets is not installed (``pip install ipywidgets``).

    Examples
    --------
    >>> peek = math_peek_toggle("roi")  # doctest: +SKIP
    >>> peek.button.value = True  # doctest: +SKIP
    >>> peek.shown  # doctest: +SKIP
    True
    """
    topic = _check_topic(topic)
    import ipywidgets as widgets  # only here: the instruments import without ipywidgets

    button = widgets.ToggleButton(
        value=bool(shown),
        description=_TITLES[topic],
        tooltip="Show or hide the formula behind this plot",
        icon="calculator",
        layout=widgets.Layout(width="auto"),
    )
    panel = widgets.HTMLMath(
        value=_markdown_to_html(math_peek(topic)),
        layout=widgets.Layout(display="block" if shown else "none", padding="0 0.5em"),
    )

    def on_toggle(change: dict[str, Any]) -> None:
        panel.layout.display = "block" if change["new"] else "none"

    button.observe(on_toggle, names="value")
    return MathPeek(topic, button, panel, widgets.VBox([button, panel]))
