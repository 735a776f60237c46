//! Email over SMTP against a real server on loopback (aiosmtpd, installed
//! by `scripts/test`): every message is parsed back from the server's
//! maildir.

use std::path::{Path, PathBuf};

use flowc::config::{Config, Smtp, SmtpTls};
use flowc::providers::Providers;

#[path = "support/live.rs"]
mod live;
#[path = "support/python.rs"]
mod python;
#[path = "support/smtp.rs"]
mod smtp;
use smtp::SmtpServer;

const WORKFLOW: &str = r#"workflow welcome
  timezone UTC
  trigger when email is set
  steps
    send email
      to lead and rep
      cc "{{ assigned_rep_email }}"
      bcc archive@acme.example
      from sales
      subject "Welcome, {{ first_name | default: "there" }}"
      body """
        Hi **{{ first_name | default: "there" }}**,

        Your company: {{ company_name | default: "unknown" }}.
        """
"#;

fn run(dir: &Path, leads: &str, server: &SmtpServer) -> Vec<(String, String, String)> {
    run_workflow(dir, WORKFLOW, leads, server)
}

/// Runs `source` live for `leads` against `server`; every event as
/// `(lead, kind, detail)`.
fn run_workflow(
    dir: &Path,
    source: &str,
    leads: &str,
    server: &SmtpServer,
) -> Vec<(String, String, String)> {
    let mut live = live::started(dir, source, leads, "2026-06-01T09:00Z");
    let config = Config {
        smtp: Some(Smtp {
            host: "127.0.0.1".to_owned(),
            port: server.port,
            tls: SmtpTls::None,
            username_env: None,
            password_env: None,
            identities: [(
                "sales".to_owned(),
                "Acme Sales <sales@acme.example>".to_owned(),
            )]
            .into(),
            default_from: None,
        }),
        ..Config::default()
    };
    let providers = flowc::runtime::live::Carrier::Sent(std::sync::Arc::new(
        Providers::new(config).expect("providers"),
    ));
    live::run_to_the_end(&mut live, &providers);
    live::events(&live.store, "v.detail")
}

fn header<'m>(message: &'m str, name: &str) -> Vec<&'m str> {
    let (headers, _) = message.split_once("\n\n").unwrap_or((message, ""));
    headers
        .lines()
        .filter_map(|line| line.split_once(": "))
        .filter(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.trim())
        .collect()
}

/// A new, empty folder for one test.
fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flowc-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a directory");
    dir
}

