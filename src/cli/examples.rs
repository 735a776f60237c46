//! The examples each subcommand's `--help` ends with. Every line that
//! starts with `flowc` is parsed by a test, so none can go stale.

/// `flowc check`.
pub const CHECK: &str = "Examples:
  flowc check examples/*.flow
  flowc check workflow.flow --format json
  flowc check workflow.flow --format short      # FILE:LINE:COL lines for editors
  flowc check workflow.flow --config flowc.toml";

/// `flowc explain`.
pub const EXPLAIN: &str = "Examples:
  flowc explain E0101";

/// `flowc build`.
pub const BUILD: &str = "Examples:
  flowc build workflow.flow
  flowc build workflow.flow -o workflow.flowc";

/// `flowc disasm`.
pub const DISASM: &str = "Examples:
  flowc disasm workflow.flowc";

/// `flowc run`.
pub const RUN: &str = "Examples:
  flowc run workflow.flow --simulate --leads leads.jsonl --start 2026-03-06T09:00
  flowc run workflow.flow --simulate --leads leads.csv --start 2026-03-06T09:00 --format json
  flowc run workflow.flow --simulate --leads leads.jsonl --start 2026-03-06T09:00 --report report.html
  flowc run                         # live: every published workflow, until stopped
  flowc run --once --db flowc.db    # live: what is due now, then exit (cron)";

/// `flowc publish`.
pub const PUBLISH: &str = "Examples:
  flowc publish workflow.flow
  flowc publish workflow.flow --by ana";

/// `flowc unpublish`.
pub const UNPUBLISH: &str = "Examples:
  flowc unpublish inbound-demo-follow-up";

/// `flowc migrate`.
pub const MIGRATE: &str = "Examples:
  flowc migrate --db postgres://flowc@db.internal/flowc";

/// `flowc leads`.
pub const LEADS: &str = "Examples:
  flowc leads
  flowc leads --workflow inbound-demo-follow-up --status waiting --format json
  flowc leads import leads.jsonl
  flowc leads show lead-42";

/// `flowc event`.
pub const EVENT: &str = "Examples:
  flowc event demo_booked --lead lead-42
  flowc event call_ended --lead lead-42 --data '{\"outcome\": \"answered\"}'";

/// `flowc consent`.
pub const CONSENT: &str = "Examples:
  flowc consent set text +15550100 opted-out --note 'asked on a call'
  flowc consent show ann@example.com";

/// `flowc serve`.
pub const SERVE: &str = "Examples:
  flowc serve
  flowc serve --listen 0.0.0.0:8080 --db postgres://flowc@db.internal/flowc";

/// `flowc token`.
pub const TOKEN: &str = "Examples:
  flowc token create crm-sync
  flowc token list
  flowc token revoke crm-sync";

/// `flowc timeline`.
pub const TIMELINE: &str = "Examples:
  flowc timeline lead-42
  flowc timeline lead-42 --format json";

/// `flowc stats`.
pub const STATS: &str = "Examples:
  flowc stats inbound-demo-follow-up
  flowc stats inbound-demo-follow-up --format json";

/// `flowc retry`.
pub const RETRY: &str = "Examples:
  flowc retry lead-42";

/// `flowc fmt`.
pub const FMT: &str = "Examples:
  flowc fmt workflow.flow
  flowc fmt --check examples/*.flow
  flowc fmt - < workflow.flow";

/// `flowc lsp`.
pub const LSP: &str = "Examples:
  flowc lsp      # started by an editor, which talks to it on stdin and stdout";

/// `flowc graph`.
pub const GRAPH: &str = "Examples:
  flowc graph workflow.flow -o canvas.svg
  flowc graph workflow.flow --format mermaid";

/// `flowc completions`.
pub const COMPLETIONS: &str = "Examples:
  flowc completions bash > ~/.local/share/bash-completion/completions/flowc";

/// `flowc man`.
pub const MAN: &str = "Examples:
  flowc man | man -l -
  flowc man run > flowc-run.1";
