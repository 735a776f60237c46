//! `cargo bench --bench lsp`: how fast `flowc lsp` answers on a 10,000-step
//! file, over stdio as an editor talks to it. Prints the median time of
//! each request with the document's reading kept, of the first request
//! after typing in a step, after renaming the workflow and after
//! misspelling a step (a syntax error; each read again around the edit),
//! after a comment on the `steps` line (which decides where the whole
//! step list begins: the file read whole), after both (read whole with an
//! error in it), and from a change to its
//! diagnostics (debounced by 150 ms, which is included). Goal: every
//! request under 50 ms.

use std::io::BufReader;
use std::process::{ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[path = "../tests/support/lsp_wire.rs"]
mod wire;

/// A workflow of `steps` steps: sends with options, waits, conditions
/// with nested steps, labels and gotos.
fn workflow(steps: usize) -> String {
    let mut source = String::from(
        "workflow big\n  timezone America/New_York\n  fields\n    score number\n  trigger when email is set and score > 10\n  steps\n",
    );
    let blocks = steps / 4;
    for i in 0..blocks {
        let jump = if i + 1 < blocks {
            format!("goto s{}", i + 1)
        } else {
            "exit".to_owned()
        };
        source.push_str(&format!(
            "    label s{i}\n    send email\n      to lead\n      subject \"Step {i} for {{{{ first_name | default: \"you\" }}}}\"\n      body \"Block {i}\"\n    condition\n      branch b{i} when score > {i}\n        {jump}\n      else\n        wait 1 hour\n    end\n    wait 2 hours\n"
        ));
    }
    source
}

/// What the client reads of a message.
#[derive(serde::Deserialize)]
struct Envelope {
    id: Option<u64>,
    method: Option<String>,
    error: Option<Value>,
    params: Option<Published>,
}

/// The params of a notification: those of published diagnostics.
#[derive(serde::Deserialize)]
struct Published {
    #[serde(default)]
    diagnostics: Vec<Value>,
}

struct Client {
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    next: u64,
}

impl Client {
    fn send(&mut self, message: &Value) {
        wire::write(&mut self.input, message);
    }

    /// The next message's envelope (its result is skipped over, not kept:
    /// an editor reads it, but this client's own copy is not the server's
    /// time).
    fn receive(&mut self) -> Envelope {
        serde_json::from_slice(&wire::read(&mut self.output)).expect("JSON")
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and waits for its answer: the time it took.
    fn request(&mut self, method: &str, params: Value) -> Duration {
        self.next += 1;
        let id = self.next;
        let began = Instant::now();
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let message = self.receive();
            if message.id == Some(id) {
                assert!(message.error.is_none(), "{method}: {:?}", message.error);
                return began.elapsed();
            }
        }
    }

    /// Waits for the next diagnostics: the first of them, if any.
    fn diagnostics(&mut self) -> Option<Value> {
        loop {
            let message = self.receive();
            if message.method.as_deref() == Some("textDocument/publishDiagnostics") {
                let params = message.params.expect("params");
                return params.diagnostics.into_iter().next();
            }
        }
    }
}

/// An edit the benchmark makes.
#[derive(Clone, Copy)]
enum Edit {
    /// Typing in a step in the middle of the file.
    Typing,
    /// Renaming the workflow, on its first line.
    Rename,
    /// Misspelling a step's first word: a syntax error.
    Broken,
    /// A comment on the `steps` line: the file read whole.
    Whole,
    /// A comment on the `steps` line and a misspelled step: the file read
    /// whole with an error in it.
    WholeBroken,
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let rounds = if quick { 5 } else { 21 };
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowc"))
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("flowc lsp starts");
    let mut client = Client {
        input: child.stdin.take().expect("stdin"),
        output: BufReader::new(child.stdout.take().expect("stdout")),
        next: 0,
    };
    client.request("initialize", json!({"capabilities": {}}));
    client.notify("initialized", json!({}));
    let uri = "file:///tmp/flowc-bench-lsp/big.flow";
    let text = workflow(10_000);
    let lines = text.lines().count() as u32;
    println!(
        "flowc lsp on a 10,000-step file ({} lines, {} KB), over stdio, median of {rounds}\n",
        lines,
        text.len() / 1024
    );
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "flow", "version": 1, "text": text}}),
    );
    if let Some(first) = client.diagnostics() {
        panic!("the generated file does not check: {first}");
    }
    let at = |line: u32, character: u32| json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}});
    let middle = lines / 2 / 12 * 12 + 6 + 4; // a `subject` line in the middle
    let document = json!({"textDocument": {"uri": uri}});
    let mut references = at(4, 33);
    references["context"] = json!({"includeDeclaration": true});
    let requests: Vec<(&str, &str, Value)> = vec![
        (
            "hover on a keyword",
            "textDocument/hover",
            at(middle - 3, 6),
        ),
        (
            "completion in a template",
            "textDocument/completion",
            at(middle, 26),
        ),
        (
            "completion at a step",
            "textDocument/completion",
            at(middle + 1, 4),
        ),
        (
            "go to definition (goto)",
            "textDocument/definition",
            at(middle + 4, 14),
        ),
        (
            "references of a field",
            "textDocument/references",
            references,
        ),
        (
            "document symbols",
            "textDocument/documentSymbol",
            document.clone(),
        ),
        (
            "folding ranges",
            "textDocument/foldingRange",
            document.clone(),
        ),
        (
            "semantic tokens",
            "textDocument/semanticTokens/full",
            document.clone(),
        ),
    ];
    // Five edits: typing in a step's subject in the middle of the file,
    // renaming the workflow and misspelling a step in the middle (each read
    // again around the edit), a comment on the `steps` line (read whole),
    // and both of the last two (read whole with an error).
    let block = lines / 2 / 12;
    let middle_subject = format!("Step {block} for");
    let middle_step = format!("label s{block}\n    send email\n");
    let misspelled = |text: &str, version: u32| {
        let step = format!("label s{block}\n    send email{version}\n");
        text.replacen(&middle_step, &step, 1)
    };
    let commented = |text: &str, version: u32| {
        text.replacen("  steps\n", &format!("  steps # v{version}\n"), 1)
    };
    let mut version = 1;
    let mut change = |client: &mut Client, edit: Edit| {
        version += 1;
        let edited = match edit {
            Edit::Typing => {
                text.replacen(&middle_subject, &format!("{middle_subject} v{version}"), 1)
            }
            Edit::Rename => text.replace("workflow big", &format!("workflow big{version}")),
            Edit::Broken => misspelled(&text, version),
            Edit::Whole => commented(&text, version),
            Edit::WholeBroken => commented(&misspelled(&text, version), version),
        };
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": edited}]}),
        );
    };
    let (mut worst, mut slowest_whole) = (Duration::ZERO, Duration::ZERO);
    println!(
        "  {:<26} {:>7} {:>9} {:>9} {:>9} {:>9} {:>13}",
        "median ms", "kept", "typing", "renaming", "an error", "whole", "whole, error"
    );
    for (name, method, params) in &requests {
        let cached: Vec<Duration> = (0..rounds)
            .map(|_| client.request(method, params.clone()))
            .collect();
        let mut after = |edit: Edit| -> Duration {
            let times = (0..rounds)
                .map(|_| {
                    change(&mut client, edit);
                    let time = client.request(method, params.clone());
                    client.diagnostics();
                    time
                })
                .collect();
            median(times)
        };
        let (typing, rename, broken, whole, whole_broken) = (
            after(Edit::Typing),
            after(Edit::Rename),
            after(Edit::Broken),
            after(Edit::Whole),
            after(Edit::WholeBroken),
        );
        let cached = median(cached);
        worst = worst.max(cached).max(typing).max(rename).max(broken);
        slowest_whole = slowest_whole.max(whole).max(whole_broken);
        let ms = |time: Duration| time.as_secs_f64() * 1000.0;
        println!(
            "  {name:<26} {:>7.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>13.1}",
            ms(cached),
            ms(typing),
            ms(rename),
            ms(broken),
            ms(whole),
            ms(whole_broken)
        );
    }
    let published: Vec<Duration> = (0..rounds)
        .map(|_| {
            let began = Instant::now();
            change(&mut client, Edit::Typing);
            client.diagnostics();
            began.elapsed()
        })
        .collect();
    println!(
        "\n  change to diagnostics        {:>6.1} ms (150 ms of it the debounce)",
        median(published).as_secs_f64() * 1000.0
    );
    let verdict = |time: Duration| {
        let ms = time.as_secs_f64() * 1000.0;
        let under = if ms < 50.0 {
            "under 50 ms"
        } else {
            "OVER 50 ms"
        };
        format!("{ms:>6.1} ms: {under}")
    };
    println!(
        "  slowest request, kept or read again (median) {}",
        verdict(worst)
    );
    println!(
        "  slowest request, read whole (median)         {}",
        verdict(slowest_whole)
    );
    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    child.wait().expect("flowc lsp exits");
}
