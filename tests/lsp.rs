//! `flowc lsp` driven by a small LSP client over stdio: diagnostics as you
//! type, hover, go to definition, completion, symbols and formatting.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{json, Value};

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
        let mut child = Command::new(env!("CARGO_BIN_EXE_flowc"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("flowc lsp starts");
        let input = child.stdin.take().expect("stdin");
        let output = BufReader::new(child.stdout.take().expect("stdout"));
        let mut client = Client {
            child,
            input,
            output,
            next_id: 0,
            notifications: Vec::new(),
        };
        let capabilities = client.request("initialize", json!({"capabilities": {}}));
        assert_eq!(capabilities["capabilities"]["hoverProvider"], true);
        client.notify("initialized", json!({}));
        client
    }

    fn send(&mut self, message: &Value) {
        let body = message.to_string();
        write!(self.input, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("written");
        self.input.flush().expect("flushed");
    }

    fn receive(&mut self) -> Value {
        let mut length = 0;
        loop {
            let mut line = String::new();
            self.output.read_line(&mut line).expect("a header line");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(value) = line.strip_prefix("Content-Length: ") {
                length = value.parse().expect("a length");
            }
        }
        let mut body = vec![0; length];
        self.output.read_exact(&mut body).expect("a body");
        serde_json::from_slice(&body).expect("JSON")
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let message = self.receive();
            if message["id"] == id {
                assert!(message.get("error").is_none(), "{message}");
                return message["result"].clone();
            }
            self.notifications.push(message);
        }
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
        "notify",
        "http",
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
