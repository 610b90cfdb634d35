//! Unit tests of the pipelines (filled below).
