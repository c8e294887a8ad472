//! The widget's stylesheet, compiled into the wasm and injected as a `<style>` into the shadow root.
//!
//! Themable through CSS custom properties set on the tag or any ancestor (custom properties cross the
//! shadow boundary; nothing else does, since `:host` starts from `all: initial`): `--daytwo-accent`,
//! `--daytwo-bg`, `--daytwo-fg`, `--daytwo-muted`, `--daytwo-border`, `--daytwo-surface`, `--daytwo-font`,
//! `--daytwo-font-size`, `--daytwo-radius`, `--daytwo-acquisition`, `--daytwo-retention`, `--daytwo-good`,
//! `--daytwo-bad`, `--daytwo-warn`.

pub const CSS: &str = include_str!("style.css");
