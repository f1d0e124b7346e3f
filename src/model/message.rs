//! A rendered message before it becomes an outbox row: subject, text, HTML
//! and inline attachments. Renderers produce it; `store::outbox` keeps it.

/// An inline attachment (a chart PNG referenced from the HTML as `cid:`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Attachment {
    /// Without angle brackets, e.g. `chart-3@flywheel`.
    pub content_id: String,
    pub filename: String,
    /// `image/png`.
    pub content_type: String,
    pub data: Vec<u8>,
}

/// A rendered email, before it becomes an outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// One line, plain text (the transport encodes it; CR/LF already removed).
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attachments: Vec<Attachment>,
}
