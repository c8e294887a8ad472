//! Placeholder until issue 3: the Worker crate links the domain core so the workspace builds end to end.
pub use daytwo_shared as domain;
