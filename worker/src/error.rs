//! The Worker's one error type: every failure maps to a status and the JSON body of docs/design.md §4,
//! `{"error":{"code","message","field"}}`. Internal details are logged, never sent.

use daytwo_shared::config::ConfigError;
use daytwo_shared::message::IngestError;
use daytwo_shared::query::QueryError;
use daytwo_shared::site_rules::SiteRuleError;
use daytwo_shared::spend::SpendError;
use serde_json::json;
use worker::Response;

#[derive(Debug)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), field: None }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> ApiError {
        self.field = Some(field.into());
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(400, code, message)
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(401, code, message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(403, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(404, code, message)
    }

    /// A storage or runtime failure: logged in full, answered with a generic 503 the client may retry.
    pub fn internal(context: &str, detail: impl std::fmt::Display) -> ApiError {
        worker::console_error!("{context}: {detail}");
        ApiError::new(503, "unavailable", "the service could not complete the request; retry later")
    }

    pub fn to_response(&self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message, "field": self.field}});
        let text = body.to_string();
        match Response::ok(text) {
            Ok(r) => {
                let r = r.with_status(self.status);
                let _ = r.headers().set("content-type", "application/json; charset=utf-8");
                r
            }
            Err(_) => {
                Response::empty().map(|r| r.with_status(self.status)).unwrap_or_else(|_| Response::builder().empty())
            }
        }
    }
}

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> ApiError {
        let field = e.field().map(str::to_owned);
        ApiError { status: e.status(), code: e.code(), message: e.to_string(), field }
    }
}

impl From<SpendError> for ApiError {
    fn from(e: SpendError) -> ApiError {
        ApiError { status: 400, code: e.code(), message: e.to_string(), field: e.field() }
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> ApiError {
        ApiError { status: 400, code: "invalid_query", message: e.message.clone(), field: Some(e.field) }
    }
}

impl From<ConfigError> for ApiError {
    fn from(e: ConfigError) -> ApiError {
        ApiError { status: 400, code: "invalid_settings", message: e.reason.clone(), field: Some(e.field) }
    }
}

impl From<SiteRuleError> for ApiError {
    fn from(e: SiteRuleError) -> ApiError {
        ApiError { status: 400, code: e.code(), message: e.to_string(), field: Some(e.field()) }
    }
}
