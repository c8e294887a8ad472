//! The error state: what went wrong in words, and a Retry button when retrying can help.

use crate::markup::Markup;
use crate::services::api::{ApiError, Config};
use yew::prelude::*;

/// `on_retry` is offered as a Retry button when the error is retryable.
pub fn error_panel(error: &ApiError, config: &Config, on_retry: Option<&Callback<()>>) -> Html {
    let retry = on_retry.filter(|_| error.retryable()).cloned();
    html! {
        <div class="dt-status dt-error" role="alert" data-error={error_code(error)}>
            { Markup::with(|m| {
                m.element("div", &[("class", Some("dt-error-icon")), ("aria-hidden", Some("true"))], "!");
                m.element("h3", &[], &error.title()).element("p", &[], &error.detail(config));
            }) }
            if let Some(cb) = retry {
                <button type="button" class="dt-btn dt-btn-primary" onclick={move |_| cb.emit(())}>{ "Retry" }</button>
            }
        </div>
    }
}

/// A stable code for the error, as `data-error` (tests and host pages can look for it).
pub fn error_code(e: &ApiError) -> String {
    match e {
        ApiError::NotConfigured(what) => format!("missing_{what}"),
        ApiError::Auth { code, .. } if !code.is_empty() => code.clone(),
        ApiError::Auth { .. } => "unauthorized".into(),
        ApiError::Network(_) => "network".into(),
        ApiError::Http { status, .. } => format!("http_{status}"),
        ApiError::BadResponse(_) => "bad_response".into(),
    }
}
