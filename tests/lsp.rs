//! `flowc lsp` driven by a small LSP client over stdio: diagnostics as you
//! type, hover, go to definition, completion, symbols and formatting.

use std::io::{BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{json, Value};

#[path = "support/lsp_wire.rs"]
mod wire;

/// A client speaking JSON-RPC with Content-Length framing to `flowc lsp`.
struct Client {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    next_id: u64,
    /// Notifications read while waiting for responses.
    notifications: Vec<Value>,
}

impl Client {
    fn start() -> Client {
        let mut client = Client::spawn();
        let capabilities = client.request("initialize", json!({"capabilities": {}}));
        assert_eq!(capabilities["capabilities"]["hoverProvider"], true);
        client.notify("initialized", json!({}));
        client
    }

    /// A server not yet initialized.
    fn spawn() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_flowc"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("flowc lsp starts");
        let input = child.stdin.take().expect("stdin");
        let output = BufReader::new(child.stdout.take().expect("stdout"));
        Client {
            child,
            input,
            output,
            next_id: 0,
            notifications: Vec::new(),
        }
    }

    /// Bytes as they are, framing and all.
    fn raw(&mut self, bytes: &str) {
        self.input.write_all(bytes.as_bytes()).expect("written");
        self.input.flush().expect("flushed");
    }

    /// The next message that is not a notification (a response).
    fn next_response(&mut self) -> Value {
        loop {
            let message = self.receive();
            if message.get("method").is_none() {
                return message;
            }
            self.notifications.push(message);
        }
    }

    fn send(&mut self, message: &Value) {
        wire::write(&mut self.input, message);
    }

    fn receive(&mut self) -> Value {
        serde_json::from_slice(&wire::read(&mut self.output)).expect("JSON")
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let message = self.exchange(method, params);
        assert!(message.get("error").is_none(), "{message}");
        message["result"].clone()
    }

    /// Sends a request without waiting for its answer; returns its id.
    fn send_request(&mut self, method: &str, params: &Value) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// The whole response to a request: its result or its error.
    fn exchange(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, &params);
        let message = self.next_response();
        assert_eq!(message["id"], id, "{message}");
        message
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        loop {
            let position = self.notifications.iter().position(|n| {
                n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == uri
            });
            if let Some(position) = position {
                let notification = self.notifications.remove(position);
                return notification["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
            }
            let message = self.receive();
            self.notifications.push(message);
        }
    }

    fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "flow", "version": 1, "text": text}}),
        );
    }

    fn change(&mut self, uri: &str, version: u32, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
    }

    fn at(&mut self, method: &str, uri: &str, line: u32, character: u32) -> Value {
        self.request(
            method,
            json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}),
        )
    }

    fn stop(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let status = self.child.wait().expect("flowc lsp exits");
        assert!(status.success(), "{status}");
    }
}

const URI: &str = "file:///work/demo.flow";

const SOURCE: &str = r#"workflow demo
  timezone America/New_York
  fields
    lead_score number "0-100 score from marketing"
  trigger when lead_score >= 40 and email is set
  steps
    label first
    send email
      to lead
      subject "Hi {{ first_name }}"
      body "Welcome"
    wait 1 day
    goto first
"#;

#[test]
fn diagnostics_follow_every_change_with_the_codes_of_check() {
    let mut client = Client::start();
    let broken = SOURCE.replace("lead_score >= 40", "lead_scor >= 40");
    client.open(URI, &broken);
    let diagnostics = client.diagnostics(URI);
    let expected = flowc::check::check_source(&broken, None, None);
    assert_eq!(diagnostics.len(), expected.len(), "{diagnostics:?}");
    let first = &diagnostics[0];
    assert_eq!(first["code"], "E0101");
    assert_eq!(first["severity"], 1);
    assert_eq!(first["source"], "flowc");
    assert!(first["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("unknown field `lead_scor`")
            && m.contains("did you mean `lead_score`?")));
    assert_eq!(first["range"]["start"], json!({"line": 4, "character": 15}));
    assert_eq!(first["range"]["end"], json!({"line": 4, "character": 24}));

    client.change(URI, 2, SOURCE);
    assert!(client.diagnostics(URI).is_empty());
    client.change(URI, 3, "workflow demo\n  steps\n    wait forever\n");
    let syntax = client.diagnostics(URI);
    assert!(syntax.iter().any(|d| d["code"] == "E0001"), "{syntax:?}");
    client.stop();
}

