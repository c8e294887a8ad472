//! Placeholder until issue 4: the widget crate links the domain core so the workspace builds end to end.
pub use daytwo_shared as domain;