#[test]
fn emails_arrive_as_text_and_html_with_every_recipient_and_a_stable_message_id() {
    let dir = tempdir("email");
    let server = SmtpServer::start(&dir);
    let leads = concat!(
        "{\"id\": \"ann\", \"email\": \"ann@x.example\", \"first_name\": \"Ann\", \"company_name\": \"<script>alert(1)</script>\", \"assigned_rep_email\": \"rita@acme.example\"}\n",
        "{\"id\": \"eve\", \"email\": \"eve@x.example\", \"first_name\": \"Eve\\r\\nBcc: spy@evil.example\"}\n",
        "{\"id\": \"mal\", \"email\": \"mal@x.example\\r\\nBcc: spy@evil.example\"}\n",
    );
    let events = run(&dir, leads, &server);
    let messages = server.messages();
    assert_eq!(
        messages.len(),
        2,
        "ann and eve get their email; mal's address is refused"
    );

    let ann = messages
        .iter()
        .find(|m| m.contains("ann@x.example"))
        .expect("ann's email");
    assert_eq!(header(ann, "From"), ["\"Acme Sales\" <sales@acme.example>"]);
    assert_eq!(header(ann, "To"), ["ann@x.example, rita@acme.example"]);
    assert_eq!(header(ann, "Cc"), ["rita@acme.example"]);
    assert_eq!(
        header(ann, "X-RcptTo"),
        ["ann@x.example, rita@acme.example, rita@acme.example, archive@acme.example"]
    );
    assert!(
        header(ann, "Bcc").is_empty(),
        "bcc stays out of the headers"
    );
    assert_eq!(header(ann, "Subject"), ["Welcome, Ann"]);
    assert!(ann.contains("multipart/alternative"));
    assert!(ann.contains("text/plain") && ann.contains("Hi **Ann**,"));
    assert!(ann.contains("text/html") && ann.contains("<strong>Ann</strong>"));
    let html = ann
        .split("Content-Type: text/html")
        .nth(1)
        .expect("an HTML part");
    assert!(
        html.contains("&lt;script&gt;") && !html.contains("<script>"),
        "lead data cannot add markup"
    );
    let id = header(ann, "Message-ID");
    assert_eq!(id.len(), 1);
    assert!(id[0].ends_with("@flowc>"));
    assert!(events
        .iter()
        .any(|(lead, kind, _)| lead == "ann" && kind == "sent"));

    let eve = messages
        .iter()
        .find(|m| m.contains("eve@x.example"))
        .expect("eve's email");
    assert!(
        header(eve, "Bcc").is_empty() && !header(eve, "X-RcptTo")[0].contains("spy"),
        "no header from lead data"
    );
    assert!(
        header(eve, "Subject")[0].contains("Eve")
            && header(eve, "Subject")[0].contains("spy@evil.example")
    );

    let mal = events
        .iter()
        .rfind(|(lead, _, _)| lead == "mal")
        .expect("mal's end");
    assert_eq!(mal.1, "completed", "a bad address does not stop the lead");
    let undelivered = events
        .iter()
        .find(|(lead, kind, _)| lead == "mal" && kind == "undelivered")
        .expect("mal's email is undelivered");
    assert!(
        undelivered.2.contains("is not an email address"),
        "{undelivered:?}"
    );
}

/// A delivery the server answers "try again later" is retried with the
/// same Message-ID, so a mailbox that saw the first can tell the repeat.
#[test]
fn a_retried_email_keeps_its_message_id() {
    let dir = tempdir("email-retry");
    let server = SmtpServer::with(&dir, &["flaky"]);
    let leads = "{\"id\": \"ann\", \"email\": \"ann@x.example\", \"first_name\": \"Ann\"}\n";
    let events = run(&dir, leads, &server);
    let attempts = std::fs::read_to_string(dir.join("maildir/attempts.log")).expect("attempts");
    let attempts: Vec<&str> = attempts.lines().collect();
    assert_eq!(attempts.len(), 2, "refused once, then taken: {attempts:?}");
    assert_eq!(attempts[0], attempts[1], "the same Message-ID both times");
    assert!(attempts[0].ends_with("@flowc>"), "{attempts:?}");
    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(header(&messages[0], "Message-ID"), [attempts[0]]);
    assert!(
        events
            .iter()
            .any(|(lead, kind, _)| lead == "ann" && kind == "sent"),
        "{events:?}"
    );
}

/// A stand-in server that cannot start says why in a sentence (once: an
/// unwrap on the port it never printed).
#[test]
fn a_stand_in_that_cannot_start_says_why() {
    let panic = std::panic::catch_unwind(|| python::start("no-such-server.py", &[]))
        .expect_err("it cannot start");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("the no-such-server.py stand-in did not start")
            && message.contains("can't open file")
            && message.contains("scripts/test"),
        "{message}"
    );
}

