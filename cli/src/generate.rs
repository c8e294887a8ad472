//! Synthetic site generator (being written).
