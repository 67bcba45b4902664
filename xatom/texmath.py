"""The notebooks' markdown as HTML at build time, LaTeX math included: no MathJax, no network.

:func:`tex_to_html` turns the subset of LaTeX the notebooks write (Greek letters, sub- and superscripts, accents
such as ``\\hat``, ``\\mathbf``, ``\\frac``, ``\\sqrt``, ``\\sum``, norms and spacing) into Unicode and plain HTML
tags; :func:`markdown_html` renders a markdown text with its ``$…$`` and ``$$…$$`` spans converted that way. A
command outside the subset shows as its name, never with its backslash.
"""
from __future__ import annotations

import html
import re
import unicodedata

import mistune

SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ",
    "sigma": "σ", "tau": "τ", "phi": "ϕ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ",
    "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
    "sum": "∑", "prod": "∏", "int": "∫", "partial": "∂", "nabla": "∇", "infty": "∞", "cdot": "·", "times": "×",
    "circ": "∘", "pm": "±", "mp": "∓", "in": "∈", "notin": "∉", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥",
    "ne": "≠", "neq": "≠", "approx": "≈", "sim": "∼", "propto": "∝", "equiv": "≡", "to": "→", "rightarrow": "→",
    "leftarrow": "←", "ldots": "…", "dots": "…", "cdots": "⋯", "|": "‖", "lVert": "‖", "rVert": "‖", "Vert": "‖",
    "lvert": "|", "rvert": "|", "vert": "|", "langle": "⟨", "rangle": "⟩", "{": "{", "}": "}", "%": "%", "_": "_",
    "#": "#", "&": "&amp;", "$": "$", "cos": "cos", "sin": "sin", "exp": "exp", "log": "log", "ln": "ln",
    "max": "max", "min": "min", "det": "det",
}
SPACES = {",": "\u2009", ":": "\u2005", ";": "\u2004", "!": "", " ": " ", "quad": "\u2003", "qquad": "\u2003\u2003"}
IGNORED = {"big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "left", "right", "textstyle",
           "displaystyle", "limits", "nolimits"}
ACCENTS = {"hat": "\u0302", "widehat": "\u0302", "bar": "\u0304", "tilde": "\u0303", "dot": "\u0307",
           "vec": "\u20d7"}
BOLD = {"mathbf", "boldsymbol", "bm"}
UPRIGHT = {"mathrm", "operatorname", "mathsf"}
FRACTIONS = {"frac", "tfrac", "dfrac"}
TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\s+|.", re.S)
MATH = re.compile(r"(`+).+?\1|\$\$(.+?)\$\$|\$(.+?)\$", re.S)
"""Display and inline math; a code span first, so that a ``$`` in code (``$XATOM_OUTPUT``) is left alone."""
_MARKDOWN = mistune.create_markdown(escape=True)


