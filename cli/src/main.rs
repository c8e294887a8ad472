//! `daytwo`: a thin command-line shell over `daytwo-shared`.
mod generate;

fn main() {}
