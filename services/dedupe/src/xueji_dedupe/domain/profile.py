"""A person's comparison profile: normalised name, readings, identity and blocking keys, computed once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from xueji_dedupe.domain.identity import identity_keys
from xueji_dedupe.domain.model import PersonFacts
from xueji_dedupe.domain.names import has_middle_dot, name_key
from xueji_dedupe.domain.pinyin import fuzzy_syllables, name_syllables
from xueji_dedupe.domain.surnames import split_surname


@dataclass(frozen=True, slots=True)
class PersonProfile:
    facts: PersonFacts
    name_key: str  # normalised, no separators: what characters are compared on
    syllables: tuple[str, ...]  # toneless, surname read as a surname: one per character of name_key
    fuzzy: tuple[str, ...]  # dialect-folded syllables
    surname_sound: str  # fuzzy reading of the surname (first part of a name written in parts)
    identity_keys: frozenset[str]
    reliable_ids: frozenset[str]  # resident IDs known for the person; empty for L/J students without one
    blocking_keys: frozenset[str]
    guardians: frozenset[str]  # each guardian's name key and its dialect-folded reading ("k:..." and "s:...")
    id_name_keys: frozenset[str]  # for a record with an ID: where a second ID number of the same name is found


@lru_cache(maxsize=500_000)
def _name_profile(name: str) -> tuple[str, tuple[str, ...], tuple[str, ...], str]:
    # Per written name, not per record: a province has far fewer distinct names than children,
    # and rebuilding an index of a million records must not convert the same name twice.
    key = name_key(name)
    parts = has_middle_dot(name)
    syllables = name_syllables(key, has_parts=parts)
    fuzzy = fuzzy_syllables(syllables)
    surname, _ = split_surname(key, has_parts=parts)
    return key, syllables, fuzzy, "".join(fuzzy[: len(surname) or 1])


def profile_of(facts: PersonFacts) -> PersonProfile:
    """Everything the comparisons need, so an index computes it once per record, not once per check."""
    key, syllables, fuzzy, surname_sound = _name_profile(facts.name)
    keys = identity_keys(facts.id_number, facts.status_number)
    reliable = frozenset(key[3:] for key in keys if key.startswith("id:"))
    return PersonProfile(
        facts=facts,
        name_key=key,
        syllables=syllables,
        fuzzy=fuzzy,
        surname_sound=surname_sound,
        identity_keys=keys,
        reliable_ids=reliable,
        blocking_keys=_blocking_keys(facts, fuzzy, surname_sound),
        guardians=frozenset(k for name in facts.guardians for k in _guardian_keys(name)),
        id_name_keys=_id_name_keys(facts, key, reliable),
    )


@lru_cache(maxsize=200_000)
def _guardian_keys(name: str) -> tuple[str, ...]:
    """A guardian matches by the written name or its dialect-folded reading (a homophone typed for a character)."""
    key = name_key(name)
    if not key:
        return ()
    parts = has_middle_dot(name)
    return (f"k:{key}", "s:" + "".join(fuzzy_syllables(name_syllables(key, has_parts=parts))))


def _id_name_keys(facts: PersonFacts, key: str, reliable: frozenset[str]) -> frozenset[str]:
    """Keys under which records with a resident ID are filed for the second-ID rule (R14): a child issued a second
    number keeps the name, so the same name with the birth year or with month and day, the number without its
    birth-date digits (region + sequence: a number corrected only in its date), and the same name with the
    number's region (a number reissued with a new date and a new sequence code shares only the region)."""
    if not reliable:
        return frozenset()
    born = facts.birth_date
    keys = {f"idn-y:{key}:{born.year}", f"idn-md:{key}:{born.month:02d}{born.day:02d}"}
    keys |= {f"idn-nodate:{number[:6]}{number[14:17]}" for number in reliable}
    keys |= {f"idn-region:{key}:{number[:6]}" for number in reliable}
    return frozenset(keys)


def _blocking_keys(facts: PersonFacts, fuzzy: tuple[str, ...], surname_sound: str) -> frozenset[str]:
    """Keys under which a record is filed; a check compares only records sharing one of them.

    Each key keeps the candidates of one kind of corruption together while staying small:
    - birth year + {month, day} unordered + gender: exact and day/month-swapped birth dates, any
      name corruption (typo, homophone, traditional form), a missing ID, a move to another county;
    - dialect-folded name reading + birth year: a mistyped day or month, a mis-keyed gender;
    - dialect-folded name reading + {month, day}: a mistyped year;
    - city (4-digit region prefix) + birth year + surname reading: a mistyped date together with
      a given name nobody would read alike;
    - city + {month, day} + surname reading: the same with the mistyped digit in the year.
    Dialect-folded readings make homophones and near-homophones share the name keys.
    """
    born = facts.birth_date
    month_day = "-".join(sorted((f"{born.month:02d}", f"{born.day:02d}")))
    sound = "".join(fuzzy)
    return frozenset(
        {
            f"dob:{born.year}:{month_day}:{facts.gender.value}",
            f"name-year:{sound}:{born.year}",
            f"name-md:{sound}:{month_day}",
            f"city-year-surname:{facts.region_code[:4]}:{born.year}:{surname_sound}",
            f"city-md-surname:{facts.region_code[:4]}:{month_day}:{surname_sound}",
        }
    )
