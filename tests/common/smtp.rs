//! An in-process SMTP server for tests, on 127.0.0.1 and a random port.
//!
//! It speaks just enough of RFC 5321 for lettre: EHLO/HELO, AUTH PLAIN and
//! AUTH LOGIN (one configured user), MAIL, RCPT, DATA (with dot
//! unstuffing), RSET, NOOP, QUIT. It records every accepted message with
//! its envelope, can answer DATA with a 4xx or 5xx for the next N messages,
//! and can be stopped (clients then get "connection refused") and started
//! again on the same port, which is how the tests play "server down".
//! It can also hold each accepted message's final reply for a while
//! ([`SmtpServer::set_accept_delay`]), and says how many messages are in
//! that window ([`SmtpServer::in_data`]), so the crash drill can kill a
//! client between "the server took the message" and "the client knows".
//! Every read has a timeout, so a confused client cannot hang a test.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// How long the server waits for a line from the client.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest message accepted (anything bigger is a test bug).
const MAX_MESSAGE: usize = 20 << 20;

/// One accepted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The MAIL FROM address, without angle brackets.
    pub from: String,
    /// The RCPT TO addresses, without angle brackets.
    pub recipients: Vec<String>,
    /// The message as received, dot-unstuffed, without the final ".".
    pub data: Vec<u8>,
    /// The user that authenticated on this connection, if any.
    pub user: Option<String>,
}

/// How the server behaves.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The one user/password AUTH accepts; when set, MAIL requires AUTH.
    pub auth: Option<(String, String)>,
    /// The mechanisms advertised (default "PLAIN LOGIN").
    pub mechanisms: Option<String>,
}

#[derive(Debug, Default)]
struct Shared {
    messages: Mutex<Vec<Received>>,
    /// Every AUTH attempt: (mechanism, user, succeeded).
    auths: Mutex<Vec<(String, String, bool)>>,
    /// Answer DATA with this reply for the next N messages.
    fail: Mutex<Option<(String, usize)>>,
    /// Sleep this long between storing a message and answering 250.
    accept_delay: Mutex<Duration>,
    /// Sessions between the DATA command and the reply to the final ".".
    in_data: AtomicUsize,
}

/// Counts a session as "in DATA" for its life (connections dropped by a
/// killed client included).
struct InData<'a>(&'a AtomicUsize);

impl<'a> InData<'a> {
    fn new(n: &'a AtomicUsize) -> InData<'a> {
        n.fetch_add(1, Ordering::SeqCst);
        InData(n)
    }
}

impl Drop for InData<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

pub struct SmtpServer {
    port: u16,
    opts: Options,
    shared: Arc<Shared>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl SmtpServer {
    /// A server without AUTH.
    pub async fn start() -> SmtpServer {
        SmtpServer::start_with(Options::default()).await
    }

    pub async fn start_with(opts: Options) -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().unwrap().port();
        let server = SmtpServer {
            port,
            opts,
            shared: Arc::new(Shared::default()),
            task: Mutex::new(None),
        };
        server.serve(listener);
        server
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Every message accepted so far.
    pub fn messages(&self) -> Vec<Received> {
        self.shared.messages.lock().unwrap().clone()
    }

    /// Every AUTH attempt: (mechanism, user, succeeded).
    pub fn auths(&self) -> Vec<(String, String, bool)> {
        self.shared.auths.lock().unwrap().clone()
    }

    /// Answers the next `n` DATA commands with `reply` (e.g.
    /// "451 4.3.0 try again later", "550 5.7.1 message refused").
    pub fn fail_next(&self, n: usize, reply: &str) {
        *self.shared.fail.lock().unwrap() = Some((reply.to_string(), n));
    }

    /// Holds the 250 after each accepted message for `d` (the message is
    /// already recorded: a client that dies meanwhile has delivered it
    /// without knowing).
    pub fn set_accept_delay(&self, d: Duration) {
        *self.shared.accept_delay.lock().unwrap() = d;
    }

    /// Sessions between DATA and its final reply right now.
    pub fn in_data(&self) -> usize {
        self.shared.in_data.load(Ordering::SeqCst)
    }

    /// Stops listening and drops every connection: clients get
    /// "connection refused" until [`SmtpServer::restart`].
    pub async fn stop(&self) {
        let task = self.task.lock().unwrap().take();
        if let Some(t) = task {
            t.abort();
            // Wait until the listener and the connections are dropped.
            let _ = t.await;
        }
    }

    /// Listens again on the same port.
    pub async fn restart(&self) {
        self.stop().await;
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(self.addr()).await {
                Ok(l) => break l,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("cannot listen on {} again: {e}", self.addr()),
            }
        };
        self.serve(listener);
    }

