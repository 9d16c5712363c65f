"""Chinese name normalisation: one written form per name, whatever keyboard or script typed it (R14)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

# The GB 18030 / public-security form for the separator in minority names is U+00B7.
MIDDLE_DOT = "\u00b7"

# Separators clerks actually type between the parts of a minority name (阿依古丽·买买提): the Latin-1 middle dot,
# bullet, hyphenation point, katakana middle dot (and its half-width form, folded by NFKC), Greek ano teleia, dot
# and bullet operators, word-separator dot, plain, full-width and ideographic full stops (。 and its half-width
# form), the ring and the small circle; and every dash (Unicode category Pd: -, ‐, ‑, –, —, ―, ﹣, －, ...),
# the minus sign and the low line. All mean "the next part of the name starts here".
_DOT_VARIANTS = frozenset(
    "\u00b7\u2022\u2027\u30fb\uff65\u0387\u2219\u22c5\u2e31\u16eb\u2024\u0701.\uff0e\u25cf\u3002\uff61"
    "\u00b0\u2218\u25e6\u2981\u318d\u2212_"
)
_DASHES = frozenset(chr(code) for code in range(0x10000) if unicodedata.category(chr(code)) == "Pd")
_DOTS = re.compile("[" + re.escape("".join(sorted(_DOT_VARIANTS | _DASHES))) + "]")
# Variant forms (异体字) OpenCC's t2s leaves alone but household registers and forms use for the same character;
# t2s already folds 峯 羣 啓 and the common traditional forms.
_VARIANTS = str.maketrans({"凃": "涂", "堃": "坤", "甯": "宁", "裡": "里", "綫": "线", "牀": "床"})
_SPACES = re.compile(r"\s+")
_PLAIN_HAN = re.compile(r"^[\u4e00-\u9fff]+$")
# A space is noise when it touches a CJK character or a dot ("王 小明", "买买提 · 艾力"); between
# two Latin words ("JOHN SMITH") it carries meaning and is kept as one space.
_NOISE_SPACE = re.compile(r"\s*(?=[\u3400-\u9fff\uf900-\ufaff\u00b7])|(?<=[\u3400-\u9fff\uf900-\ufaff\u00b7])\s*")


@lru_cache(maxsize=1)
def _to_simplified() -> opencc.OpenCC:
    # Built once: loading the OpenCC dictionaries costs milliseconds, a conversion microseconds.
    return opencc.OpenCC("t2s")


def is_han(char: str) -> bool:
    """True for a CJK unified ideograph (basic block, extension A, or compatibility ideograph)."""
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


@lru_cache(maxsize=200_000)
def normalise_name(name: str) -> str:
    """The display form used for comparison: half-width, simplified, one kind of middle dot, no stray spaces.

    NFKC first so full-width letters and the half-width katakana dot become their ordinary forms,
    then the dots are unified, then traditional characters are folded to simplified (OpenCC t2s).
    """
    if _PLAIN_HAN.match(name):  # the common case: nothing to fold but the script
        return str(_to_simplified().convert(name)).translate(_VARIANTS)
    text = unicodedata.normalize("NFKC", name)
    text = _DOTS.sub(MIDDLE_DOT, text)
    text = _SPACES.sub(" ", text).strip()
    text = _NOISE_SPACE.sub("", text)
    text = str(_to_simplified().convert(text)).translate(_VARIANTS)
    # A doubled or dangling separator is a typing slip, not part of the name.
    text = re.sub(MIDDLE_DOT + "+", MIDDLE_DOT, text).strip(MIDDLE_DOT + " ")
    return text.upper()


def name_key(name: str) -> str:
    """The comparison key: the normalised name without separators, since some systems drop the dot."""
    return normalise_name(name).replace(MIDDLE_DOT, "").replace(" ", "")


def has_middle_dot(name: str) -> bool:
    """True for a name written in parts (most minority names transcribed into Chinese characters)."""
    return MIDDLE_DOT in normalise_name(name)
