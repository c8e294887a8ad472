//! Support code for the end-to-end test binary.
