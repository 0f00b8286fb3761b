"""Steps that turn written dates and times into words. They run before the other quantity
steps (quantities.py), so that '13:59' is a time before it could be two numbers."""
from __future__ import annotations

import re

from . import numbers as n
from .rules import Context, alternatives


def spell_dates(text: str, ctx: Context) -> str:
    """'25/11/2026' and '2026-11-25' -> '25 novembre 2026' (en: 'November 25th, 2026');
    '1 novembre' -> '1er novembre'. Written-out dates otherwise stay for the number steps."""
    dates = ctx.rules.table("dates")
    months = dates.get("months")
    if not months:
        return text
    order = dates.get("order", "dmy")

    def render(day: int, month: int, year: str) -> str | None:
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return None
        said_day = str(day)
        if day == 1 and dates.get("first_day"):
            said_day = dates["first_day"]
        elif dates.get("day_ordinal"):
            said_day = n.ordinal(day, ctx)
        return dates["template"].format(day=said_day, month=months[month - 1], year=year).strip()

    def numeric(m: re.Match) -> str:
        a, b, year = int(m.group(1)), int(m.group(2)), m.group(3)
        day, month = (a, b) if order == "dmy" or a > 12 else (b, a)
        if len(year) == 2:
            year = "20" + year
        return render(day, month, year) or m.group(0)

    text = re.sub(r"(?<![\d/.])(\d{1,2})[/.](\d{1,2})[/.](\d{4}|\d{2})(?![\d/]|\.\d)", numeric, text)
    text = re.sub(r"(?<![\d-])(\d{4})-(\d{2})-(\d{2})(?![\d-])",
                  lambda m: render(int(m.group(3)), int(m.group(2)), m.group(1)) or m.group(0), text)
    prefixes = alternatives(dates.get("short_date_prefixes", ()))
    if prefixes:  # "le 12/05": a day and month without a year, after a word that says "date"

        def day_month(m: re.Match) -> str:
            a, b = int(m.group(2)), int(m.group(3))
            said = render(*((a, b) if order == "dmy" else (b, a)), "")
            return f"{m.group(1)} {said}" if said else m.group(0)

        text = re.sub(rf"\b({prefixes}) (\d{{1,2}})/(\d{{1,2}})(?![/\d]|[.,]\d)", day_month,
                      text)
    month_names = alternatives(months)
    if dates.get("first_day"):
        text = re.sub(rf"(?<![\d,.])1(?= (?:{month_names})\b)", dates["first_day"], text)
    if dates.get("day_ordinal"):  # "November 25" -> "November twenty-fifth"
        text = re.sub(rf"\b({month_names}) (\d{{1,2}})(?![\d:.,]\d)(?!\w)",
                      lambda m: f"{m.group(1)} {n.ordinal(int(m.group(2)), ctx)}", text)
    return text


def spell_times(text: str, ctx: Context) -> str:
    """'13h59', '13:59', '9 h 30' -> 'treize heures cinquante-neuf'; '13:59 min' (a duration)
    -> 'treize minutes cinquante-neuf'; English '9:05 pm' -> 'nine oh five p m'."""
    times = ctx.rules.table("times")
    if not times:
        return text
    fem_hours = bool(times.get("hour_feminine"))
    fem_minutes = bool(times.get("clock_minutes_feminine"))
    suffixes = times.get("suffixes", {})

    def minutes(mm: str) -> str:
        if mm.startswith("0") and times.get("minutes_leading_zero"):
            return f"{times['minutes_leading_zero']} {n.cardinal(int(mm), ctx)}"
        return n.cardinal(int(mm), ctx, feminine=fem_minutes)

    def clock(h: str, mm: str | None, suffix: str | None) -> str:
        hours = times.get("hour_one", "") if int(h) <= 1 else times.get("hour_many", "")
        said_h = n.cardinal(int(h), ctx, feminine=fem_hours)
        if mm is None or mm == "00":
            said = times["clock_template_on_the_hour"].format(h=said_h, hours=hours)
        else:
            said = times["clock_template"].format(h=said_h, hours=hours, m=minutes(mm))
        return " ".join((said + " " + suffixes.get(suffix, "")).split()) if suffix else said

    durations = alternatives(times.get("duration_units", [])) or "(?!)"
    text = re.sub(rf"(?<![\d:,.])(\d{{1,2}}):(\d{{2}})\s?(?:{durations})\b",
                  lambda m: times["duration_template"].format(
                      a=n.cardinal(int(m.group(1)), ctx), b=n.cardinal(int(m.group(2)), ctx)),
                  text)
    suffix_re = rf"(?:\s?({alternatives(suffixes)}))?(?!\w)" if suffixes else r"()"

    def colon(m: re.Match) -> str:
        if int(m.group(1)) > 24 or int(m.group(2)) > 59:
            return m.group(0)
        return clock(m.group(1), m.group(2), m.group(3))

    text = re.sub(rf"(?<![\d:,.])(\d{{1,2}}):(\d{{2}})(?![\d:]){suffix_re}", colon, text)
    marks = "".join(map(re.escape, times.get("hour_marks", [])))
    if marks:
        def marked(m: re.Match) -> str:
            if int(m.group(1)) > 24 or (m.group(2) and int(m.group(2)) > 59):
                return m.group(0)
            return clock(m.group(1), m.group(2), None)

        text = re.sub(rf"(?<![\d:,.])(\d{{1,2}}) ?[{marks}](?: ?(\d{{2}}))?(?![\w/])", marked, text)
    return text
