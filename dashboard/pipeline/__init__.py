"""The build-time data pipeline: raw sources -> harmonised, checked contract files in geodata/."""
