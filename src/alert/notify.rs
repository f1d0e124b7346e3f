//! The one trait of the alert path, [`Notifier`], and its transports: SMTP
//! (STARTTLS, implicit TLS, or plain to a local relay), sendmail, and
//! `.eml` files (demo and tests).
//!
//! A notifier turns one outbox [`Row`] into a MIME message
//! ([`build_message`], pure) and hands it to a server, answering accepted,
//! deferred or refused. It never touches the database: marking rows sent or
//! failed, and deciding when to retry, is the sender's job
//! (`alert::sender`), so that a fake notifier in a test exercises the whole
//! retry path without a network.
//!
//! Errors are classified here because only the transport can tell a 4xx
//! from a 5xx: see [`NotifyError`]. Their text names the transport and
//! `host:port` and quotes the server's reply, so `status` and
//! `send-test-email` can say what went wrong; the SMTP password is never in
//! it (lettre's `Credentials` has a redacting `Debug`, and any echo of the
//! password in a reply is scrubbed before the text leaves this module).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSendmailTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Config, Secret, Security, Transport};
use crate::store::outbox::{self, Row};

/// The server took the message; `reply` is what it said (for the log and
/// `send-test-email`), e.g. `250 2.0.0 Ok: queued as 4F2A`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub reply: String,
}

/// Why a message was not delivered. The text names the transport and its
/// `host:port` and quotes the server's reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// The transport cannot take any message right now (connection refused,
    /// timeout, TLS handshake, authentication, a full disk): retry later,
    /// and do not bother trying the other due messages this round.
    #[error("{0}")]
    Unavailable(String),
    /// The server deferred this message (an SMTP 4xx reply, a sendmail that
    /// exited non-zero): retry it later.
    #[error("{0}")]
    Temporary(String),
    /// The server refused this message (an SMTP 5xx reply) or it cannot be
    /// built (an invalid address): retrying cannot help.
    #[error("{0}")]
    Permanent(String),
}

impl NotifyError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, NotifyError::Permanent(_))
    }

    /// Whether every other message would fail the same way now.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, NotifyError::Unavailable(_))
    }

    pub fn message(&self) -> &str {
        match self {
            NotifyError::Unavailable(m) | NotifyError::Temporary(m) | NotifyError::Permanent(m) => {
                m
            }
        }
    }
}

/// What [`Notifier::deliver`] returns: a boxed future, so that the trait
/// can be used as `&dyn Notifier`.
pub type DeliverFuture<'a> = BoxFuture<'a, Result<Accepted, NotifyError>>;

/// Delivers one outbox row. Implementations must be idempotent in what the
/// recipient sees: the Message-ID is the row's, so a redelivery after a
/// crash is recognisably the same email.
pub trait Notifier: Send + Sync + fmt::Debug {
    /// Where messages go, for messages to the operator:
    /// `smtp.example.com:587`, `sendmail (/usr/sbin/sendmail)`,
    /// `files in /var/lib/flywheel/mail`.
    fn describe(&self) -> String;

    /// Hands `row` to the transport; resolves once the server accepted or
    /// refused it (bounded by the configured timeout).
    fn deliver<'a>(&'a self, row: &'a Row) -> DeliverFuture<'a>;
}

/// Why a row cannot become a message (always a permanent failure).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("invalid sender address \"{address}\": {reason}")]
    From { address: String, reason: String },
    #[error("invalid recipient address \"{address}\": {reason}")]
    Recipient { address: String, reason: String },
    #[error("the email has no recipients")]
    NoRecipients,
    #[error("cannot build the message: {0}")]
    Message(String),
}

/// One line of header text: control characters (CR and LF above all)
/// become spaces, so no value can start a header of its own. The renderer
/// already removes them; this is the last line of defence. lettre then
/// RFC 2047-encodes whatever is not ASCII.
fn header_text(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                ' '
            } else {
                c
            }
        })
        .collect::<String>()
        .trim()
        .to_string()
}

/// A message id (`<local@domain>`) with everything but visible ASCII
/// removed; `None` when nothing usable is left.
fn message_id_text(s: &str) -> Option<String> {
    let id: String = s.chars().filter(|c| c.is_ascii_graphic()).collect();
    (id.len() > 2 && id.starts_with('<') && id.ends_with('>') && id.contains('@')).then_some(id)
}

