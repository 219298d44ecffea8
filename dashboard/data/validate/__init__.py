"""Start-up checks for the files in ``geodata/`` and ``dashboard/config/``.

A malformed data file must stop the app with a message naming the file, the line (or the
GeoJSON feature) and the problem, never produce a half-working dashboard. Every check here
raises :class:`DataFileError` with that information. CSV tables are read into DataFrames whose
index is the file line of each row, so every later check can point at the line it refuses.

Split by what is checked: ``readers`` (strict CSV/JSON parsing), ``rules`` (generic column rules),
``tables`` (the contract tables), ``geojson`` (boundary files), ``config`` (offences and theme).
"""

from dashboard.data.validate.config import (
    COLOUR_PATTERN,
    OFFENCE_CONFIG_COLUMNS,
    OFFENCE_GROUPS,
    THEME_COLORSCALES,
    THEME_COLOURS,
    THEME_NUMBERS,
    load_offence_config,
    load_theme,
)
from dashboard.data.validate.geojson import (
    CITY_PROPERTIES,
    STATE_PROPERTIES,
    STATEFP_PATTERN,
    USPS_PATTERN,
    check_geometry,
    load_cities,
    load_feature_collection,
    load_states,
)
from dashboard.data.validate.places import validate_place_points, validate_places_year
from dashboard.data.validate.readers import (
    YEAR_RANGE,
    check_row_shapes,
    load_json,
    parse_count_column,
    parse_json,
    parse_year_column,
    read_csv_strict,
    read_text,
)
from dashboard.data.validate.rules import (
    GEOID_PATTERN,
    check_choice,
    check_geoids,
    check_not_blank,
    check_pattern,
    check_unique,
)
from dashboard.data.validate.tables import (
    ANNOUNCED_PATTERN,
    BREAK_COLUMNS,
    BREAK_KINDS,
    CITY_YEAR_COLUMNS,
    NATIONAL_COLUMNS,
    PROGRAM_COLUMNS,
    check_known_geoids,
    check_national_coverage,
    validate_breaks,
    validate_crime_table,
    validate_national_years,
    validate_outcomes,
    validate_peer_groups,
    validate_programs,
)
from dashboard.errors import DataFileError
from dashboard.schema import OUTCOME_COLUMNS, PEER_COLUMNS, PLACES_COLUMNS, PLACES_YEAR_COLUMNS

__all__ = [
    "ANNOUNCED_PATTERN",
    "BREAK_COLUMNS",
    "BREAK_KINDS",
    "CITY_PROPERTIES",
    "CITY_YEAR_COLUMNS",
    "COLOUR_PATTERN",
    "GEOID_PATTERN",
    "NATIONAL_COLUMNS",
    "OFFENCE_CONFIG_COLUMNS",
    "OFFENCE_GROUPS",
    "OUTCOME_COLUMNS",
    "PEER_COLUMNS",
    "PLACES_COLUMNS",
    "PLACES_YEAR_COLUMNS",
    "PROGRAM_COLUMNS",
    "STATEFP_PATTERN",
    "STATE_PROPERTIES",
    "THEME_COLORSCALES",
    "THEME_COLOURS",
    "THEME_NUMBERS",
    "USPS_PATTERN",
    "YEAR_RANGE",
    "DataFileError",
    "check_choice",
    "check_geoids",
    "check_geometry",
    "check_known_geoids",
    "check_national_coverage",
    "check_not_blank",
    "check_pattern",
    "check_row_shapes",
    "check_unique",
    "load_cities",
    "load_feature_collection",
    "load_json",
    "load_offence_config",
    "load_states",
    "load_theme",
    "parse_count_column",
    "parse_json",
    "parse_year_column",
    "read_csv_strict",
    "read_text",
    "validate_breaks",
    "validate_crime_table",
    "validate_national_years",
    "validate_outcomes",
    "validate_peer_groups",
    "validate_place_points",
    "validate_places_year",
    "validate_programs",
]