class _Reader:
    """Reads a token list left to right; every ``atom`` returns the HTML of one unit of math."""

    def __init__(self, tex: str):
        self.tokens, self.i = TOKEN.findall(tex), 0

    def group(self, closing: bool = False, upright: bool = False) -> str:
        """Atoms up to the matching ``}`` (``closing``) or the end."""
        out = []
        while self.i < len(self.tokens):
            if self.tokens[self.i] == "}":
                self.i += 1
                if closing:
                    break
                continue  # a stray brace
            out.append(self.atom(upright))
        return "".join(out)

    def argument(self, upright: bool = False) -> str:
        """One argument: a ``{…}`` group, a command with its arguments or one character (spaces skipped)."""
        while self.i < len(self.tokens) and self.tokens[self.i].isspace():
            self.i += 1
        return self.atom(upright) if self.i < len(self.tokens) else ""

    def raw_text(self) -> str:
        """The braced argument of ``\\text`` as written (spaces kept), or its one token."""
        if self.i >= len(self.tokens):
            return ""
        self.i += 1
        if self.tokens[self.i - 1] != "{":
            return html.escape(self.tokens[self.i - 1])
        depth, out = 1, []
        while self.i < len(self.tokens):
            tok = self.tokens[self.i]
            self.i += 1
            depth += (tok == "{") - (tok == "}")
            if depth == 0:
                break
            out.append(tok)
        return html.escape("".join(out).replace("\\", ""))

    def atom(self, upright: bool = False) -> str:
        tok = self.tokens[self.i]
        self.i += 1
        if tok == "{":
            return self.group(closing=True, upright=upright)
        if tok in "^_":
            tag = "sup" if tok == "^" else "sub"
            return f"<{tag}>{self.argument(upright)}</{tag}>"
        if tok.isspace():
            return " "
        if tok.startswith("\\"):
            return self.command(tok[1:], upright)
        if tok == "-":
            return "−"
        if tok == "'":
            return "′"
        if tok.isalpha() and tok.isascii() and not upright:
            return f"<i>{tok}</i>"
        return html.escape(tok)

    def command(self, name: str, upright: bool) -> str:
        if name in SYMBOLS:
            return SYMBOLS[name]
        if name in SPACES:
            return SPACES[name]
        if name in IGNORED:
            return ""
        if name in ACCENTS:
            return _accent(self.argument(upright), ACCENTS[name])
        if name == "overline":
            return f'<span style="text-decoration:overline">{self.argument(upright)}</span>'
        if name in BOLD:
            return f"<b>{self.argument(upright=True)}</b>"
        if name in UPRIGHT:
            return self.argument(upright=True)
        if name == "text":
            return self.raw_text()
        if name in FRACTIONS:
            top, bottom = self.argument(upright), self.argument(upright)
            return f"{_bracket(top)}/{_bracket(bottom)}"
        if name == "sqrt":
            return f"√{_bracket(self.argument(upright))}"
        if name == "binom":
            top, bottom = self.argument(upright), self.argument(upright)
            return f"C({top}, {bottom})"
        return name  # outside the subset: its name, without the backslash


def _visible(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def _bracket(fragment: str) -> str:
    """``fragment`` in parentheses when it is more than one symbol with sub- and superscripts (``a+b``, not ``x_i``)."""
    text = _visible(fragment)
    return f"({fragment})" if re.search(r"[\s+−=/,<>·]", text.strip()) else fragment


def _accent(fragment: str, mark: str) -> str:
    """The combining ``mark`` after the first visible character of ``fragment`` (tags skipped)."""
    return re.sub(r"^((?:<[^>]+>|\s)*)(&\w+;|.)", lambda m: m.group(1) + m.group(2) + mark, fragment, count=1)


def tex_to_html(tex: str) -> str:
    """HTML (Unicode and ``<i>``, ``<b>``, ``<sub>``, ``<sup>``) for a LaTeX math expression without its ``$``;
    an accent is composed with its letter where Unicode has the letter (``Ê``), else it combines (``q̂``)."""
    return unicodedata.normalize("NFC", re.sub(r" {2,}", " ", _Reader(tex).group()).strip())


def markdown_html(text: str, inline: bool = False) -> str:
    """Markdown (escaped, no raw HTML) with its math converted by :func:`tex_to_html`.

    Args:
        text: markdown with ``$…$`` (inline) and ``$$…$$`` (display) math.
        inline: strip the enclosing ``<p>…</p>`` of a one-paragraph text (for a caption or a table cell).
    """
    spans = []

    def keep(match) -> str:
        if match.group(1):
            return match.group(0)
        display = match.group(2) is not None
        body = tex_to_html(match.group(2) if display else match.group(3))
        spans.append(f'<span class="math{" display" if display else ""}">{body}</span>')
        return f"XATOMMATH{len(spans) - 1}X"

    rendered = _MARKDOWN(MATH.sub(keep, text)).strip()
    rendered = re.sub(r"XATOMMATH(\d+)X", lambda m: spans[int(m.group(1))], rendered)
    if inline and rendered.startswith("<p>") and rendered.endswith("</p>") and rendered.count("<p>") == 1:
        rendered = rendered[3:-4]
    return rendered
