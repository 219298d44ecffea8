"""The FBI's own rates by population group (CIUS Table 16, 2013-2015 here): the check on the peer rates.

Each offence has a count column and a "Rate" column beside it; the group rows are labelled "GROUP I
(250,000 and over)" ... "GROUP VI (under 10,000)". Only the six city groups are read (the Group I subsets,
counties and suburban areas are not peer groups of a city).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from dashboard.pipeline.io import source_errors
from dashboard.pipeline.sources import cius_common as cius
from dashboard.schema import PEER_GROUPS

FOLDER = Path("crime") / "Majorfalcon__Foundations-of-Data-Science-Capstone"
_FILE = re.compile(r"^Table_16_Rate.*_(?P<year>\d{4})\.xls$")
_GROUP = re.compile(r"^GROUP\s+(?P<roman>[IV]+)\s*\(")
COLUMNS = ("year", "peer_group", "offence", "count", "rate")


def table_16_files(sources: Path) -> dict[int, Path]:
    found = {}
    for path in sorted((Path(sources) / FOLDER).glob("Table_16_*.xls")):
        match = _FILE.match(path.name)
        if match:
            found[int(match["year"])] = path
    return found


def parse_table_16(sources: Path) -> pd.DataFrame:
    """(year, peer_group, offence, count, rate) for each city group and offence of every Table 16 found."""
    records = []
    for year, path in table_16_files(sources).items():
        with source_errors(path):
            records += _parse(path, year)
    return pd.DataFrame.from_records(records, columns=list(COLUMNS))


def _parse(path: Path, year: int) -> list[dict]:
    rows = cius.read_xls_rows(path)
    header_index = next(i for i, r in enumerate(rows[:10]) if str(r[0]).startswith("Population group"))
    columns = cius.detect_columns(rows[header_index], year)
    by_roman = {fbi.split()[-1]: group for group, _label, _low, _high, fbi in PEER_GROUPS}
    records = []
    for row in rows[header_index + 2 :]:
        match = _GROUP.match(str(row[0]).strip())
        if not match or match["roman"] not in by_roman:
            continue
        for field, position in columns.items():
            offence = "rape" if field == "rape_revised" else field
            if offence == "population" or field == "rape_legacy":
                continue
            count, rate = row[position], row[position + 1]
            if count == "" or rate == "":
                continue
            records.append(
                {
                    "year": year,
                    "peer_group": by_roman[match["roman"]],
                    "offence": offence,
                    "count": int(count),
                    "rate": float(rate),
                }
            )
    return records
