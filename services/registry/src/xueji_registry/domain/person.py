"""Who the record is about: key information (name, ID number; R10) and other basic information (R11)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from enum import StrEnum
from typing import Annotated, TypedDict

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from xueji_contracts.identity import InvalidResidentId, validate_resident_id

# Between several guardians typed into one 监护人姓名 cell: 、 , ， ; ； / and runs of spaces.
GUARDIAN_SEPARATORS = re.compile(r"[、,，;；/]|\s{2,}")

# The separator of a name written in parts (阿依古丽·买买提) as the household register writes it (GB 18030: U+00B7),
# and what keyboards give for it between two characters: bullet, hyphenation point, katakana middle dot (the
# half-width one is folded to it first), full stop, dot and bullet operators, hyphens and dashes, and the spaces
# typed around any of them. Between Latin letters (J. SMITH, Mary-Jane) they are the name's own and are kept.
MIDDLE_DOT = "\u00b7"
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134f"  # unified ideographs and their extensions
_DOTS = "\u00b7\u2022\u2027\u30fb\u2219\u22c5.\u3002\\-\u2010-\u2015\u2212"
_NAME_DOT = re.compile(rf"(?<=[{_HAN}])(?:\s*[{_DOTS}])+\s*(?=[{_HAN}])")
# A space touching a character (王 五, 王　五: two-character names padded to line up with three) is no part of it.
_PADDING = re.compile(rf"\s+(?=[{_HAN}{MIDDLE_DOT}])|(?<=[{_HAN}{MIDDLE_DOT}])\s+")
_SPACES = re.compile(r"\s+")
_PLAIN = re.compile("[\u4e00-\u9fff]+")  # unified ideographs of the basic block only: NFKC leaves them as they are


def written_name(value: str) -> str:
    """A name in the one form it is kept in, whatever keyboard typed it: full-width letters and compatibility
    ideographs folded (NFKC: ＪＯＨＮ is JOHN, U+F900 is U+8C48; a rare character such as 𠮷 is kept), the middle dot
    of the household register between the parts of a name, no space touching a Chinese character and one space
    between Latin words. The duplicate check of a sheet and a row's request id read the name so, so the same child
    written two ways is one student (R01, R14); dedupe compares more loosely still (traditional forms, dots dropped)."""
    if _PLAIN.fullmatch(value):  # most names: Chinese characters of the basic block, nothing to fold
        return value
    text = unicodedata.normalize("NFKC", value)
    text = _NAME_DOT.sub(MIDDLE_DOT, text)
    text = _PADDING.sub("", text)
    return _SPACES.sub(" ", text).strip()


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"


def checked_id_number(value: str | None) -> str | None:
    """R06: a valid 18-character ID number in compact form; the ValueError becomes a 422 naming the field."""
    if value is None:
        return None
    try:
        return validate_resident_id(value)
    except InvalidResidentId as exc:
        raise ValueError(f"invalid resident ID number: {exc.reason}") from None


def _folded(value: object) -> object:
    """A code as the clerk meant it: full-width digits (３５０６０２, a Chinese input method's) are the ASCII ones."""
    return unicodedata.normalize("NFKC", value) if isinstance(value, str) else value


# A 6-digit division code typed by a clerk: folded, then ASCII digits only (a pattern's \d takes any script's digits,
# and ３５０６０２ kept as typed would never equal the 350602 it is compared with, R14).
DivisionCode = Annotated[str, BeforeValidator(_folded), Field(pattern=r"^[0-9]{6}$")]


# A field holding an ID number: checked (R06) and kept in compact form wherever a model takes one.
IdNumber = Annotated[str, AfterValidator(checked_id_number)]


class StudentIdentity(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=50)
    id_number: IdNumber | None = Field(default=None, description="None: no obtainable ID number (a J student)")
    gender: Gender
    birth_date: date


class BasicInfo(BaseModel):
    """The other basic information a guardian may ask to correct (002 II.7); all optional at enrollment."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    ethnicity: str | None = Field(default=None, max_length=20)
    home_address: str | None = Field(default=None, max_length=200)
    guardian_name: str | None = Field(default=None, max_length=50)
    guardian_phone: str | None = Field(default=None, max_length=30)
    guardians: tuple[Annotated[str, Field(min_length=1, max_length=50)], ...] = Field(
        default=(), max_length=6, description="every guardian's name as typed (R14 evidence); guardian_name counts too"
    )
    household_register: DivisionCode | None = Field(
        default=None, description="户籍所在地: the household-register county code (R14 evidence)"
    )

    def guardian_names(self) -> tuple[str, ...]:
        """Every guardian named, once: the list, then the 监护人姓名 field (which may hold several: 陈建国、林美华)."""
        names = list(self.guardians)
        if self.guardian_name:
            names += [part for part in GUARDIAN_SEPARATORS.split(self.guardian_name) if part.strip()]
        # At most six, as the identity contract carries (a seventh name adds nothing the first six do not).
        return tuple(dict.fromkeys(name.strip()[:50] for name in names))[:6]


class BasicInfoPatch(BaseModel):
    """R11: the fields to change; name and ID number are key information and go through R10 instead."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    gender: Gender | None = None
    birth_date: date | None = None
    ethnicity: str | None = Field(default=None, max_length=20)
    home_address: str | None = Field(default=None, max_length=200)
    guardian_name: str | None = Field(default=None, max_length=50)
    guardian_phone: str | None = Field(default=None, max_length=30)
    guardians: tuple[Annotated[str, Field(min_length=1, max_length=50)], ...] | None = Field(default=None, max_length=6)
    household_register: DivisionCode | None = None

    def changed(self) -> dict[str, object]:
        return self.model_dump(exclude_none=True)


class PersonFacts(TypedDict):
    """Who a record (or a request for one) says the student is, as dedupe compares it (R14): the fields of the
    contracts' `PersonIdentity` every identity message and duplicate check carries alike."""

    student_id: str
    school_code: str
    name: str
    id_number: str | None
    gender: str
    birth_date: date
    guardians: tuple[str, ...]
    household_register: str | None


def person_facts(student_id: str, school_code: str, identity: StudentIdentity, basic: BasicInfo) -> PersonFacts:
    return PersonFacts(
        student_id=student_id,
        school_code=school_code,
        name=identity.name,
        id_number=identity.id_number,
        gender=identity.gender.value,
        birth_date=identity.birth_date,
        guardians=basic.guardian_names(),
        household_register=basic.household_register,
    )
