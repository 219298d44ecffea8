"""The selection criterion: every city ranked by its ratio to the national rate.

PSP cities were chosen because their violence was "well above the national average";
this view shows which cities cleared a threshold in a year, which of them were chosen,
and for how many years in a row they had been above it.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .common import apply_base_layout, format_value, theme

FBI_RANKING_CAUTION = (
    "The FBI cautions against ranking: UCR figures are used to rank cities, but such rankings "
    "ignore the many factors (population density, economic conditions, policing, reporting "
    "practices) that shape crime in a place and lead to simplistic, misleading comparisons."
)


def streak_above(series: pd.DataFrame, year: int, threshold: float) -> pd.Series:
    """Years in a row, ending at ``year``, with ratio >= threshold (0 if not above in ``year``).

    A missing year ends a streak: we never assume a gap year was above the threshold.
    """
    upto = series[series["year"] <= year].sort_values("year")
    streaks: dict[str, int] = {}
    for geoid, rows in upto.groupby("geoid"):
        by_year = dict(zip(rows["year"], rows["ratio"], strict=True))
        count, y = 0, year
        while y in by_year and pd.notna(by_year[y]) and by_year[y] >= threshold:
            count += 1
            y -= 1
        streaks[geoid] = count
    return pd.Series(streaks, name="streak", dtype=int)


def ranking_frame(
    series: pd.DataFrame, cities: pd.DataFrame, year: int, threshold: float, highlight_cohorts: list[str]
) -> pd.DataFrame:
    """Cities with a ratio in ``year``, sorted high to low, with cohort highlight and streak."""
    ranked = series[(series["year"] == year) & series["ratio"].notna()].copy()
    ranked["streak"] = ranked["geoid"].map(streak_above(series, year, threshold)).fillna(0).astype(int)
    ranked["cohort"] = ranked["geoid"].map(cities["cohort"]).fillna("")
    ranked["highlight"] = [
        next((c for c in cohorts.split("; ") if c in highlight_cohorts), "other")
        for cohorts in ranked["cohort"]
    ]
    ranked["above"] = ranked["ratio"] >= threshold
    ranked = ranked.sort_values(["ratio", "label"], ascending=[False, True]).reset_index(drop=True)
    ranked["rank"] = ranked.index + 1
    return ranked


def ranking_summary(ranked: pd.DataFrame, threshold: float, year: int, offence_label: str) -> str:
    above = ranked[ranked["above"]]
    chosen = int((above["highlight"] != "other").sum())
    missed = int((ranked["highlight"] != "other").sum()) - chosen
    return (
        f"In {year}, {len(above)} of {len(ranked)} cities had a {offence_label.lower()} rate at least "
        f"{threshold:g}× the national rate: {chosen} of them are in the highlighted program cohort(s), "
        f"{len(above) - chosen} are not. {missed} highlighted program cities were below {threshold:g}×."
    )


def build_ranking_figure(
    ranked: pd.DataFrame, *, year: int, threshold: float, offence_label: str, version: str, height: int = 520
) -> go.Figure:
    """Bars sorted by ratio, one trace per cohort so the legend names the highlight."""
    t = theme()
    colours = t["cohort_colours"]
    fig = go.Figure()
    order = ["other"] + [c for c in colours if c != "other"]
    for cohort in order:
        rows = ranked[ranked["highlight"] == cohort]
        if rows.empty:
            continue
        fig.add_trace(
            go.Bar(
                x=rows["rank"],
                y=rows["ratio"].astype(float),
                name="Other cities" if cohort == "other" else cohort,
                marker={"color": colours.get(cohort, "#555555"), "line": {"width": 0}},
                customdata=[
                    [r.label, format_value(r.rate, "rate"), format_value(r.national_rate, "rate"), r.streak]
                    for r in rows.itertuples()
                ],
                hovertemplate=(
                    "<b>%{customdata[0]}</b> (rank %{x})<br>%{y:.2f}× national<br>"
                    "City: %{customdata[1]}<br>US: %{customdata[2]}<br>"
                    "Years in a row above threshold: %{customdata[3]}<extra></extra>"
                ),
            )
        )
    fig.add_hline(
        y=threshold,
        line={"color": "#222222", "width": 2, "dash": "dash"},
        annotation_text=f"threshold {threshold:g}×",
        annotation_position="top right",
        annotation_font_size=14,
    )
    fig.add_hline(
        y=1,
        line={"color": "#777777", "width": 1},
        annotation_text="US average (1×)",
        annotation_position="bottom right",
        annotation_font_size=14,
    )
    fig.update_layout(
        bargap=0.15,
        barmode="overlay",
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right"},
    )
    fig.update_xaxes(title_text=f"Rank among {len(ranked)} cities with data (1 = highest)", showgrid=False)
    fig.update_yaxes(title_text="Times the national rate", gridcolor="#eeeeee", rangemode="tozero")
    apply_base_layout(
        fig,
        f"{offence_label} in {year}: cities ranked by ratio to the national rate",
        version,
        height,
        note="<br>The FBI cautions against ranking cities (see note).",
    )
    fig.update_layout(margin={"t": 100})
    return fig