/// The domain of an address such as `flywheel <flywheel@example.com>`, for
/// the Message-IDs of enqueued rows ("" when there is none).
pub fn sender_domain(from: &str) -> &str {
    let addr = match (from.rfind('<'), from.rfind('>')) {
        (Some(a), Some(b)) if a < b => &from[a + 1..b],
        _ => from,
    };
    addr.rsplit_once('@').map(|(_, d)| d.trim()).unwrap_or("")
}

/// The MIME message for an outbox row, sent from `from`.
///
/// Layout: `text/plain` alone when the row has no HTML; otherwise
/// `multipart/alternative` of the text and the HTML, the HTML wrapped in
/// `multipart/related` with each attachment inline (`Content-ID`,
/// `Content-Disposition: inline`) when there are attachments, which is
/// what mainstream clients need to show `cid:` images without fetching
/// anything.
pub fn build_message(row: &Row, from: &str) -> Result<Message, BuildError> {
    let from_box: Mailbox = from.parse().map_err(|e| BuildError::From {
        address: from.to_string(),
        reason: format!("{e}"),
    })?;
    if row.recipients.is_empty() {
        return Err(BuildError::NoRecipients);
    }
    let message_id = message_id_text(&row.message_id)
        .unwrap_or_else(|| outbox::message_id(row.id, row.created_at, from_box.email.domain()));
    let mut b = Message::builder()
        .from(from_box)
        .subject(header_text(&row.subject))
        .date(SystemTime::from(row.created_at))
        .message_id(Some(message_id));
    for r in &row.recipients {
        let mbox: Mailbox = r.trim().parse().map_err(|e| BuildError::Recipient {
            address: r.clone(),
            reason: format!("{e}"),
        })?;
        b = b.to(mbox);
    }
    if let Some(parent) = row.in_reply_to.as_deref().and_then(message_id_text) {
        b = b.in_reply_to(parent.clone()).references(parent);
    }
    let text = SinglePart::plain(row.body_text.clone());
    let built = match &row.body_html {
        None => b.singlepart(text),
        Some(html) => {
            let html = SinglePart::html(html.clone());
            let html = if row.attachments.is_empty() {
                MultiPart::alternative().singlepart(text).singlepart(html)
            } else {
                let mut related = MultiPart::related().singlepart(html);
                for a in &row.attachments {
                    let ctype =
                        ContentType::parse(&header_text(&a.content_type)).unwrap_or_else(|_| {
                            ContentType::parse("application/octet-stream").expect("valid")
                        });
                    let cid: String = header_text(&a.content_id)
                        .trim_matches(['<', '>'])
                        .chars()
                        .filter(|c| !c.is_whitespace())
                        .collect();
                    let part = lettre::message::Attachment::new_inline_with_name(
                        cid,
                        header_text(&a.filename),
                    )
                    .body(a.data.clone(), ctype);
                    related = related.singlepart(part);
                }
                MultiPart::alternative().singlepart(text).multipart(related)
            };
            b.multipart(html)
        }
    };
    built.map_err(|e| BuildError::Message(e.to_string()))
}

/// The notifier `[email]` describes. Fails only on what no message could
/// survive (no SMTP host, a `from` lettre cannot parse, a bad TLS name);
/// those are config errors, so rows stay queued until the config is fixed.
pub fn from_config(cfg: &Config) -> anyhow::Result<Box<dyn Notifier>> {
    let e = &cfg.email;
    e.from.parse::<Mailbox>().map_err(|err| {
        anyhow::anyhow!("[email] from \"{}\" is not a usable address: {err}", e.from)
    })?;
    Ok(match e.transport {
        Transport::Smtp => Box::new(SmtpNotifier::new(cfg)?),
        Transport::Sendmail => Box::new(SendmailNotifier {
            command: e.sendmail_command.clone(),
            from: e.from.clone(),
            timeout: e.timeout,
        }),
        Transport::File => Box::new(FileNotifier::new(&e.dir, &e.from)?),
    })
}

/// A whole SMTP conversation (connect, EHLO, STARTTLS, AUTH, envelope,
/// data) may take this many `[email] timeout`s; lettre bounds only the
/// connect, and a server that stops answering mid-conversation must not
/// stall the sender.
const CONVERSATION_TIMEOUTS: u32 = 4;