    fn serve(&self, listener: TcpListener) {
        let shared = self.shared.clone();
        let opts = self.opts.clone();
        let task = tokio::spawn(async move {
            // Owned by this task: aborting it drops the listener and every
            // connection task with it.
            let mut conns = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        let (shared, opts) = (shared.clone(), opts.clone());
                        conns.spawn(async move {
                            let _ = session(stream, shared, opts).await;
                        });
                    }
                    Some(_) = conns.join_next(), if !conns.is_empty() => {}
                }
            }
        });
        *self.task.lock().unwrap() = Some(task);
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        if let Some(t) = self.task.lock().unwrap().take() {
            t.abort();
        }
    }
}

type Io = std::io::Result<()>;

fn timed_out() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::TimedOut, "client too slow")
}

/// One line (with its CRLF), or `None` at EOF.
async fn read_line(
    r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    let n = tokio::time::timeout(READ_TIMEOUT, r.read_until(b'\n', &mut buf))
        .await
        .map_err(|_| timed_out())??;
    Ok((n > 0).then_some(buf))
}

fn trim_crlf(line: &[u8]) -> String {
    String::from_utf8_lossy(line)
        .trim_end_matches(['\r', '\n'])
        .to_string()
}

/// The address inside `FROM:<a@b> SIZE=1` / `TO:<a@b>`.
fn path_arg(rest: &str) -> String {
    let rest = rest.split_once(':').map(|(_, r)| r).unwrap_or(rest).trim();
    let addr = rest.split_whitespace().next().unwrap_or("");
    addr.trim_start_matches('<')
        .trim_end_matches('>')
        .to_string()
}