#[test]
fn hover_explains_fields_and_keywords() {
    let mut client = Client::start();
    client.open(URI, SOURCE);
    let field = client.at("textDocument/hover", URI, 4, 18);
    let text = field["contents"]["value"].as_str().unwrap_or_default();
    assert!(text.contains("**lead_score**: `number`"), "{text}");
    assert!(text.contains("0-100 score from marketing"), "{text}");
    assert!(text.contains("declared under `fields`, line 4"), "{text}");
    let standard = client.at("textDocument/hover", URI, 4, 38);
    let text = standard["contents"]["value"].as_str().unwrap_or_default();
    assert!(
        text.contains("**email**") && text.contains("a standard lead field"),
        "{text}"
    );
    let keyword = client.at("textDocument/hover", URI, 11, 5);
    let text = keyword["contents"]["value"].as_str().unwrap_or_default();
    assert!(text.starts_with("**wait**"), "{text}");
    // The channel word is the step, not the lead field `email`; the README's
    // row for the step follows.
    let channel = client.at("textDocument/hover", URI, 7, 11);
    let text = channel["contents"]["value"].as_str().unwrap_or_default();
    assert!(text.starts_with("**send email**: sends an email"), "{text}");
    assert!(
        text.contains("`to lead` / `to rep`") && !text.contains("standard lead field"),
        "{text}"
    );
    let lead = client.at("textDocument/hover", URI, 8, 10);
    let text = lead["contents"]["value"].as_str().unwrap_or_default();
    assert!(text.starts_with("**lead**"), "{text}");
    assert!(
        client.at("textDocument/hover", URI, 0, 0)["contents"]["value"]
            .as_str()
            .is_some_and(|t| t.starts_with("**workflow**"))
    );
    client.stop();
}

/// Built-in events: their names complete after `on` in a trigger or goal
/// line, hover says when they happen, and `event.FIELD` in a goal on an
/// event reads that event's payload, not the trigger's.
#[test]
fn built_in_events_complete_and_explain_themselves() {
    let mut client = Client::start();
    let source = "workflow demo\n  trigger on call_completed when event.outcome is \"answered\"\n  goal replied on text_replied when event.text contains \"yes\"\n  goal \n  steps\n    wait 1 day\n";
    let typing = source.replace("  goal \n", "  goal x on \n");
    client.open(URI, &typing);
    let events = labels(&client.at("textDocument/completion", URI, 3, 12));
    for name in [
        "text_replied",
        "email_replied",
        "unsubscribed",
        "opted_out",
        "call_completed",
    ] {
        assert!(events.contains(&name.to_owned()), "{name} in {events:?}");
    }
    let hover = |client: &mut Client, line, character| {
        let answer = client.at("textDocument/hover", URI, line, character);
        answer["contents"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let event = hover(&mut client, 2, 22);
    assert!(
        event.starts_with("**text_replied** (built-in event): the lead texted back")
            && event.contains("`event.from` (text)"),
        "{event}"
    );
    let goal_field = hover(&mut client, 2, 40);
    assert!(
        goal_field.contains("**event.text**: `optional text`")
            && goal_field.contains("what the lead wrote"),
        "{goal_field}"
    );
    let trigger_field = hover(&mut client, 1, 40);
    assert!(
        trigger_field.contains("**event.outcome**")
            && trigger_field.contains("`call_completed` event"),
        "{trigger_field}"
    );
    client.stop();
}

#[test]
fn definitions_of_labels_and_fields() {
    let mut client = Client::start();
    client.open(URI, SOURCE);
    let label = client.at("textDocument/definition", URI, 12, 10);
    assert_eq!(label["uri"], URI);
    assert_eq!(label["range"]["start"], json!({"line": 6, "character": 10}));
    let field = client.at("textDocument/definition", URI, 4, 20);
    assert_eq!(field["range"]["start"], json!({"line": 3, "character": 4}));
    assert_eq!(
        client.at("textDocument/definition", URI, 4, 38),
        Value::Null
    );
    client.stop();
}

fn labels(items: &Value) -> Vec<String> {
    items
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item["label"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn completion_offers_keywords_fields_labels_and_timezones() {
    let mut client = Client::start();
    let text = format!("{SOURCE}    goto \n    \n  timezone Europe/Be\n    exit \"{{{{ \"\n");
    client.open(URI, &text);
    let lines = SOURCE.lines().count() as u32;
    let gotos = labels(&client.at("textDocument/completion", URI, lines, 9));
    assert_eq!(gotos, ["first"]);
    let keywords = labels(&client.at("textDocument/completion", URI, lines + 1, 4));
    for keyword in [
        "send email",
        "call phone",
        "wait",
        "condition",
        "notify slack",
        "http post",
        "prompt",
    ] {
        assert!(
            keywords.contains(&keyword.to_owned()),
            "{keyword} in {keywords:?}"
        );
    }
    let zones = labels(&client.at("textDocument/completion", URI, lines + 2, 20));
    assert!(
        zones.contains(&"Europe/Berlin".to_owned()),
        "{} zones",
        zones.len()
    );
    let fields = labels(&client.at("textDocument/completion", URI, lines + 3, 13));
    assert!(
        fields.contains(&"lead_score".to_owned()) && fields.contains(&"first_name".to_owned()),
        "{fields:?}"
    );
    let criteria = labels(&client.at("textDocument/completion", URI, 4, 15));
    assert!(criteria.contains(&"lead_score".to_owned()), "{criteria:?}");
    client.stop();
}

#[test]
fn symbols_outline_the_workflow_and_formatting_gives_fmt() {
    let mut client = Client::start();
    let messy = SOURCE.replace("\n    send email", "\n        send   email");
    client.open(URI, &messy);
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": URI}}),
    );
    let workflow = &symbols[0];
    assert_eq!(workflow["name"], "demo");
    let children: Vec<String> = workflow["children"]
        .as_array()
        .expect("children")
        .iter()
        .map(|child| child["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        children,
        [
            "lead_score",
            "trigger",
            "first: send email",
            "wait 1 day",
            "goto first"
        ]
    );
    let edits = client.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": URI}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert_eq!(edits[0]["newText"], SOURCE);
    client.stop();
}

/// Right after a change, requests that need different readings of the
/// parse (the outline, the tokens, the tree) arrive at once, in every
/// order: each is answered, none waits for a reading that never comes.
#[test]
fn requests_right_after_a_change_each_get_their_reading() {
    let mut client = Client::start();
    let pid = client.child.id();
    // A server that hangs fails the test instead of holding it up.
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(60));
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    });
    client.open(URI, SOURCE);
    let document = json!({"textDocument": {"uri": URI}});
    let hover = json!({"textDocument": {"uri": URI}, "position": {"line": 7, "character": 5}});
    let requests = [
        ("textDocument/documentSymbol", document.clone()),
        ("textDocument/semanticTokens/full", document.clone()),
        ("textDocument/hover", hover),
        ("textDocument/foldingRange", document),
    ];
    for (version, first) in (2..).zip(0..requests.len()) {
        let edited = SOURCE.replace("wait 1 day", &format!("wait {version} days"));
        client.change(URI, version, &edited);
        let order: Vec<_> = requests[first..].iter().chain(&requests[..first]).collect();
        let ids: Vec<u64> = order
            .iter()
            .map(|(method, params)| client.send_request(method, params))
            .collect();
        for ((method, _), id) in order.iter().zip(ids) {
            let answer = client.next_response();
            assert_eq!(answer["id"], id, "{method}: {answer}");
            assert!(
                answer["result"].is_object() || answer["result"].is_array(),
                "{method}: {answer}"
            );
        }
        let symbols = client.request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": URI}}),
        );
        let names = symbols[0]["children"].to_string();
        assert!(names.contains(&format!("wait {version} days")), "{names}");
    }
    client.stop();
}

