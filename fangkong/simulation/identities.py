"""Fictitious but well-formed identities: resident ID numbers, permits, passports, phones.

Numbers are unique by construction rather than by remembering what was issued, so a city of
10 million needs a few megabytes here, not a set of 10 million strings:

- an ID number is area + birth date + a 3-digit sequence; a counter per (area, birth date,
  sex) hands out the sequence, and when its 500 values of the right parity run out the birth
  date moves by a day;
- a phone number is the image of a running counter under an affine permutation of the whole
  mobile number space, which is a bijection when the multiplier is coprime to its size.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from array import array

from fangkong.core.idnumbers import check_char

# The simulated "today" from which ages are counted: the 2022/23 winter surge. Fixed, so that
# a seed gives the same ID numbers whatever day the simulation runs.
REFERENCE_DATE = dt.date(2023, 1, 1)
_EPOCH = dt.date(1915, 1, 1)
_DAYS = (REFERENCE_DATE - _EPOCH).days + 1

# Area codes of people born elsewhere (real code layout, no person behind them): other
# Guangdong prefectures and the provinces most migrants come from.
ELSEWHERE_AREAS = (
    "440103", "440106", "440304", "440306", "440604", "440703", "440802", "440823",
    "441702", "441781", "440881", "450102", "450503", "450902", "450921", "430104",
    "430521", "431103", "360103", "362430", "510104", "511602", "520102", "420106",
    "421002", "350102", "460105", "530102",
)  # fmt: skip
HMT_AREAS = ("810000", "820000", "830000")  # Hong Kong, Macao, Taiwan residence permits
# Foreigner permanent residence cards (2023 layout): 9 + nationality code + province 44.
FOREIGNER_AREAS = ("915644", "939244", "970444", "984044")

# Mobile prefixes in use on the mainland (1[3-9]x).
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "147", "150",
    "151", "152", "153", "155", "156", "157", "158", "159", "166", "172", "173", "175",
    "176", "177", "178", "180", "181", "182", "183", "184", "185", "186", "187", "188",
    "189", "191", "195", "197", "198", "199",
)  # fmt: skip
_BLOCK = 10**8


class IdNumbers:
    """Issues unique 18-digit numbers (resident ID, HMT permit, foreigner card)."""

    def __init__(self, areas: list[str]) -> None:
        self.areas = list(dict.fromkeys(areas))
        self._area_index = {code: i for i, code in enumerate(self.areas)}
        # One 16-bit counter per (area, birth day, sex): about 80 kB per area code.
        self._used = array("H", bytes(2 * len(self.areas) * _DAYS * 2))

    def issue(self, area: str, birth: dt.date, sex: str) -> tuple[str, dt.date]:
        """A new number for the area, birth date and sex; the birth date may move by days
        when all 500 sequence numbers of that day are taken. Returns (number, birth)."""
        a = self._area_index[area]
        male = sex == "M"
        day = max(0, min((birth - _EPOCH).days, _DAYS - 1))
        for _ in range(_DAYS):
            slot = (a * _DAYS + day) * 2 + int(male)
            used = self._used[slot]
            if used < 500:
                self._used[slot] = used + 1
                # Spread the sequence so that numbers do not all end in 00x.
                k = (used * 263 + slot * 7) % 500
                seq = 2 * k + (1 if male else 0)
                born = _EPOCH + dt.timedelta(days=day)
                first17 = f"{area}{born:%Y%m%d}{seq:03d}"
                return first17 + check_char(first17), born
            day = day + 1 if day + 1 < _DAYS else 0
        raise RuntimeError(f"area {area} has no ID numbers left")


class Phones:
    """Unique mainland mobile numbers in a seeded order."""

    def __init__(self, rng: random.Random) -> None:
        self._size = len(MOBILE_PREFIXES) * _BLOCK
        a = rng.randrange(self._size // 3, self._size)
        while math.gcd(a, self._size) != 1:
            a += 1
        self._a, self._b = a, rng.randrange(self._size)
        self._next = 0

    def issue(self) -> str:
        x = (self._a * self._next + self._b) % self._size
        self._next += 1
        return f"{MOBILE_PREFIXES[x // _BLOCK]}{x % _BLOCK:08d}"


class Passports:
    """Unique passport-like numbers: a letter and 8 digits."""

    def __init__(self, rng: random.Random) -> None:
        self._a = rng.randrange(10**7, _BLOCK) | 1
        while math.gcd(self._a, _BLOCK) != 1:
            self._a += 2
        self._b = rng.randrange(_BLOCK)
        self._next = 0

    def issue(self) -> str:
        x = (self._a * self._next + self._b) % _BLOCK
        self._next += 1
        # The letter is derived from the counter, not drawn, so numbers stay unique.
        return f"{'EGKPS'[self._next % 5]}{x:08d}"


# Share of residents per 5-year age band (0-4, 5-9, ..., 95-99), shaped like a 2020 census.
AGE_BANDS = (5.5, 6.4, 6.0, 5.3, 5.3, 6.0, 8.4, 7.0, 6.6, 8.0,
             8.6, 7.0, 5.2, 5.0, 3.4, 2.2, 1.5, 0.8, 0.3, 0.1)  # fmt: skip
_AGE_CUM = [sum(AGE_BANDS[: i + 1]) for i in range(len(AGE_BANDS))]
_ADULT_CUM = [sum(AGE_BANDS[4 : i + 1]) for i in range(4, len(AGE_BANDS))]


def draw_age(rng: random.Random, *, adult: bool = False) -> int:
    if adult:
        band = rng.choices(range(4, len(AGE_BANDS)), cum_weights=_ADULT_CUM)[0]
        return max(20, band * 5 + rng.randrange(5))
    band = rng.choices(range(len(AGE_BANDS)), cum_weights=_AGE_CUM)[0]
    return band * 5 + rng.randrange(5)


def birth_for_age(rng: random.Random, age: int) -> dt.date:
    days = int((age + rng.random()) * 365.2425)
    return max(_EPOCH, REFERENCE_DATE - dt.timedelta(days=days))
