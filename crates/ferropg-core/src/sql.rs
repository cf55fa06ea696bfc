//! sql (being written)