/// A document edited in its header, trigger and steps (which the server
/// reads again only around the edit) answers exactly as the same text
/// opened fresh: outline, folds, tokens, hover, definitions and
/// diagnostics, at positions before and after the edit.
#[test]
fn an_edited_document_answers_as_the_same_text_opened_fresh() {
    const WHOLE: [&str; 3] = [
        "textDocument/documentSymbol",
        "textDocument/foldingRange",
        "textDocument/semanticTokens/full",
    ];
    let mut client = Client::start();
    let edited = "file:///tmp/flowc-lsp-edited/a.flow";
    let steps = "    wait 2 hours\n    condition\n      branch big when lead_score > 90\n        wait 1 hour\n      else\n        exit\n    end\n    goto first\n";
    let mut text = SOURCE.replace("    goto first\n", steps);
    client.open(edited, &text);
    client.diagnostics(edited);
    let changes: [(&str, &str); 9] = [
        ("workflow demo", "workflow demo-renamed"),
        ("lead_score >= 40", "lead_score >= 50"),
        (
            "subject \"Hi {{ first_name }}\"",
            "subject \"Hello {{ first_name }}, again\"",
        ),
        (
            "wait 2 hours",
            "wait 2 hours\n    send text\n      message \"Still there?\"",
        ),
        (
            "branch big when lead_score > 90",
            "branch huge when lead_score > 95",
        ),
        ("goto first", "goto frist"),
        // Syntax errors made and mended.
        ("    wait 2 hours\n", "    wait 2 hourz\n"),
        (
            "branch huge when lead_score > 95",
            "branch huge when lead_score >",
        ),
        ("    wait 2 hourz\n", "    wait 2 hours\n"),
    ];
    let document = |uri: &str| json!({"textDocument": {"uri": uri}});
    for (version, (from, to)) in (2..).zip(changes) {
        assert!(text.contains(from), "{from}");
        text = text.replacen(from, to, 1);
        client.change(edited, version, &text);
        let answers: Vec<Value> = WHOLE
            .iter()
            .map(|method| client.request(method, document(edited)))
            .collect();
        let fresh = format!("file:///tmp/flowc-lsp-edited/fresh{version}.flow");
        client.open(&fresh, &text);
        for (method, answer) in WHOLE.iter().zip(answers) {
            let expected = client.request(method, document(&fresh));
            assert_eq!(answer, expected, "{method} after {to:?}");
        }
        for line in 0..text.lines().count() as u32 {
            for method in ["textDocument/hover", "textDocument/definition"] {
                let answer = client.at(method, edited, line, 6);
                let mut expected = client.at(method, &fresh, line, 6);
                if let Some(uri) = expected.get_mut("uri") {
                    *uri = json!(edited);
                }
                assert_eq!(answer, expected, "{method} on line {line} after {to:?}");
            }
        }
        let errors = |diagnostics: Vec<Value>| -> Vec<String> {
            diagnostics
                .iter()
                .map(|d| format!("{} {}", d["range"], d["message"]))
                .collect()
        };
        assert_eq!(
            errors(client.diagnostics(edited)),
            errors(client.diagnostics(&fresh))
        );
    }
    client.stop();
}

