"""inet, cidr, macaddr: psycopg2 returns the server's text."""

import pytest


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("'1.2.3.4/8'::inet", "1.2.3.4/8"),
        ("'1.2.3.0/24'::cidr", "1.2.3.0/24"),
        ("'::1'::inet", "::1"),
        ("'08:00:2b:01:02:03'::macaddr", "08:00:2b:01:02:03"),
        ("array['10.0.0.0/8'::cidr, NULL]", ["10.0.0.0/8", None]),
    ],
)
async def test_read(check, expr, expected):
    await check(expr, expected)


async def test_send_as_text_lets_server_infer(cur):
    await cur.execute("SELECT %s::inet << %s::cidr", ("10.1.2.3", "10.0.0.0/8"))
    assert await cur.fetchone() == (True,)
