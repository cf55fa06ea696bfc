"""SQLAlchemy's own dialect compliance tests, run as they ship (see README.md)."""

from sqlalchemy.testing.suite import *  # noqa: F401,F403
