"""One parser per raw source kind (CIUS tables, MSA, county, UCR Data Tool, Kaplan, Marshall, national)."""
