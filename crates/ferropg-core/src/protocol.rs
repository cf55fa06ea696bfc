//! protocol (being written)
