//! Talking to the Worker.
pub mod api;
pub mod decode;
pub mod source;