/// A split: hover on its keywords explains them, and the outline nests
/// each variant's steps under it.
#[test]
fn splits_are_outlined_and_explained() {
    let mut client = Client::start();
    let text = "workflow ab\n  trigger when email is set\n  steps\n    split\n      variant a 50%\n        wait 1 day\n      variant b 50%\n        wait 2 days\n    end\n";
    client.open(URI, text);
    assert_eq!(client.diagnostics(URI), Vec::<Value>::new());
    for (line, character, keyword) in [(3, 5, "**split**"), (4, 8, "**variant**")] {
        let hover = client.at("textDocument/hover", URI, line, character);
        let shown = hover["contents"]["value"].as_str().unwrap_or_default();
        assert!(shown.starts_with(keyword), "{shown}");
    }
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": URI}}),
    );
    let steps = &symbols[0]["children"];
    let split = steps
        .as_array()
        .and_then(|steps| steps.iter().find(|step| step["name"] == "split"))
        .expect("the split is outlined");
    let variants: Vec<(String, String)> = split["children"]
        .as_array()
        .expect("variants")
        .iter()
        .map(|variant| {
            let step = variant["children"][0]["name"].as_str().unwrap_or_default();
            (
                variant["name"].as_str().unwrap_or_default().to_owned(),
                step.to_owned(),
            )
        })
        .collect();
    assert_eq!(
        variants,
        [
            ("variant a".to_owned(), "wait 1 day".to_owned()),
            ("variant b".to_owned(), "wait 2 days".to_owned())
        ]
    );
    client.stop();
}

/// Notifications whose params are missing, null or of the wrong shape are
/// skipped with a line in the client's log; the server goes on answering.
/// Each of these once ended it.
#[test]
fn malformed_notifications_are_skipped_not_fatal() {
    let mut client = Client::start();
    let uri = "file:///tmp/flowc-lsp-malformed/a.flow";
    client.open(
        uri,
        "workflow a\n  trigger when email is set\n  steps\n    wait 1 day\n",
    );
    assert!(client.diagnostics(uri).is_empty());
    for (method, params) in [
        ("textDocument/didOpen", json!({})),
        ("textDocument/didOpen", json!({"textDocument": {"uri": 42}})),
        ("textDocument/didChange", Value::Null),
        (
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": 2}}),
        ),
        (
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": []}),
        ),
        ("textDocument/didClose", json!({"textDocument": {}})),
    ] {
        client.notify(method, params);
    }
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    assert!(
        !symbols.as_array().expect("symbols").is_empty(),
        "{symbols}"
    );
    let logged = client
        .notifications
        .iter()
        .filter(|n| n["method"] == "window/logMessage")
        .count();
    assert_eq!(logged, 5, "{:?}", client.notifications);
    client.stop();
}

fn framed(body: &str) -> String {
    format!("Content-Length: {}\r\n\r\n{body}", body.len())
}

/// Requests before `initialize` are refused with -32002 (they once ended
/// the server), and it initializes normally afterwards.
#[test]
fn requests_before_initialize_are_refused_not_fatal() {
    let mut client = Client::spawn();
    let refused = client.exchange("textDocument/hover", json!({}));
    assert_eq!(refused["error"]["code"], -32002, "{refused}");
    let info = client.request("initialize", json!({"capabilities": {}}));
    assert_eq!(info["serverInfo"]["name"], "flowc");
    let again = client.exchange("initialize", json!({"capabilities": {}}));
    assert_eq!(again["error"]["code"], -32600, "{again}");
    client.stop();
}