/// SMTP through lettre, one connection per message (no pool: the sender
/// delivers a handful of emails per round, and a fresh connection cannot
/// be a stale one).
pub struct SmtpNotifier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    host: String,
    port: u16,
    security: Security,
    username: Option<String>,
    /// Only to scrub it from error text, should a server echo it.
    password: Option<Secret>,
    from: String,
    timeout: Duration,
}

impl SmtpNotifier {
    pub fn new(cfg: &Config) -> anyhow::Result<SmtpNotifier> {
        let e = &cfg.email;
        let host = e
            .host
            .clone()
            .filter(|h| !h.trim().is_empty())
            .ok_or_else(|| anyhow::anyhow!("transport \"smtp\" needs [email] host"))?;
        let port = e.port();
        let tls = |r: Result<_, lettre::transport::smtp::Error>| {
            r.map_err(|err| anyhow::anyhow!("cannot set up TLS for {host}: {err}"))
        };
        let mut builder = match e.security {
            Security::Starttls => tls(AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host))?,
            Security::Tls => tls(AsyncSmtpTransport::<Tokio1Executor>::relay(&host))?,
            // Validation refuses a password over "none" to anything but
            // localhost; a plain local relay is what "none" is for.
            Security::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host),
        }
        .port(port)
        .timeout(Some(e.timeout));
        if let (Some(user), Some(password)) = (&e.username, &e.resolved_password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            ));
        }
        Ok(SmtpNotifier {
            transport: builder.build(),
            host,
            port,
            security: e.security,
            username: e.username.clone(),
            password: e.resolved_password.clone(),
            from: e.from.clone(),
            timeout: e.timeout,
        })
    }

    fn scrub(&self, text: String) -> String {
        match &self.password {
            Some(p) if !p.expose().is_empty() => text.replace(p.expose(), "<redacted>"),
            _ => text,
        }
    }

    /// Sorts a lettre error into the three outcomes. A 5xx on AUTH is the
    /// config's fault, not the message's: it is `Unavailable` (retried, and
    /// fixed by fixing the password) rather than parking every email.
    fn classify(&self, err: &lettre::transport::smtp::Error) -> NotifyError {
        let text = self.scrub(format!(
            "smtp {}:{}: {}",
            self.host,
            self.port,
            smtp_error_text(err)
        ));
        let code = err.status().map(u16::from);
        match code {
            Some(530 | 534 | 535 | 538) => NotifyError::Unavailable(text),
            // 421: the service is closing the channel; nothing will get through.
            Some(421) => NotifyError::Unavailable(text),
            _ if err.is_permanent() => NotifyError::Permanent(text),
            _ if err.is_transient() => NotifyError::Temporary(text),
            // Connection refused, network, TLS, timeouts, garbled replies.
            _ => NotifyError::Unavailable(text),
        }
    }
}

/// lettre's error with its source chain, in one line.
fn smtp_error_text(err: &lettre::transport::smtp::Error) -> String {
    let mut text = if err.is_timeout() {
        format!("timed out ({err})")
    } else {
        err.to_string()
    };
    // lettre's Display already includes the first source; add deeper ones
    // (e.g. the io::Error under a TLS error) when they say more.
    let mut source = std::error::Error::source(err).and_then(std::error::Error::source);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    // lettre nests its own errors ("Connection error: Connection error:
    // …"): drop a segment that repeats the one before it.
    let mut segments: Vec<&str> = Vec::new();
    for seg in text.split(": ") {
        if segments.last() != Some(&seg) {
            segments.push(seg);
        }
    }
    segments.join(": ").replace(['\r', '\n'], " ")
}

impl fmt::Debug for SmtpNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpNotifier")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Notifier for SmtpNotifier {
    fn describe(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    fn deliver<'a>(&'a self, row: &'a Row) -> DeliverFuture<'a> {
        Box::pin(async move {
            let msg = build_message(row, &self.from).map_err(|e| {
                NotifyError::Permanent(format!("smtp {}:{}: {e}", self.host, self.port))
            })?;
            let limit = self.timeout * CONVERSATION_TIMEOUTS;
            match tokio::time::timeout(limit, self.transport.send(msg)).await {
                Ok(Ok(resp)) => Ok(Accepted {
                    reply: format!(
                        "{} {}",
                        resp.code(),
                        resp.message().collect::<Vec<_>>().join(" ")
                    )
                    .trim()
                    .to_string(),
                }),
                Ok(Err(err)) => Err(self.classify(&err)),
                Err(_) => Err(NotifyError::Unavailable(format!(
                    "smtp {}:{}: no answer within {}",
                    self.host,
                    self.port,
                    humantime::format_duration(limit)
                ))),
            }
        })
    }
}

