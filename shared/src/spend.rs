//! Spend ledger (being written).