/// Streams that once ended the server: each gets its JSON-RPC error (or a
/// line in the log) and the next request is answered.
#[test]
fn malformed_streams_get_errors_and_the_server_goes_on() {
    let mut client = Client::start();
    let uri = "file:///tmp/flowc-lsp-streams/a.flow";
    client.open(uri, SOURCE);
    let ping = |client: &mut Client| {
        let symbols = client.request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": uri}}),
        );
        assert_eq!(symbols[0]["name"], "demo", "{symbols}");
    };
    let position = |line: u64, character: u64| json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}});
    // (what is sent, the error code of its response; None: no response)
    let cases: Vec<(String, Option<i64>)> = vec![
        ("Content-Length: twelve\r\n\r\n{}".into(), Some(-32700)),
        (framed("{not json"), Some(-32700)),
        (framed(r#"[{"jsonrpc":"2.0","id":7,"method":"shutdown"}]"#), Some(-32600)),
        (framed("\"hello\""), Some(-32600)),
        (framed(r#"{"jsonrpc":"2.0","id":99999999999,"method":"textDocument/hover"}"#), Some(-32600)),
        (framed(r#"{"jsonrpc":"2.0","id":8,"method":42}"#), Some(-32600)),
        (framed(r#"{"jsonrpc":"2.0","id":9,"method":"textDocument/hover","params":null}"#), Some(-32602)),
        (framed(&json!({"jsonrpc":"2.0","id":10,"method":"textDocument/hover","params":position(4_294_967_296, 0)}).to_string()), Some(-32602)),
        (framed(r#"{"jsonrpc":"2.0","id":11,"method":"textDocument/hover","params":{"textDocument":{"uri":"not a uri"},"position":{"line":0,"character":0}}}"#), Some(-32602)),
        (framed(r#"{"jsonrpc":"2.0","id":12,"method":"flowc/nothing"}"#), Some(-32601)),
        (framed(r#"{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"::","text":1}}}"#), None),
        (framed(r#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}"#), None),
        (framed(r#"{"jsonrpc":"2.0","id":13,"result":null}"#), None),
        ("Content-Type: application/json\r\n\r\n".into(), Some(-32700)),
    ];
    for (sent, code) in cases {
        client.raw(&sent);
        if let Some(code) = code {
            let response = client.next_response();
            assert_eq!(response["error"]["code"], code, "{sent}: {response}");
            let message = response["error"]["message"].as_str().expect("a message");
            assert!(
                !message.contains("Error(") && !message.contains('{'),
                "a sentence: {message}"
            );
        }
        ping(&mut client);
    }
    // Past the end of a line or the file is clamped, not an error.
    let hover = client.request("textDocument/hover", position(4_000_000, 4_000_000));
    assert!(hover.is_null(), "{hover}");
    client.stop();
}

/// A `Content-Length` too large to allocate is read past without holding
/// it: the server ends cleanly when the stream does, never aborts.
#[test]
fn a_huge_content_length_does_not_abort() {
    let mut client = Client::start();
    client.raw("Content-Length: 99999999999999\r\n\r\n{}");
    drop(client.input);
    let status = client.child.wait().expect("flowc lsp exits");
    assert_eq!(status.code(), Some(0), "{status}");
}

/// A duplicate label points at the first one as related information.
#[test]
fn secondary_labels_are_related_information() {
    let mut client = Client::start();
    let uri = "file:///tmp/flowc-lsp-related/a.flow";
    let text = "workflow a\n  trigger when email is set\n  steps\n    label first\n    wait 1 day\n    label first\n    wait 1 day\n";
    client.open(uri, text);
    let diagnostics = client.diagnostics(uri);
    let duplicate = diagnostics
        .iter()
        .find(|d| d["range"]["start"]["line"] == 5)
        .unwrap_or_else(|| panic!("{diagnostics:?}"));
    let related = &duplicate["relatedInformation"][0];
    assert_eq!(related["message"], "first used here", "{duplicate}");
    assert_eq!(related["location"]["uri"], uri);
    assert_eq!(related["location"]["range"]["start"]["line"], 3);
    client.stop();
}

/// A `flowc.toml` that cannot be read is a diagnostic on the first line
/// of the documents beside it, pointing into the file; fixed, it goes.
#[test]
fn an_invalid_flowc_toml_is_a_diagnostic() {
    let dir = tempfile::tempdir().expect("a folder");
    let config = dir.path().join("flowc.toml");
    std::fs::write(&config, "[email]\nfrom = \n").expect("written");
    let path = dir.path().join("a.flow");
    let uri = format!("file://{}", path.display());
    let mut client = Client::start();
    client.open(&uri, SOURCE);
    let diagnostics = client.diagnostics(&uri);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0]["code"], "E0600");
    let message = diagnostics[0]["message"].as_str().expect("text");
    assert!(message.contains("flowc.toml cannot be used"), "{message}");
    let related = &diagnostics[0]["relatedInformation"][0]["location"];
    assert_eq!(related["uri"], format!("file://{}", config.display()));
    assert_eq!(related["range"]["start"]["line"], 1, "{related}");
    std::fs::remove_file(&config).expect("removed");
    client.change(&uri, 2, SOURCE);
    assert!(client.diagnostics(&uri).is_empty());
    client.stop();
}

const NESTED: &str = r#"workflow nested
  trigger when email is set
  steps
    call phone
      agent "ava"
      on answered
        wait 1 day
        send text
          body """
            Thanks
            again
          """
      on voicemail
        exit
    end
    wait 1 day
"#;

/// A step's outline range holds its outcomes and its `end`; folding ranges
/// cover the step, each outcome and the `"""` body. A detail the name
/// already says, and empty children, are left out.
#[test]
fn symbols_and_folds_cover_nested_steps_and_end() {
    let mut client = Client::start();
    let uri = "file:///tmp/flowc-lsp-folds/a.flow";
    client.open(uri, NESTED);
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    let call = &symbols[0]["children"][1];
    assert_eq!(call["name"], "call phone", "{symbols}");
    assert_eq!(call.get("detail"), None, "the name says it: {call}");
    let on = &call["children"][1];
    assert_eq!(on["name"], "on voicemail", "{call}");
    assert_eq!(on["detail"], "outcome", "{on}");
    assert_eq!(on["children"][0].get("children"), None, "{on}");
    assert_eq!(call["range"]["start"]["line"], 3);
    assert_eq!(call["range"]["end"]["line"], 14, "through `end`: {call}");
    assert_eq!(call["selectionRange"]["end"]["line"], 3);
    let answered = &call["children"][0];
    assert_eq!(answered["range"]["end"]["line"], 11, "{answered}");
    let folds = client.request(
        "textDocument/foldingRange",
        json!({"textDocument": {"uri": uri}}),
    );
    let lines: Vec<(u64, u64)> = folds
        .as_array()
        .expect("folds")
        .iter()
        .map(|fold| {
            (
                fold["startLine"].as_u64().unwrap(),
                fold["endLine"].as_u64().unwrap(),
            )
        })
        .collect();
    for expected in [(0, 15), (3, 14), (5, 11), (7, 11), (8, 11)] {
        assert!(lines.contains(&expected), "{expected:?} in {lines:?}");
    }
    client.stop();
}

/// A burst of changes (sent in one write, as fast typing arrives) is
/// checked once, at its end: one set of diagnostics, for the last text.
#[test]
fn diagnostics_are_debounced_to_the_last_change() {
    let mut client = Client::start();
    let uri = "file:///tmp/flowc-lsp-debounce/a.flow";
    client.open(uri, SOURCE);
    assert!(client.diagnostics(uri).is_empty());
    let burst: String = (2..=21)
        .map(|version| {
            let text = SOURCE.replace("lead_score >= 40", &format!("lead_score >= {version}x"));
            let text = if version == 21 {
                SOURCE.replace("goto first", "goto nowhere")
            } else {
                text
            };
            framed(
                &json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"text": text}]}})
                .to_string(),
            )
        })
        .collect();
    client.raw(&burst);
    let diagnostics = client.diagnostics(uri);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert!(diagnostics[0]["message"]
        .as_str()
        .unwrap()
        .contains("nowhere"));
    // Anything published for the burst came before this answer.
    client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    let more = client
        .notifications
        .iter()
        .filter(|n| n["method"] == "textDocument/publishDiagnostics")
        .count();
    assert_eq!(more, 0, "{:?}", client.notifications);
    client.stop();
}

/// Applies a client's text edits (one document, LSP positions) to `text`.
fn apply(text: &str, edits: &[Value]) -> String {
    let offset = |position: &Value| {
        let line = position["line"].as_u64().unwrap() as usize;
        let character = position["character"].as_u64().unwrap() as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        start + character
    };
    let mut edits: Vec<(usize, usize, &str)> = edits
        .iter()
        .map(|edit| {
            let range = &edit["range"];
            (
                offset(&range["start"]),
                offset(&range["end"]),
                edit["newText"].as_str().unwrap(),
            )
        })
        .collect();
    edits.sort_by_key(|edit| std::cmp::Reverse(edit.0));
    let mut out = text.to_owned();
    for (start, end, new) in edits {
        out.replace_range(start..end, new);
    }
    out
}

const NAMES: &str = r#"workflow names
  fields
    score number
  event booked
    slot datetime
  trigger when score >= 40
  goal won on booked when event.slot is set
  steps
    label again
    send email
      to lead
      subject "Score {{ score }}"
      body "Hi"
    wait for booked up to 2 days
    goto again up to 2 times
"#;

/// References of a field, a label and an event find every use in the
/// workflow, with or without the declaration; rename rewrites them all
/// and the result still checks; standard fields and keywords refuse.
#[test]
fn references_and_rename_follow_names() {
    let mut client = Client::start();
    let uri = "file:///tmp/flowc-lsp-names/a.flow";
    client.open(uri, NAMES);
    let lines = |locations: &Value| -> Vec<u64> {
        let mut lines: Vec<u64> = locations
            .as_array()
            .expect("locations")
            .iter()
            .map(|l| l["range"]["start"]["line"].as_u64().unwrap())
            .collect();
        lines.sort_unstable();
        lines
    };
    let references = |client: &mut Client, line: u32, character: u32, declaration: bool| {
        client.request(
            "textDocument/references",
            json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character},
                   "context": {"includeDeclaration": declaration}}),
        )
    };
    // `score` on the trigger line: declared on line 2, used on 5 and 11.
    assert_eq!(lines(&references(&mut client, 5, 16, true)), [2, 5, 11]);
    assert_eq!(lines(&references(&mut client, 5, 16, false)), [5, 11]);
    // the label `again`, from the goto.
    assert_eq!(lines(&references(&mut client, 14, 11, true)), [8, 14]);
    // the event `booked`, from `wait for`.
    assert_eq!(lines(&references(&mut client, 13, 15, true)), [3, 6, 13]);

    let edit = client.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": uri}, "position": {"line": 11, "character": 26}, "newName": "lead-score"}),
    );
    let renamed = apply(NAMES, edit["changes"][uri].as_array().expect("edits"));
    assert_eq!(renamed.matches("lead-score").count(), 3, "{renamed}");
    assert!(
        flowc::check::check_source(&renamed, None, None).is_empty(),
        "{renamed}"
    );

    for (line, character, new_name, reason) in [
        (10, 8, "x", "there is no label"), // `lead` in `to lead`: a keyword
        (8, 10, "score", "already has"),   // a label may share a field's name
        (8, 10, "again", "already has"),   // ... but not another label's
        (5, 16, "is", "is not a name"),
        (5, 16, "2x", "is not a name"),
    ] {
        let refused = client.exchange(
            "textDocument/rename",
            json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}, "newName": new_name}),
        );
        if new_name == "score" {
            assert!(refused.get("error").is_none(), "{refused}");
            continue;
        }
        let message = refused["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("{refused}"));
        assert!(message.contains(reason), "{message}");
    }
    let standard = "workflow s\n  trigger when email is set\n  steps\n    wait 1 day\n";
    client.open("file:///tmp/flowc-lsp-names/s.flow", standard);
    let refused = client.exchange(
        "textDocument/prepareRename",
        json!({"textDocument": {"uri": "file:///tmp/flowc-lsp-names/s.flow"}, "position": {"line": 1, "character": 16}}),
    );
    let message = refused["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{refused}"));
    assert!(message.contains("standard lead field"), "{message}");
    client.stop();
}

/// Every "did you mean" is a quick fix; applied, the file checks.
#[test]
fn did_you_mean_is_a_quick_fix() {
    let mut client = Client::start();
    for (uri, broken) in [
        (
            "file:///tmp/flowc-lsp-fix/field.flow",
            SOURCE.replace("lead_score >= 40", "lead_scor >= 40"),
        ),
        (
            "file:///tmp/flowc-lsp-fix/label.flow",
            SOURCE.replace("goto first", "goto frist"),
        ),
        (
            "file:///tmp/flowc-lsp-fix/template.flow",
            SOURCE.replace("{{ first_name }}", "{{ frist_name }}"),
        ),
        (
            "file:///tmp/flowc-lsp-fix/zone.flow",
            SOURCE.replace("America/New_York", "America/New_Yrok"),
        ),
    ] {
        client.open(uri, &broken);
        let diagnostics = client.diagnostics(uri);
        assert_eq!(diagnostics.len(), 1, "{uri}: {diagnostics:?}");
        let actions = client.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": diagnostics[0]["range"],
                   "context": {"diagnostics": diagnostics}}),
        );
        let action = &actions[0];
        assert_eq!(action["kind"], "quickfix", "{uri}: {actions}");
        assert_eq!(action["isPreferred"], true);
        let fixed = apply(
            &broken,
            action["edit"]["changes"][uri].as_array().expect("edits"),
        );
        assert_eq!(fixed, SOURCE, "{uri}");
    }
    client.stop();
}

