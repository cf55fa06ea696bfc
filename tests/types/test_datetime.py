"""Dates, times, timestamps and intervals as psycopg2 2.9 returns them."""

import datetime as dt

import pytest

UTC = dt.timezone.utc


def tz(seconds: int) -> dt.timezone:
    return dt.timezone(dt.timedelta(seconds=seconds))


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("'2020-01-02'::date", dt.date(2020, 1, 2)),
        ("'infinity'::date", dt.date.max),
        ("'-infinity'::date", dt.date.min),
        ("'23:59:59.999999'::time", dt.time(23, 59, 59, 999999)),
        ("'24:00'::time", dt.time(0, 0)),
        ("'12:00:00.5-03:25:12'::timetz", dt.time(12, 0, 0, 500000, tzinfo=tz(-12312))),
        ("'2020-01-02 03:04:05.6789'::timestamp", dt.datetime(2020, 1, 2, 3, 4, 5, 678900)),
        ("'infinity'::timestamp", dt.datetime.max),
        ("'-infinity'::timestamp", dt.datetime.min),
        ("'1 year 2 mons 3 days 04:05:06.7'::interval", dt.timedelta(days=428, seconds=14706, microseconds=700000)),
        ("'-1 year -2 mons +3 days -04:05:06.7'::interval", dt.timedelta(days=-423, seconds=71693, microseconds=300000)),
        ("'1 mon -1 sec'::interval", dt.timedelta(days=29, seconds=86399)),
        ("'999999999 days'::interval", dt.timedelta(days=999999999)),
    ],
)
async def test_read(check, expr, expected):
    await check(expr, expected)


@pytest.mark.parametrize(
    "zone, expr, expected",
    [
        ("UTC", "'2020-06-01 12:00Z'", dt.datetime(2020, 6, 1, 12, 0, tzinfo=UTC)),
        ("'Europe/Paris'", "'2020-06-01 12:00Z'", dt.datetime(2020, 6, 1, 14, 0, tzinfo=tz(7200))),
        ("'Europe/Paris'", "'2020-01-01 12:00Z'", dt.datetime(2020, 1, 1, 13, 0, tzinfo=tz(3600))),
        ("'Europe/Paris'", "'1850-01-01 00:00+00:09:21'", dt.datetime(1850, 1, 1, 0, 0, tzinfo=tz(561))),
        ("'America/St_Johns'", "'2020-06-01 14:30Z'", dt.datetime(2020, 6, 1, 12, 0, tzinfo=tz(-9000))),
        ("'+3'", "'2020-06-01 12:00Z'", dt.datetime(2020, 6, 1, 15, 0, tzinfo=tz(10800))),
        ("EST5EDT", "'2020-06-01 12:00Z'", dt.datetime(2020, 6, 1, 8, 0, tzinfo=tz(-14400))),
        ("'CET-1CEST,M3.5.0,M10.5.0/3'", "'2020-06-01 12:00Z'", dt.datetime(2020, 6, 1, 14, 0, tzinfo=tz(7200))),
        ("'Europe/Paris'", "'infinity'", dt.datetime.max.replace(tzinfo=UTC)),
        ("'Europe/Paris'", "'-infinity'", dt.datetime.min.replace(tzinfo=UTC)),
    ],
)
async def test_timestamptz_in_session_zone(cur, check, zone, expr, expected):
    await cur.execute(f"SET TIME ZONE {zone}")
    await check(f"{expr}::timestamptz", expected)


async def test_zone_changes_on_one_connection(cur, check):
    # Each SET TIME ZONE must reach result shapes cached by earlier runs of the same SQL,
    # including a switch to and from a POSIX rule Python cannot resolve (read as text).
    zones = [
        ("'Europe/Paris'", dt.datetime(2020, 6, 1, 14, 0, tzinfo=tz(7200))),
        ("'EST5EDT,M3.2.0,M11.1.0'", dt.datetime(2020, 6, 1, 8, 0, tzinfo=tz(-14400))),
        ("'America/St_Johns'", dt.datetime(2020, 6, 1, 9, 30, tzinfo=tz(-9000))),
        ("'<+0530>-05:30'", dt.datetime(2020, 6, 1, 17, 30, tzinfo=tz(19800))),
        ("UTC", dt.datetime(2020, 6, 1, 12, 0, tzinfo=UTC)),
    ]
    for zone, expected in zones:
        await cur.execute(f"SET TIME ZONE {zone}")
        await check("'2020-06-01 12:00Z'::timestamptz", expected)


@pytest.mark.parametrize(
    "expr, message",
    [
        ("'4000-01-01 BC'::date", "year -4000 is out of range"),
        ("'4000-01-01 BC'::timestamp", "year -4000 is out of range"),
        ("'10000-01-01'::date", "year 10000 is out of range"),
    ],
)
async def test_out_of_range_years(cur, expr, message):
    for sql in (f"SELECT {expr}", f"SELECT {expr}", f"SELECT 1; SELECT {expr}"):
        with pytest.raises(ValueError, match=message):
            await cur.execute(sql)
            await cur.fetchone()


async def test_interval_beyond_timedelta(cur):
    with pytest.raises(OverflowError):
        await cur.execute("SELECT '178000000 years'::interval")
        await cur.fetchone()


@pytest.mark.parametrize(
    "value",
    [
        dt.date(2020, 1, 2),
        dt.date.max,
        dt.date.min,
        dt.time(1, 2, 3, 4),
        dt.time(1, 2, tzinfo=tz(19800)),
        dt.datetime(2020, 1, 2, 3, 4, 5, 6),
        dt.datetime.max,
        dt.datetime.min,
        dt.timedelta(days=1, seconds=3600),
        dt.timedelta(microseconds=-1),
        dt.timedelta(days=-3, seconds=5, microseconds=7),
    ],
)
async def test_send(round_trip, value):
    await round_trip(value)


async def test_send_aware_datetime_reads_back_in_session_zone(cur, round_trip):
    await cur.execute("SET TIME ZONE 'Europe/Paris'")
    sent = dt.datetime(2020, 1, 2, 0, 0, tzinfo=tz(-12312))
    await round_trip(sent, dt.datetime(2020, 1, 2, 4, 25, 12, tzinfo=tz(3600)))


async def test_mogrify(cur):
    def m(v):
        out = cur.mogrify("%s", (v,))
        return out.decode() if isinstance(out, bytes) else out

    assert m(dt.date(2020, 1, 2)) == "'2020-01-02'::date"
    assert m(dt.time(1, 2, 3)) == "'01:02:03'::time"
    assert m(dt.time(1, 2, tzinfo=tz(19800))) == "'01:02:00+05:30'::timetz"
    assert m(dt.datetime(2020, 1, 2, 3, 4, 5, 6)) == "'2020-01-02T03:04:05.000006'::timestamp"
    assert m(dt.datetime(2020, 1, 2, tzinfo=UTC)) == "'2020-01-02T00:00:00+00:00'::timestamptz"
    assert m(dt.timedelta(days=1, seconds=3600)) == "'1 days 3600.000000 seconds'::interval"
    assert m(dt.timedelta(microseconds=-1)) == "'-1 days 86399.999999 seconds'::interval"
