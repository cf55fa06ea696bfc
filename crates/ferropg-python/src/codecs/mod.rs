//! Codecs between PostgreSQL wire values and Python objects (being written).