/// Semantic tokens, decoded: keywords inside hyphenated names are not
/// keywords, a field named `email` is a property while the channel word
/// is a keyword, and a `"""` body is a string on each of its lines.
#[test]
fn semantic_tokens_know_names_from_keywords() {
    let mut client = Client::start();
    let uri = "file:///tmp/flowc-lsp-tokens/a.flow";
    let text = "workflow opt-in\n  trigger when email is set and is-vip is true\n  fields\n    is-vip bool\n  steps\n    send email\n      to lead\n      body \"\"\"\n        Hi {{ email }}\n      \"\"\"\n";
    client.open(uri, text);
    let tokens = client.request(
        "textDocument/semanticTokens/full",
        json!({"textDocument": {"uri": uri}}),
    );
    let data: Vec<u64> = tokens["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect();
    let lines: Vec<&str> = text.lines().collect();
    let (mut line, mut start) = (0, 0);
    let mut decoded = Vec::new();
    for token in data.chunks(5) {
        line += token[0] as usize;
        start = if token[0] == 0 {
            start + token[1] as usize
        } else {
            token[1] as usize
        };
        let word = &lines[line][start..start + token[2] as usize];
        decoded.push((line, word.to_owned(), token[3]));
    }
    // Types by index in the legend: 0 keyword, 1 namespace, 3 property, 7 string.
    let kind_of = |line: usize, word: &str| {
        decoded
            .iter()
            .find(|(l, w, _)| *l == line && w == word)
            .map(|(_, _, kind)| *kind)
            .unwrap_or_else(|| panic!("{word} on line {line} in {decoded:?}"))
    };
    assert_eq!(kind_of(0, "opt-in"), 1);
    assert_eq!(kind_of(1, "email"), 3);
    assert_eq!(kind_of(1, "is-vip"), 3);
    assert_eq!(kind_of(5, "email"), 0);
    assert_eq!(kind_of(8, "email"), 3);
    assert_eq!(kind_of(8, "        Hi "), 7);
    assert!(
        !decoded.iter().any(|(_, w, _)| w == "in" || w == "is-"),
        "{decoded:?}"
    );
    client.stop();
}

/// Completion offers what fits where the cursor is: after a word, at the
/// start of a line in each section, and inside templates.
#[test]
fn completion_fits_the_context() {
    let mut client = Client::start();
    let uri = "file:///tmp/flowc-lsp-complete/a.flow";
    // Each `@` marks a place asked about; it is removed from the text.
    let marked = r#"workflow ctx
  @
  fields
    score @
    tags optional @
  event booked
    slot datetime
  trigger on booked
  goal won when score is @
  windows
    @
  steps
    send @
    send email
      @
      subject "Hi {{ event.@ }} {{ first_name | @ }}"
    notify @
    http @
    call phone
      on @
    end
    wait @
    wait for booked up to 2 days
      on @
    end
    send text
      to @
"#;
    let mut text = String::new();
    let mut places = Vec::new();
    for (line, row) in marked.lines().enumerate() {
        let mut rest = row;
        while let Some(at) = rest.find('@') {
            let column = text.len() - text.rfind('\n').map_or(0, |n| n + 1) + at;
            places.push((line as u32, column as u32));
            text.push_str(&rest[..at]);
            rest = &rest[at + 1..];
        }
        text.push_str(rest);
        text.push('\n');
    }
    client.open(uri, &text);
    let expected: [(&[&str], &[&str]); 15] = [
        (
            &["fields", "steps", "timezone", "on send failure"],
            &["send email", "to lead"],
        ),
        (
            &["text", "number", "bool", "datetime", "optional", "list of"],
            &["send email"],
        ),
        (&["text", "list of"], &["optional"]),
        (&["set", "one of", "between", "within last"], &["score"]),
        (&["email", "text", "call"], &["send email", "timezone"]),
        (&["email", "text"], &["phone", "slack"]),
        (
            &["to lead", "subject", "body", "cc", "transactional"],
            &["send email", "agent"],
        ),
        (&["slot"], &["score"]),
        (&["default", "upper", "lower"], &["score"]),
        (&["slack", "teams"], &["email"]),
        (&["get", "post", "put"], &[]),
        (
            &["answered", "voicemail", "no answer", "failed"],
            &["error", "timeout"],
        ),
        (&["until", "for"], &["send email"]),
        (&["event", "timeout"], &["answered"]),
        (&["lead", "rep"], &[]),
    ];
    assert_eq!(places.len(), expected.len(), "{places:?}");
    for ((line, character), (present, absent)) in places.into_iter().zip(expected) {
        let offered = labels(&client.at("textDocument/completion", uri, line, character));
        for word in present {
            assert!(
                offered.contains(&(*word).to_owned()),
                "line {line}: {word} in {offered:?}"
            );
        }
        for word in absent {
            assert!(
                !offered.contains(&(*word).to_owned()),
                "line {line}: not {word} in {offered:?}"
            );
        }
    }
    client.stop();
}

/// After Enter, an `end` typed after call outcomes goes back to the
/// call's indent (two levels), as `flowc fmt` lays it out.
#[test]
fn enter_after_end_gives_it_the_indent_of_its_step() {
    let mut client = Client::start();
    let uri = "file:///tmp/flowc-lsp-ontype/a.flow";
    let typed = "workflow a\n  trigger when email is set\n  steps\n    call phone\n      on answered\n        exit\n      end\n    \n";
    client.open(uri, typed);
    let edits = client.request(
        "textDocument/onTypeFormatting",
        json!({"textDocument": {"uri": uri}, "position": {"line": 7, "character": 4}, "ch": "\n",
               "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    let fixed = apply(typed, edits.as_array().expect("edits"));
    assert!(fixed.contains("        exit\n    end\n"), "{fixed}");
    // A line already where fmt puts it is left alone.
    let edits = client.request(
        "textDocument/onTypeFormatting",
        json!({"textDocument": {"uri": uri}, "position": {"line": 6, "character": 0}, "ch": "\n",
               "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert_eq!(edits, json!([]));
    client.stop();
}

/// A long document (128 KB or more: the server reads it in two halves) is
/// read as `flowc check` reads it: a goal after its steps is in its
/// outline, and the errors of a misspelled step in each half are published
/// where and as `check` reports them.
#[test]
fn a_long_document_is_read_as_check_reads_it() {
    let mut client = Client::start();
    let uri = "file:///tmp/flowc-lsp-long/long.flow";
    let mut text = String::from(
        "workflow long\n  fields\n    score number\n  trigger when email is set\n  steps\n",
    );
    for i in 0..1500 {
        text.push_str(&format!(
            "    label s{i}\n    send email\n      subject \"Step {i}\"\n      body \"Block {i}\"\n    condition\n      branch b{i} when score > {i}\n        goto s0\n      else\n        wait 1 hour\n    end\n    wait 2 hours\n"
        ));
    }
    text.push_str("  goal scored when score > 100\n");
    assert!(text.len() > 128 * 1024, "{} bytes", text.len());

    client.open(uri, &text);
    let outline = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    let entries = outline[0]["children"].as_array().expect("entries");
    let goal = entries.iter().find(|entry| entry["name"] == "scored");
    assert_eq!(goal.map(|goal| &goal["detail"]), Some(&json!("goal")));
    assert_eq!(
        entries.len(),
        1 + 1 + 1 + 1500 * 3,
        "field, trigger, goal, steps"
    );

    assert_eq!(published(&mut client, uri), checked(&text));

    let mut broken = text.clone();
    for block in [100, 1400] {
        let step = format!("    label s{block}\n    send email\n");
        broken = broken.replacen(&step, &format!("    label s{block}\n    sned email\n"), 1);
    }
    client.change(uri, 2, &broken);
    let expected = checked(&broken);
    let syntax: Vec<u64> = expected
        .iter()
        .filter(|(_, code)| code == "E0001")
        .map(|(line, _)| *line)
        .collect();
    assert_eq!(syntax, [1106, 15406]);
    assert_eq!(published(&mut client, uri), expected);
    client.stop();
}

/// The next diagnostics published for `uri`, as (line, code), in order.
fn published(client: &mut Client, uri: &str) -> Vec<(u64, String)> {
    let mut found: Vec<(u64, String)> = client
        .diagnostics(uri)
        .iter()
        .map(|found| {
            let line = found["range"]["start"]["line"].as_u64().expect("line");
            (line, found["code"].as_str().expect("code").to_owned())
        })
        .collect();
    found.sort();
    found
}

/// What `flowc check` finds in `text`, as (line, code), in order.
fn checked(text: &str) -> Vec<(u64, String)> {
    let line_of = |at: u32| text[..at as usize].matches('\n').count() as u64;
    let mut found: Vec<(u64, String)> = flowc::check::check_source(text, None, None)
        .iter()
        .map(|found| (line_of(found.span().start), found.code()))
        .collect();
    found.sort();
    found
}