/// Markdown in lead data stays text: no link, image, emphasis or code
/// reaches the HTML part, and the text part shows the value as it is.
#[test]
fn lead_data_in_an_email_body_cannot_add_links_images_or_formatting() {
    let dir = tempdir("email-markdown");
    let server = SmtpServer::start(&dir);
    let leads = "{\"id\": \"hak\", \"email\": \"hak@x.example\", \"first_name\": \"[R](https://e.x/r) ![p](https://e.x/p.png)\", \"company_name\": \"[x](javascript:alert(1)) _em_ `c`\"}\n";
    run(&dir, leads, &server);
    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    let (text, html) = message
        .split_once("Content-Type: text/html")
        .expect("a text and an HTML part");
    for markup in ["<a ", "<img", "<em>", "<code>", "javascript:alert(1)\""] {
        assert!(!html.contains(markup), "{markup} in {html}");
    }
    assert!(
        html.contains("<strong>[R](https://e.x/r) ![p](https://e.x/p.png)</strong>"),
        "{html}"
    );
    assert!(
        text.contains("Hi **[R](https://e.x/r) ![p](https://e.x/p.png)**,"),
        "{text}"
    );
}

/// A long subject from lead data is encoded so that no line of the
/// message exceeds SMTP's limit of 998 characters.
#[test]
fn a_long_subject_keeps_every_line_within_the_smtp_limit() {
    let dir = tempdir("email-long");
    let server = SmtpServer::start(&dir);
    let name = format!("Lee{}", "e".repeat(2_400));
    let leads = format!(
        "{{\"id\": \"long\", \"email\": \"long@x.example\", \"first_name\": \"{name}\"}}\n"
    );
    run(&dir, &leads, &server);
    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    let longest = messages[0].lines().map(str::len).max().unwrap_or(0);
    assert!(longest <= 998, "a line of {longest} characters");
    // The folded header, its encoded words decoded and joined, reads as
    // the subject that was rendered.
    let (head, _) = messages[0].split_once("\n\n").expect("headers");
    let folded: String = head
        .split("\nSubject: ")
        .nth(1)
        .expect("a subject")
        .lines()
        .take_while(|line| !line.contains(": "))
        .collect::<Vec<_>>()
        .join("");
    let mut decoded = Vec::new();
    for word in folded.split_whitespace() {
        let text = word
            .strip_prefix("=?utf-8?q?")
            .and_then(|word| word.strip_suffix("?="))
            .expect("an encoded word");
        let mut bytes = text.bytes();
        while let Some(byte) = bytes.next() {
            match byte {
                b'_' => decoded.push(b' '),
                b'=' => {
                    let hex: String = bytes.by_ref().take(2).map(char::from).collect();
                    decoded.push(u8::from_str_radix(&hex, 16).expect("hex"));
                }
                other => decoded.push(other),
            }
        }
    }
    assert_eq!(
        String::from_utf8(decoded).expect("UTF-8"),
        format!("Welcome, {name}")
    );
}

/// A cc the server refuses with 550 does not cost the lead its email: it
/// goes to the lead and the other recipients, and the timeline says which
/// one was refused.
#[test]
fn a_refused_cc_does_not_stop_the_leads_own_email() {
    let dir = tempdir("email-cc");
    let server = SmtpServer::with(&dir, &["refusing"]);
    let leads = "{\"id\": \"ann\", \"email\": \"ann@x.example\", \"first_name\": \"Ann\", \"assigned_rep_email\": \"nobody@acme.example\"}\n";
    let source = WORKFLOW.replace("to lead and rep", "to lead");
    let events = run_workflow(&dir, &source, leads, &server);
    let delivered: Vec<String> = server
        .messages()
        .iter()
        .flat_map(|message| header(message, "X-RcptTo").into_iter().map(str::to_owned))
        .collect();
    assert!(
        delivered.iter().any(|to| to.contains("ann@x.example")),
        "the lead gets the email: {delivered:?}"
    );
    assert!(
        delivered
            .iter()
            .any(|to| to.contains("archive@acme.example")),
        "so does the bcc: {delivered:?}"
    );
    assert!(
        !delivered.iter().any(|to| to.contains("nobody@")),
        "{delivered:?}"
    );
    let sent = events
        .iter()
        .find(|(lead, kind, _)| lead == "ann" && kind == "sent")
        .expect("the email is sent");
    assert!(
        sent.2.contains("not to nobody@acme.example refused") && sent.2.contains("550"),
        "{sent:?}"
    );
}
