//! conninfo (being written)