async fn session(stream: TcpStream, shared: Arc<Shared>, opts: Options) -> Io {
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    w.write_all(b"220 127.0.0.1 ESMTP flywheel-test\r\n")
        .await?;
    let mut user: Option<String> = None;
    let mut from: Option<String> = None;
    let mut rcpts: Vec<String> = Vec::new();
    while let Some(line) = read_line(&mut r).await? {
        let line = trim_crlf(&line);
        let (verb, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        let verb = verb.to_ascii_uppercase();
        let reply: String = match verb.as_str() {
            "EHLO" => {
                let mut ext =
                    String::from("250-127.0.0.1 hello\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n");
                if opts.auth.is_some() {
                    let mechs = opts.mechanisms.as_deref().unwrap_or("PLAIN LOGIN");
                    ext.push_str(&format!("250-AUTH {mechs}\r\n"));
                }
                ext.push_str("250 SIZE 20971520\r\n");
                ext
            }
            "HELO" => "250 127.0.0.1\r\n".into(),
            "AUTH" => {
                let mut args = rest.split_whitespace();
                let mech = args.next().unwrap_or("").to_ascii_uppercase();
                let initial = args.next().map(str::to_string);
                let creds = match mech.as_str() {
                    "PLAIN" => {
                        let resp = match initial {
                            Some(i) => Some(i),
                            None => {
                                w.write_all(b"334 \r\n").await?;
                                read_line(&mut r).await?.map(|l| trim_crlf(&l))
                            }
                        };
                        resp.and_then(|b| decode_base64(&b)).and_then(|raw| {
                            let mut parts = raw.split(|&b| b == 0).skip(1);
                            let u = String::from_utf8(parts.next()?.to_vec()).ok()?;
                            let p = String::from_utf8(parts.next()?.to_vec()).ok()?;
                            Some((u, p))
                        })
                    }
                    "LOGIN" => {
                        let u = match initial {
                            Some(i) => Some(i),
                            None => {
                                w.write_all(b"334 VXNlcm5hbWU6\r\n").await?;
                                read_line(&mut r).await?.map(|l| trim_crlf(&l))
                            }
                        };
                        w.write_all(b"334 UGFzc3dvcmQ6\r\n").await?;
                        let p = read_line(&mut r).await?.map(|l| trim_crlf(&l));
                        let dec = |s: Option<String>| {
                            s.and_then(|s| decode_base64(&s))
                                .and_then(|b| String::from_utf8(b).ok())
                        };
                        dec(u).zip(dec(p))
                    }
                    _ => None,
                };
                match (creds, &opts.auth) {
                    (Some((u, p)), Some((want_u, want_p))) => {
                        let ok = &u == want_u && &p == want_p;
                        shared
                            .auths
                            .lock()
                            .unwrap()
                            .push((mech.clone(), u.clone(), ok));
                        if ok {
                            user = Some(u);
                            "235 2.7.0 Authentication successful\r\n".into()
                        } else {
                            "535 5.7.8 Authentication credentials invalid\r\n".into()
                        }
                    }
                    _ => "504 5.5.4 Unrecognized authentication type\r\n".into(),
                }
            }
            "MAIL" => {
                if opts.auth.is_some() && user.is_none() {
                    "530 5.7.0 Authentication required\r\n".into()
                } else {
                    from = Some(path_arg(rest));
                    rcpts.clear();
                    "250 2.1.0 Ok\r\n".into()
                }
            }
            "RCPT" => {
                if from.is_none() {
                    "503 5.5.1 MAIL first\r\n".into()
                } else {
                    rcpts.push(path_arg(rest));
                    "250 2.1.5 Ok\r\n".into()
                }
            }
            "DATA" => {
                if from.is_none() || rcpts.is_empty() {
                    "503 5.5.1 MAIL and RCPT first\r\n".into()
                } else {
                    let _in_data = InData::new(&shared.in_data);
                    w.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                        .await?;
                    let mut data = Vec::new();
                    loop {
                        let Some(l) = read_line(&mut r).await? else {
                            return Ok(());
                        };
                        if l == b".\r\n" || l == b".\n" {
                            break;
                        }
                        // Dot-unstuffing (RFC 5321 4.5.2).
                        let l = if l.starts_with(b".") { &l[1..] } else { &l[..] };
                        data.extend_from_slice(l);
                        if data.len() > MAX_MESSAGE {
                            w.write_all(b"552 5.3.4 Message too big\r\n").await?;
                            return Ok(());
                        }
                    }
                    let failure = {
                        let mut f = shared.fail.lock().unwrap();
                        match f.as_mut() {
                            Some((reply, n)) if *n > 0 => {
                                *n -= 1;
                                Some(reply.clone())
                            }
                            _ => None,
                        }
                    };
                    let envelope_from = from.take().unwrap_or_default();
                    let recipients = std::mem::take(&mut rcpts);
                    let reply = match failure {
                        Some(reply) => format!("{reply}\r\n"),
                        None => {
                            let mut m = shared.messages.lock().unwrap();
                            m.push(Received {
                                from: envelope_from,
                                recipients,
                                data,
                                user: user.clone(),
                            });
                            format!("250 2.0.0 Ok: queued as {}\r\n", m.len())
                        }
                    };
                    let delay = *shared.accept_delay.lock().unwrap();
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    w.write_all(reply.as_bytes()).await?;
                    continue;
                }
            }
            "RSET" => {
                from = None;
                rcpts.clear();
                "250 2.0.0 Ok\r\n".into()
            }
            "NOOP" => "250 2.0.0 Ok\r\n".into(),
            "QUIT" => {
                w.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => "502 5.5.2 Command not recognized\r\n".into(),
        };
        w.write_all(reply.as_bytes()).await?;
    }
    Ok(())
}

/// Standard base64 (with or without padding); `None` on bad input.
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes: Vec<u8> = s
        .bytes()
        .filter(|&c| c != b'=' && !c.is_ascii_whitespace())
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= val(c)? << (18 - 6 * i);
        }
        let n = match chunk.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => return None,
        };
        out.extend_from_slice(&acc.to_be_bytes()[1..1 + n]);
    }
    Some(out)
}

/// `config` (a flywheel TOML) with its `[email]` table replaced by one
/// that sends through this kind of server on 127.0.0.1:`port`.
pub fn with_smtp(config: &str, port: u16) -> String {
    let start = config.find("\n[email]").expect("the config has [email]");
    let rest = &config[start + 1..];
    let end = rest[1..]
        .find("\n[")
        .map(|i| start + 1 + i + 1)
        .unwrap_or(config.len());
    format!(
        "{}\n[email]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\n\
         from = \"flywheel <flywheel@example.com>\"\nto = [\"ops@example.com\"]\ntimeout = \"10s\"\n{}",
        &config[..start],
        &config[end..]
    )
}