/// The local `sendmail` program (`-i -f <from> -- <recipients>`, message on
/// stdin), killed when it outlives the timeout.
#[derive(Debug)]
pub struct SendmailNotifier {
    command: PathBuf,
    from: String,
    timeout: Duration,
}

impl Notifier for SendmailNotifier {
    fn describe(&self) -> String {
        format!("sendmail ({})", self.command.display())
    }

    fn deliver<'a>(&'a self, row: &'a Row) -> DeliverFuture<'a> {
        Box::pin(async move {
            let what = format!("sendmail {}", self.command.display());
            let msg = build_message(row, &self.from)
                .map_err(|e| NotifyError::Permanent(format!("{what}: {e}")))?;
            let transport = AsyncSendmailTransport::<Tokio1Executor>::new_with_command(
                self.command.as_os_str(),
            );
            match tokio::time::timeout(self.timeout, transport.send(msg)).await {
                Ok(Ok(())) => Ok(Accepted {
                    reply: "sendmail exited 0".to_string(),
                }),
                Ok(Err(err)) => {
                    // lettre keeps the io::Error of a failed spawn as the
                    // source; a non-zero exit carries sendmail's stderr.
                    let source = std::error::Error::source(&err);
                    match source.and_then(|s| s.downcast_ref::<std::io::Error>()) {
                        Some(io) => Err(NotifyError::Unavailable(format!(
                            "{what}: cannot run it: {io}"
                        ))),
                        None => {
                            let detail = source
                                .map(|s| s.to_string())
                                .unwrap_or_else(|| err.to_string());
                            let detail = detail.trim().replace(['\r', '\n'], " ");
                            Err(NotifyError::Temporary(format!("{what}: failed: {detail}")))
                        }
                    }
                }
                // The child is spawned with kill_on_drop: dropping the
                // future here ends it.
                Err(_) => Err(NotifyError::Unavailable(format!(
                    "{what}: no exit within {}",
                    humantime::format_duration(self.timeout)
                ))),
            }
        })
    }
}

/// One `.eml` file per row in a directory, named from the outbox id
/// (`0000042.eml`), for the demo and tests. Written to a temporary file and
/// renamed, so a crash never leaves half a message and redelivering a row
/// replaces its file instead of adding a second one.
#[derive(Debug)]
pub struct FileNotifier {
    dir: PathBuf,
    from: String,
}

impl FileNotifier {
    pub fn new(dir: &Path, from: &str) -> anyhow::Result<FileNotifier> {
        std::fs::create_dir_all(dir).map_err(|e| {
            anyhow::anyhow!("cannot create the mail directory {}: {e}", dir.display())
        })?;
        Ok(FileNotifier {
            dir: dir.to_path_buf(),
            from: from.to_string(),
        })
    }

    /// The file a row is written to.
    pub fn path_of(&self, id: i64) -> PathBuf {
        self.dir.join(format!("{id:07}.eml"))
    }
}

/// Creates (or truncates) a file readable by its owner only: an email or
/// a digest holds the seller's sales figures and buyers' words, like the
/// database. A file left over from before gets the mode too.
pub(crate) fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let f = opts.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if f.metadata()?.permissions().mode() & 0o077 != 0 {
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(f)
}

fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("message.eml");
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = create_private(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    // Make the rename itself durable; not every platform can open a
    // directory for this, and the file is complete either way.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

impl Notifier for FileNotifier {
    fn describe(&self) -> String {
        format!("files in {}", self.dir.display())
    }

    fn deliver<'a>(&'a self, row: &'a Row) -> DeliverFuture<'a> {
        Box::pin(async move {
            let msg = build_message(row, &self.from)
                .map_err(|e| NotifyError::Permanent(format!("file {}: {e}", self.dir.display())))?;
            let bytes = msg.formatted();
            let dir = self.dir.clone();
            let path = self.path_of(row.id);
            let target = path.clone();
            let written =
                tokio::task::spawn_blocking(move || write_atomically(&dir, &target, &bytes))
                    .await
                    .map_err(|e| std::io::Error::other(e.to_string()))
                    .and_then(|r| r);
            match written {
                Ok(()) => Ok(Accepted {
                    reply: format!("written to {}", path.display()),
                }),
                Err(e) => Err(NotifyError::Unavailable(format!(
                    "file {}: cannot write {}: {e}",
                    self.dir.display(),
                    path.display()
                ))),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::Attachment;
    use crate::store::outbox::Kind;
    use chrono::{TimeZone, Utc};

    fn row() -> Row {
        Row {
            id: 42,
            account: None,
            kind: Kind::Firing,
            recipients: vec!["seller@example.com".into(), "Ops <ops@example.com>".into()],
            subject: "Buy box lost\r\nBcc: evil@example.com".into(),
            body_text: "text body".into(),
            body_html: Some("<p><img src=\"cid:chart-1@flywheel\"></p>".into()),
            message_id: "<flywheel.42.20260302T160000@example.com>".into(),
            in_reply_to: Some("<flywheel.7.20260301T160000@example.com>".into()),
            created_at: Utc.with_ymd_and_hms(2026, 3, 2, 16, 0, 0).unwrap(),
            attempts: 0,
            last_error: None,
            sent_at: None,
            attachments: vec![Attachment {
                content_id: "chart-1@flywheel".into(),
                filename: "chart-1.png".into(),
                content_type: "image/png".into(),
                data: vec![0x89, b'P', b'N', b'G', 0, 1, 2, 3],
            }],
        }
    }

    fn headers(m: &Message) -> String {
        let raw = String::from_utf8(m.formatted()).unwrap();
        raw.split("\r\n\r\n").next().unwrap().to_string()
    }

    #[test]
    fn headers_come_from_the_row_and_cannot_be_injected() {
        let m = build_message(&row(), "flywheel <flywheel@example.com>").unwrap();
        let h = headers(&m);
        assert!(
            h.contains("Message-ID: <flywheel.42.20260302T160000@example.com>\r\n"),
            "{h}"
        );
        assert!(
            h.contains("In-Reply-To: <flywheel.7.20260301T160000@example.com>\r\n"),
            "{h}"
        );
        assert!(
            h.contains("References: <flywheel.7.20260301T160000@example.com>\r\n"),
            "{h}"
        );
        assert!(
            h.contains("Date: Mon, 02 Mar 2026 16:00:00 +0000\r\n"),
            "{h}"
        );
        assert!(!h.to_ascii_lowercase().contains("\r\nbcc:"), "{h}");
        assert_eq!(m.envelope().to().len(), 2);
        let raw = String::from_utf8(m.formatted()).unwrap();
        assert!(raw.contains("Content-ID: <chart-1@flywheel>"), "{raw}");
        assert!(raw.contains("multipart/related"), "{raw}");
        assert!(raw.contains("multipart/alternative"), "{raw}");
    }

    #[test]
    fn text_only_rows_are_a_single_text_part() {
        let mut r = row();
        r.body_html = None;
        r.in_reply_to = None;
        let m = build_message(&r, "flywheel@example.com").unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        assert!(!raw.contains("multipart"), "{raw}");
        assert!(
            raw.contains("Content-Type: text/plain; charset=utf-8"),
            "{raw}"
        );
        assert!(!raw.contains("In-Reply-To"), "{raw}");
    }

    #[test]
    fn bad_addresses_are_build_errors() {
        let mut r = row();
        r.recipients = vec!["not an address".into()];
        assert!(matches!(
            build_message(&r, "flywheel@example.com"),
            Err(BuildError::Recipient { .. })
        ));
        r.recipients.clear();
        assert_eq!(
            build_message(&r, "flywheel@example.com").unwrap_err(),
            BuildError::NoRecipients
        );
        assert!(matches!(
            build_message(&row(), "nobody"),
            Err(BuildError::From { .. })
        ));
    }

    #[test]
    fn a_missing_message_id_is_derived_from_the_row() {
        let mut r = row();
        r.message_id = "\r\n".into();
        let m = build_message(&r, "flywheel <flywheel@example.com>").unwrap();
        assert!(
            headers(&m).contains("Message-ID: <flywheel.42.20260302T160000@example.com>"),
            "{}",
            headers(&m)
        );
    }

    #[test]
    fn sender_domain_reads_both_address_forms() {
        assert_eq!(
            sender_domain("flywheel <flywheel@example.com>"),
            "example.com"
        );
        assert_eq!(sender_domain("a@b.c"), "b.c");
        assert_eq!(sender_domain("nobody"), "");
    }
}
