//! Real providers against a local HTTP server speaking their APIs
//! (`tests/servers/providers.py`): Slack and Teams payloads, Twilio's form
//! and auth, http steps with allow-list, redirects and extraction; failures
//! held and retried or failed visibly; lead data that cannot inject.

use std::collections::BTreeMap;
use std::path::PathBuf;

use flowc::config::{Config, Http, Twilio, Webhook};
use flowc::providers::Providers;
use serde_json::Value;

#[path = "support/live.rs"]
mod live;
#[path = "support/providers.rs"]
mod providers;
#[path = "support/python.rs"]
mod python;
use providers::Server;

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flowc-providers-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a directory");
    dir
}

/// Runs `source` live for `leads` with `config` until nothing is left;
/// returns each lead's timeline as `kind detail` lines.
fn run(
    dir: &std::path::Path,
    source: &str,
    leads: &str,
    config: Config,
) -> BTreeMap<String, Vec<String>> {
    run_kept(dir, source, leads, config).0
}

/// As [`run`], also giving the runtime, to look into its store.
fn run_kept(
    dir: &std::path::Path,
    source: &str,
    leads: &str,
    config: Config,
) -> (BTreeMap<String, Vec<String>>, flowc::runtime::live::Live) {
    let mut live = live::started(dir, source, leads, "2026-06-01T09:00Z");
    let providers = flowc::runtime::live::Carrier::Sent(std::sync::Arc::new(
        Providers::new(config).expect("providers"),
    ));
    live::run_to_the_end(&mut live, &providers);
    let mut timelines: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (lead, kind, detail) in live::events(&live.store, "v.detail") {
        timelines
            .entry(lead)
            .or_default()
            .push(format!("{kind} {detail}").trim_end().to_owned());
    }
    (timelines, live)
}

fn webhook(env: &str, url: String) -> Webhook {
    std::env::set_var(env, url);
    Webhook {
        url_env: env.to_owned(),
    }
}

/// Slack and Teams targets that post to `server`: each `(target,
/// environment variable holding its URL, path on the server)`.
fn posting(server: &Server, slack: &[(&str, &str, &str)], teams: &[(&str, &str, &str)]) -> Config {
    let mut config = Config::default();
    let targets = |list: &[(&str, &str, &str)]| -> BTreeMap<String, Webhook> {
        list.iter()
            .map(|(target, env, path)| ((*target).to_owned(), webhook(env, server.url(path))))
            .collect()
    };
    config.slack = targets(slack);
    config.teams = targets(teams);
    config
}

#[test]
fn slack_and_teams_get_their_own_payloads_and_failures_hold_or_fail() {
    let dir = tempdir("webhooks");
    let server = Server::start(&dir);
    let config = posting(
        &server,
        &[
            ("sales", "FLOWC_TEST_SLACK_SALES", "/slack/ok"),
            ("flaky", "FLOWC_TEST_SLACK_FLAKY", "/slack/flaky"),
            ("gone", "FLOWC_TEST_SLACK_GONE", "/slack/gone"),
        ],
        &[("events", "FLOWC_TEST_TEAMS_EVENTS", "/teams/ok")],
    );
    let source = r#"workflow notifying
  timezone UTC
  fields
    channel text
  trigger when email is set
  steps
    condition
      branch slack when channel is "slack"
        notify slack sales
          message "New lead {{ email }}"
        notify teams events
          message "Teams: {{ email }}"
      branch flaky when channel is "flaky"
        notify slack flaky
          message "Retry {{ email }}"
      else
        notify slack gone
          message "Lost {{ email }}"
    end
"#;
    let leads = concat!(
        "{\"id\": \"a\", \"email\": \"a@x.example\", \"channel\": \"slack\"}\n",
        "{\"id\": \"b\", \"email\": \"b@x.example\", \"channel\": \"flaky\"}\n",
        "{\"id\": \"c\", \"email\": \"c@x.example\", \"channel\": \"other\"}\n",
    );
    let timelines = run(&dir, source, leads, config);
    let requests = server.requests();
    let slack: Vec<&Value> = requests
        .iter()
        .filter(|r| r["path"] == "/slack/ok")
        .collect();
    assert_eq!(slack.len(), 1);
    assert_eq!(
        serde_json::from_str::<Value>(slack[0]["body"].as_str().unwrap_or_default()).expect("JSON"),
        serde_json::json!({"text": "New lead a@x.example"})
    );
    let teams: Vec<&Value> = requests
        .iter()
        .filter(|r| r["path"] == "/teams/ok")
        .collect();
    let card: Value =
        serde_json::from_str(teams[0]["body"].as_str().unwrap_or_default()).expect("JSON");
    assert_eq!(card["type"], "message");
    let attachment = &card["attachments"][0];
    assert_eq!(
        attachment["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(attachment["content"]["type"], "AdaptiveCard");
    assert_eq!(
        attachment["content"]["body"][0]["text"],
        "Teams: a@x.example"
    );
    assert_eq!(timelines["a"].last().map(String::as_str), Some("completed"));

    let flaky = &timelines["b"];
    assert!(flaky.iter().any(|line| line.starts_with("held slack flaky: Retry b@x.example failed (attempt 1): slack webhook flaky answered 500")), "{flaky:?}");
    assert_eq!(
        flaky.last().map(String::as_str),
        Some("completed"),
        "{flaky:?}"
    );
    assert_eq!(
        requests
            .iter()
            .filter(|r| r["path"] == "/slack/flaky")
            .count(),
        2
    );

    let gone = &timelines["c"];
    assert!(
        gone.iter()
            .any(|line| line.starts_with("undelivered ") && line.contains("answered 404")),
        "{gone:?}"
    );
    assert_eq!(
        gone.last().map(String::as_str),
        Some("completed"),
        "{gone:?}"
    );
}

#[test]
fn texts_go_through_twilio_with_auth_form_and_idempotency_token() {
    let dir = tempdir("twilio");
    let server = Server::start(&dir);
    std::env::set_var("FLOWC_TEST_TWILIO_SID", "AC123");
    std::env::set_var("FLOWC_TEST_TWILIO_TOKEN", "secret");
    let config = Config {
        twilio: Some(Twilio {
            base_url: server.url(""),
            account_sid_env: "FLOWC_TEST_TWILIO_SID".to_owned(),
            auth_token_env: "FLOWC_TEST_TWILIO_TOKEN".to_owned(),
            numbers: [("reminders".to_owned(), "+15550100".to_owned())].into(),
            agents: BTreeMap::new(),
            poll_seconds: 1,
            call_timeout_seconds: 3600,
            default_from: None,
        }),
        ..Config::default()
    };
    let source = "workflow texting\n  timezone UTC\n  trigger when phone_number is set\n  steps\n    send text\n      from reminders\n      body \"Hi {{ first_name | default: \"there\" }} & welcome\"\n";
    let leads = concat!(
        "{\"id\": \"ok\", \"phone_number\": \"+15551234567\", \"first_name\": \"Ann\"}\n",
        "{\"id\": \"busy\", \"phone_number\": \"+15550000429\"}\n",
        "{\"id\": \"invalid\", \"phone_number\": \"+15550000000\"}\n",
    );
    let timelines = run(&dir, source, leads, config);
    let requests: Vec<Value> = server
        .requests()
        .into_iter()
        .filter(|r| r["path"] == "/2010-04-01/Accounts/AC123/Messages.json")
        .collect();
    // Texts go out concurrently: find Ann's by its number.
    let first = requests
        .iter()
        .find(|r| {
            r["body"]
                .as_str()
                .unwrap_or_default()
                .starts_with("To=%2B15551234567")
        })
        .expect("Ann's text");
    assert_eq!(
        first["body"],
        "To=%2B15551234567&From=%2B15550100&Body=Hi+Ann+%26+welcome"
    );
    assert!(
        first["headers"].get("i-twilio-idempotency-token").is_none(),
        "no header Twilio's REST API ignores: only flowc's outbox keeps a text from going twice"
    );
    assert_eq!(
        timelines["ok"].last().map(String::as_str),
        Some("completed")
    );
    let busy = &timelines["busy"];
    assert!(
        busy.iter()
            .any(|line| line.starts_with("held ") && line.contains("answered 429")),
        "{busy:?}"
    );
    assert_eq!(busy.last().map(String::as_str), Some("completed"));
    let retried: Vec<&Value> = requests
        .iter()
        .filter(|r| {
            r["body"]
                .as_str()
                .unwrap_or_default()
                .contains("15550000429")
        })
        .collect();
    assert_eq!(retried.len(), 2);
    assert_eq!(
        retried[0]["body"], retried[1]["body"],
        "a retry sends the same text"
    );
    let invalid = &timelines["invalid"];
    assert!(
        invalid
            .iter()
            .any(|line| line.starts_with("undelivered ") && line.contains("answered 400")),
        "{invalid:?}"
    );
    assert_eq!(invalid.last().map(String::as_str), Some("completed"));
}

#[test]
fn http_steps_stay_on_the_allow_list_encode_urls_and_build_json_that_cannot_be_injected() {
    let dir = tempdir("http");
    let server = Server::start(&dir);
    let config = Config {
        http: Http {
            allow: vec!["127.0.0.1".to_owned()],
        },
        ..Config::default()
    };
    let base = server.url("/api");
    let source = format!(
        r#"workflow enriching
  timezone UTC
  fields
    path text
  trigger when email is set
  steps
    http get "{base}/company?name={{{{ company_name }}}}"
      extract
        size number from company.size
        echoed text from company.name
      on error
        exit "lookup failed"
    end
    http post "{base}/echo"
      body """{{"note": "{{{{ first_name }}}}", "size": {{{{ size }}}}}}"""
      extract
        note text from echo.note
    http get "{base}/{{{{ path }}}}"
      on error
        exit "second call failed"
    end
"#
    );
    let leads = concat!(
        "{\"id\": \"tricky\", \"email\": \"t@x.example\", \"company_name\": \"A&B Co/?x=1\", \"first_name\": \"Bob\\\", \\\"admin\\\": true, \\\"x\\\": \\\"\", \"path\": \"redirect-on\"}\n",
        "{\"id\": \"off\", \"email\": \"o@x.example\", \"company_name\": \"C\", \"first_name\": \"O\", \"path\": \"redirect-off\"}\n",
    );
    let timelines = run(&dir, &source, leads, config.clone());
    let requests = server.requests();
    let lookup = requests
        .iter()
        .find(|r| {
            r["path"] == "/api/company" && r["query"].as_str().unwrap_or_default().contains("A%26B")
        })
        .expect("the lookup");
    assert_eq!(
        lookup["query"], "name=A%26B%20Co%2F%3Fx%3D1",
        "lead data is percent-encoded"
    );
    assert!(lookup["headers"]["idempotency-key"]
        .as_str()
        .is_some_and(|key| key.starts_with("enriching@")));
    let echo = requests
        .iter()
        .find(|r| {
            r["path"] == "/api/echo" && r["body"].as_str().unwrap_or_default().contains("Bob")
        })
        .expect("the post");
    let body: Value =
        serde_json::from_str(echo["body"].as_str().unwrap_or_default()).expect("the body is JSON");
    assert_eq!(
        body,
        serde_json::json!({"note": "Bob\", \"admin\": true, \"x\": \"", "size": 42}),
        "quotes stay inside the string"
    );
    let tricky = &timelines["tricky"];
    assert!(
        tricky
            .iter()
            .any(|line| line.contains("size=42") && line.contains("echoed=\"A&B Co/?x=1\"")),
        "{tricky:?}"
    );
    assert_eq!(
        tricky.last().map(String::as_str),
        Some("completed"),
        "a redirect onto the list is followed: {tricky:?}"
    );
    let off = &timelines["off"];
    assert!(
        off.iter()
            .any(|line| line.contains("redirected off the http allow-list")),
        "{off:?}"
    );
    assert_eq!(
        off.last().map(String::as_str),
        Some("exited second call failed")
    );
    assert!(!requests.iter().any(|r| r["path"] == "/steal"));

    let outside = Config {
        http: Http {
            allow: vec!["api.example.com".to_owned()],
        },
        ..Config::default()
    };
    let dir = tempdir("http-outside");
    let timelines = run(
        &dir,
        &source,
        "{\"id\": \"a\", \"email\": \"a@x.example\"}\n",
        outside,
    );
    assert!(
        timelines["a"]
            .iter()
            .any(|line| line.contains("127.0.0.1 is not on the http allow-list")),
        "{:?}",
        timelines["a"]
    );
}

#[test]
fn secrets_reach_the_server_at_delivery_and_are_stored_nowhere() {
    let dir = tempdir("secrets");
    let server = Server::start(&dir);
    std::env::set_var("FLOWC_TEST_ENRICH_KEY", "enrich-secret-42");
    std::env::remove_var("FLOWC_TEST_UNSET_KEY");
    let config = Config {
        http: Http {
            allow: vec!["127.0.0.1".to_owned()],
        },
        ..Config::default()
    };
    let url = server.url("/api/secure");
    let source = format!(
        r#"workflow secured
  timezone UTC
  trigger when email is set
  steps
    http get "{url}?k={{{{ env.FLOWC_TEST_ENRICH_KEY }}}}"
      header Authorization "Bearer {{{{ env.FLOWC_TEST_ENRICH_KEY }}}}"
      extract
        tier text from tier
    http post "{url}"
      header Authorization "Bearer {{{{ env.FLOWC_TEST_UNSET_KEY }}}}"
      body """{{"key": "{{{{ env.FLOWC_TEST_ENRICH_KEY }}}}"}}"""
"#
    );
    let (timelines, live) = run_kept(
        &dir,
        &source,
        "{\"id\": \"a\", \"email\": \"a@x.example\"}\n",
        config,
    );
    let requests = server.requests();
    assert_eq!(
        requests.len(),
        1,
        "the second step is never sent: {requests:?}"
    );
    assert_eq!(
        requests[0]["headers"]["authorization"], "Bearer enrich-secret-42",
        "the secret is read at delivery"
    );
    assert_eq!(requests[0]["query"], "k=enrich-secret-42");
    let a = &timelines["a"];
    assert!(a.iter().any(|line| line.contains("tier=\"gold\"")), "{a:?}");
    assert!(
        a.iter().any(|line| line.contains("failed")
            && line.contains("the environment variable FLOWC_TEST_UNSET_KEY is not set")),
        "a missing variable is a permanent failure naming it: {a:?}"
    );
    assert!(
        a.iter()
            .any(|line| line.contains("{{ env.FLOWC_TEST_ENRICH_KEY }}")),
        "timelines show the reference: {a:?}"
    );
    let stored: i64 = live
        .store
        .query_one(
            "SELECT (SELECT count(*) FROM events WHERE detail LIKE ?1)
                  + (SELECT count(*) FROM outbox WHERE message LIKE ?1 OR response LIKE ?1)
                  + (SELECT count(*) FROM leads WHERE fields LIKE ?1)",
            flowc::params!["%enrich-secret-42%"],
            |row| row.get(0),
        )
        .expect("searched");
    assert_eq!(stored, 0, "the secret is never written to the database");
    if let Some(file) = live.store.location().file() {
        let database = std::fs::read(file).expect("the database");
        let wal = std::fs::read(format!("{}-wal", file.display())).unwrap_or_default();
        for bytes in [database, wal] {
            assert!(
                !bytes.windows(16).any(|w| w == b"enrich-secret-42"),
                "the secret is never written to the database file"
            );
        }
    }
}

#[test]
fn json_bodies_render_values_by_position_and_stay_valid_json() {
    let dir = tempdir("json-body");
    let server = Server::start(&dir);
    let config = Config {
        http: Http {
            allow: vec!["127.0.0.1".to_owned()],
        },
        ..Config::default()
    };
    let url = server.url("/api/echo");
    let source = format!(
        r#"workflow posting
  timezone UTC
  fields
    score number
    vip bool
    tags list of text
  trigger when email is set
  steps
    http post "{url}"
      body """{{"name": "{{{{ company_name }}}}", "score": {{{{ score }}}}, "vip": {{{{ vip }}}}, "tags": {{{{ tags }}}}, "size": {{{{ num_employees | default: 0 }}}}}}"""
"#
    );
    let leads = concat!(
        "{\"id\": \"a\", \"email\": \"a@x.example\", \"company_name\": \"Ann \\\"The\\\" Co\", \"score\": 7.5, \"vip\": true, \"tags\": [\"x\", \"y\\\"\"], \"num_employees\": 12}\n",
        "{\"id\": \"b\", \"email\": \"b@x.example\", \"score\": 3, \"vip\": false, \"tags\": []}\n",
    );
    run(&dir, &source, leads, config);
    let mut bodies: Vec<Value> = server
        .requests()
        .iter()
        .map(|request| {
            serde_json::from_str(request["body"].as_str().unwrap_or_default())
                .expect("every body is JSON")
        })
        .collect();
    // The two posts go out concurrently, in either order.
    bodies.sort_by_key(|body| body["name"].as_str().map(str::is_empty));
    assert_eq!(
        bodies,
        [
            serde_json::json!({"name": "Ann \"The\" Co", "score": 7.5, "vip": true, "tags": ["x", "y\""], "size": 12}),
            serde_json::json!({"name": "", "score": 3, "vip": false, "tags": [], "size": 0}),
        ]
    );
}

#[test]
fn calls_branch_on_the_outcome_the_provider_reports() {
    let dir = tempdir("calls");
    let server = Server::start(&dir);
    let config = calling_config(&server);
    let source = "workflow calling\n  timezone UTC\n  trigger when phone_number is set\n  steps\n    call phone\n      agent sdr-bot\n      on answered\n        exit \"talked\"\n      on voicemail\n        exit \"left a message\"\n      on no answer\n        exit \"nobody\"\n      on failed\n        exit \"broken\"\n    end\n";
    let leads = concat!(
        "{\"id\": \"person\", \"phone_number\": \"+15550000001\"}\n",
        "{\"id\": \"machine\", \"phone_number\": \"+15550000002\"}\n",
        "{\"id\": \"silent\", \"phone_number\": \"+15550000003\"}\n",
        "{\"id\": \"broken\", \"phone_number\": \"+15550000004\"}\n",
    );
    let timelines = run(&dir, source, leads, config);
    for (lead, end) in [
        ("person", "talked"),
        ("machine", "left a message"),
        ("silent", "nobody"),
        ("broken", "broken"),
    ] {
        assert_eq!(
            timelines[lead].last().map(String::as_str),
            Some(format!("exited {end}").as_str()),
            "{lead}: {:?}",
            timelines[lead]
        );
    }
    let created = server
        .requests()
        .into_iter()
        .find(|r| r["path"] == "/2010-04-01/Accounts/AC123/Calls.json")
        .expect("a call");
    let body = created["body"].as_str().unwrap_or_default();
    assert!(
        body.contains("Url=https%3A%2F%2Fagents.acme.example%2Fsdr.xml")
            && body.contains("MachineDetection=Enable"),
        "{body}"
    );
}

/// Twilio settings for the local server, with the `sdr-bot` agent.
fn calling_config(server: &Server) -> Config {
    std::env::set_var("FLOWC_TEST_CALL_SID", "AC123");
    std::env::set_var("FLOWC_TEST_CALL_TOKEN", "secret");
    Config {
        twilio: Some(Twilio {
            base_url: server.url(""),
            account_sid_env: "FLOWC_TEST_CALL_SID".to_owned(),
            auth_token_env: "FLOWC_TEST_CALL_TOKEN".to_owned(),
            numbers: BTreeMap::new(),
            agents: [(
                "sdr-bot".to_owned(),
                "https://agents.acme.example/sdr.xml".to_owned(),
            )]
            .into(),
            poll_seconds: 1,
            call_timeout_seconds: 3600,
            default_from: Some("+15550100".to_owned()),
        }),
        ..Config::default()
    }
}

/// Calls the leads with a phone number, posts to Slack for the others.
const CALL_OR_POST: &str = r#"workflow mixed
  timezone UTC
  trigger when email is set
  steps
    condition
      branch caller when phone_number is set
        call phone
          agent sdr-bot
          on answered
            exit "talked"
          on voicemail
            exit "left a message"
          on no answer
            exit "nobody"
          on failed
            exit "broken"
        end
      else
        notify slack sales
          message "hello {{ email }}"
    end
"#;

/// The real times at which the server received requests to `path`.
fn times(server: &Server, path: &str) -> Vec<f64> {
    server
        .requests()
        .iter()
        .filter(|request| request["path"] == path)
        .map(|request| request["time"].as_f64().expect("a time"))
        .collect()
}

/// A runner an hour late meets a 429 asking to wait an hour, then a 503
/// asking to wait until an HTTP date two hours on: each retry waits as
/// long as asked, counted from the real attempt, not from the step.
#[test]
fn retries_wait_from_the_real_attempt_as_long_as_the_provider_asks() {
    let dir = tempdir("retry-after");
    let server = Server::start(&dir);
    let mut config = Config::default();
    for (target, env) in [
        ("slow-down", "FLOWC_TEST_SLOW_DOWN"),
        ("slow-date", "FLOWC_TEST_SLOW_DATE"),
    ] {
        config.slack.insert(
            target.to_owned(),
            webhook(env, server.url(&format!("/slack/{target}"))),
        );
    }
    let source = "workflow asking\n  timezone UTC\n  trigger when email is set\n  steps\n    notify slack slow-down\n      message \"one\"\n    notify slack slow-date\n      message \"two\"\n";
    let mut live = live::started(
        &dir,
        source,
        "{\"id\": \"a\", \"email\": \"a@x.example\"}\n",
        "2026-06-01T09:00Z",
    );
    let providers = flowc::runtime::live::Carrier::Sent(std::sync::Arc::new(
        Providers::new(config).expect("providers"),
    ));
    let at = |text: &str| {
        flowc::value::DateLiteral::parse(text)
            .expect("a time")
            .instant(chrono_tz::UTC)
    };
    live.clock = flowc::runtime::live::Clock::Fixed(at("2026-06-01T10:00Z"));
    live::settle(&mut live, &providers);
    assert_eq!(
        live.next_wake().expect("next"),
        Some(at("2026-06-01T11:00Z")),
        "an hour after the real attempt at 10:00, as Retry-After: 3600 asks"
    );
    live.clock = flowc::runtime::live::Clock::Fixed(at("2026-06-01T11:00Z"));
    live::settle(&mut live, &providers);
    let next = live.next_wake().expect("next").expect("held");
    let waited = (next - at("2026-06-01T11:00Z")).num_seconds();
    assert!(
        (7100..=7200).contains(&waited),
        "about two hours, as the HTTP date asks, not {waited} s"
    );
    live::run_to_the_end(&mut live, &providers);
    let posts = server
        .requests()
        .iter()
        .filter(|request| {
            request["path"]
                .as_str()
                .unwrap_or_default()
                .starts_with("/slack/")
        })
        .count();
    assert_eq!(posts, 4, "each post failed once, then went out");
}

/// A lead value of `..` in a path would move `PUT /crm/leads/{id}/notes`
/// to `PUT /crm/notes`: the request is not sent, and the step fails with
/// the reason.
#[test]
fn a_dot_segment_from_lead_data_never_moves_a_request() {
    let dir = tempdir("dot-segments");
    let server = Server::start(&dir);
    let base = server.url("/api");
    let source = format!(
        "workflow noting\n  timezone UTC\n  fields\n    website text\n  trigger when email is set\n  steps\n    http put \"{base}/crm/leads/{{{{ website }}}}/notes\"\n      on error\n        exit \"refused\"\n    end\n"
    );
    let leads = concat!(
        "{\"id\": \"up\", \"email\": \"u@x.example\", \"website\": \"..\"}\n",
        "{\"id\": \"here\", \"email\": \"h@x.example\", \"website\": \".\"}\n",
    );
    let timelines = run(&dir, &source, leads, Config::default());
    for lead in ["up", "here"] {
        assert_eq!(
            timelines[lead].last().map(String::as_str),
            Some("exited refused"),
            "{timelines:?}"
        );
    }
    assert!(
        timelines["up"]
            .iter()
            .any(|line| line.contains("\"..\" segment")),
        "{timelines:?}"
    );
    assert_eq!(server.requests(), Vec::<Value>::new(), "nothing was sent");
}

/// Lead data cannot mention a channel, add a link or format a post: Slack
/// gets `&`, `<` and `>` as entities, Teams Markdown backslash-escaped.
#[test]
fn lead_data_in_posts_cannot_mention_link_or_format() {
    let dir = tempdir("post-escaping");
    let server = Server::start(&dir);
    let config = posting(
        &server,
        &[("sales", "FLOWC_TEST_ESCAPE_SLACK", "/slack/sales")],
        &[("sales", "FLOWC_TEST_ESCAPE_TEAMS", "/teams/sales")],
    );
    let source = "workflow posting\n  timezone UTC\n  trigger when email is set\n  steps\n    notify slack sales\n      message \"*New lead* {{ first_name }}\"\n    notify teams sales\n      message \"**New lead** {{ first_name }}\"\n";
    let leads = "{\"id\": \"hak\", \"email\": \"h@x.example\", \"first_name\": \"<!channel> <https://evil.example|Click to verify> [Reset](https://evil.example) & co\"}\n";
    run(&dir, source, leads, config);
    let requests = server.requests();
    let body = |path: &str| -> Value {
        let request = requests.iter().find(|r| r["path"] == path).expect("a post");
        serde_json::from_str(request["body"].as_str().unwrap_or_default()).expect("JSON")
    };
    assert_eq!(
        body("/slack/sales")["text"],
        "*New lead* &lt;!channel&gt; &lt;https://evil.example|Click to verify&gt; [Reset](https://evil.example) &amp; co"
    );
    assert_eq!(
        body("/teams/sales")["attachments"][0]["content"]["body"][0]["text"],
        "**New lead** \\<\\!channel\\> \\<https://evil.example\\|Click to verify\\> \\[Reset\\]\\(https://evil.example\\) & co"
    );
}

/// The local server as the AI endpoint, with a key.
fn ai_config(server: &Server) -> Config {
    std::env::set_var("FLOWC_TEST_AI_KEY", "sk-test");
    Config {
        ai: Some(flowc::config::Ai {
            base_url: server.url("/v1"),
            model: "local-model".to_owned(),
            api_key_env: Some("FLOWC_TEST_AI_KEY".to_owned()),
            tools: Default::default(),
        }),
        ..Config::default()
    }
}

/// A runaway answer (600 KB) and an HTML login page with status 200 from
/// the AI endpoint are permanent failures after one request each: nothing
/// is retried eight times, and nothing runaway is stored.
#[test]
fn runaway_and_non_json_answers_fail_at_once() {
    let dir = tempdir("runaway");
    let server = Server::start(&dir);
    let config = ai_config(&server);
    let source = r#"workflow classifying
  timezone UTC
  trigger when email is set
  steps
    prompt
      instructions "Classify {{ company_name }}"
      extract
        segment text "enterprise, mid-market or smb"
      on error
        exit "no answer"
    end
"#;
    let leads = concat!(
        "{\"id\": \"runaway\", \"email\": \"r@x.example\", \"company_name\": \"runaway\"}\n",
        "{\"id\": \"login\", \"email\": \"l@x.example\", \"company_name\": \"login page\"}\n",
    );
    let (timelines, live) = run_kept(&dir, source, leads, config);
    for (lead, why) in [
        ("runaway", "answered more than 262144 bytes"),
        ("login", "answer is not JSON"),
    ] {
        let timeline = &timelines[lead];
        assert_eq!(
            timeline.last().map(String::as_str),
            Some("exited no answer"),
            "{timeline:?}"
        );
        assert!(
            timeline.iter().any(|line| line.contains(why)),
            "{timeline:?}"
        );
    }
    assert_eq!(
        server.requests().len(),
        2,
        "one request each: a permanent failure is not retried"
    );
    let stored: i64 = live
        .store
        .query_one(
            "SELECT max(length(coalesce(response, ''))) FROM outbox",
            flowc::params![],
            |row| row.get(0),
        )
        .expect("measured");
    assert!(stored < 10_000, "nothing runaway is stored: {stored} bytes");
}

/// A line break from lead data in a templated header is a permanent
/// failure at the first attempt, not eight retries, and nothing is sent.
#[test]
fn a_line_break_in_a_header_fails_at_once() {
    let dir = tempdir("header-crlf");
    let server = Server::start(&dir);
    let base = server.url("/api");
    let source = format!(
        "workflow tagging\n  timezone UTC\n  trigger when email is set\n  steps\n    http get \"{base}/company?name=x\"\n      header X-Lead \"{{{{ first_name }}}}\"\n      on error\n        exit \"refused\"\n    end\n"
    );
    let leads = "{\"id\": \"crlf\", \"email\": \"c@x.example\", \"first_name\": \"Ann\\r\\nX-Admin: true\"}\n";
    let timelines = run(&dir, &source, leads, Config::default());
    let timeline = &timelines["crlf"];
    assert_eq!(
        timeline.last().map(String::as_str),
        Some("exited refused"),
        "{timeline:?}"
    );
    assert!(
        !timeline.iter().any(|line| line.starts_with("held")),
        "no retry: {timeline:?}"
    );
    assert_eq!(server.requests(), Vec::<Value>::new(), "nothing was sent");
}

#[test]
fn a_call_in_progress_holds_up_no_other_delivery() {
    let dir = tempdir("slow-calls");
    let server = Server::start(&dir);
    let mut config = calling_config(&server);
    config.slack.insert(
        "sales".to_owned(),
        webhook("FLOWC_TEST_SLOW_SLACK", server.url("/slack/sales")),
    );
    // Three calls that last two seconds each come first in the outbox,
    // then three posts due at the same instant.
    let leads: String = (1..=3)
        .map(|i| format!("{{\"id\": \"call-{i}\", \"email\": \"c{i}@x.example\", \"phone_number\": \"+1555000{i}009\"}}\n"))
        .chain((1..=3).map(|i| format!("{{\"id\": \"post-{i}\", \"email\": \"p{i}@x.example\"}}\n")))
        .collect();
    let timelines = run(&dir, CALL_OR_POST, &leads, config);
    for i in 1..=3 {
        assert_eq!(
            timelines[&format!("call-{i}")].last().map(String::as_str),
            Some("exited talked"),
            "{timelines:?}"
        );
    }
    let placed = times(&server, "/2010-04-01/Accounts/AC123/Calls.json");
    let posted = times(&server, "/slack/sales");
    assert_eq!(
        (placed.len(), posted.len()),
        (3, 3),
        "each call placed once, each post made once"
    );
    let first_call_ends = placed.iter().copied().fold(f64::MAX, f64::min) + 2.0;
    assert!(
        posted.iter().all(|at| *at < first_call_ends),
        "every post is made while the calls go on: calls placed at {placed:?}, posts at {posted:?}"
    );
}

#[test]
fn a_failed_look_at_a_call_never_places_it_again() {
    let dir = tempdir("call-look");
    let server = Server::start(&dir);
    let leads =
        "{\"id\": \"flaky\", \"email\": \"f@x.example\", \"phone_number\": \"+15550000008\"}\n";
    let timelines = run(&dir, CALL_OR_POST, leads, calling_config(&server));
    assert_eq!(
        timelines["flaky"].last().map(String::as_str),
        Some("exited talked"),
        "{timelines:?}"
    );
    let calls = server.requests();
    let placed = calls
        .iter()
        .filter(|r| r["path"] == "/2010-04-01/Accounts/AC123/Calls.json")
        .count();
    let looks = calls
        .iter()
        .filter(|r| r["path"] == "/2010-04-01/Accounts/AC123/Calls/CA15550000008.json")
        .count();
    assert_eq!(
        (placed, looks),
        (1, 2),
        "placed once, looked at until it ended"
    );
}

#[test]
fn prompts_ask_for_structured_output_and_reject_prose() {
    let dir = tempdir("ai");
    let server = Server::start(&dir);
    let config = ai_config(&server);
    let source = r#"workflow classifying
  timezone UTC
  trigger when email is set
  steps
    prompt
      instructions "Classify {{ company_name | default: "the company" }}"
      extract
        segment text "enterprise, mid-market or smb"
        sells_b2b bool "true if it sells to businesses"
      on error
        exit "no answer"
    end
    condition
      branch big when segment is "enterprise" and sells_b2b is true
        exit "enterprise"
      else
        exit "other"
    end
"#;
    let leads = concat!(
        "{\"id\": \"acme\", \"email\": \"a@acme.example\", \"company_name\": \"Acme\"}\n",
        "{\"id\": \"junk\", \"email\": \"j@x.example\", \"company_name\": \"garbage\"}\n",
    );
    let timelines = run(&dir, source, leads, config);
    assert_eq!(
        timelines["acme"].last().map(String::as_str),
        Some("exited enterprise"),
        "{:?}",
        timelines["acme"]
    );
    assert!(timelines["acme"]
        .iter()
        .any(|line| line.contains("segment=\"enterprise\"") && line.contains("sells_b2b=true")));
    assert!(
        timelines["junk"]
            .iter()
            .any(|line| line.contains("did not answer with a JSON object")),
        "{:?}",
        timelines["junk"]
    );
    let request = server
        .requests()
        .into_iter()
        .find(|r| r["path"] == "/v1/chat/completions")
        .expect("a request");
    assert_eq!(request["headers"]["authorization"], "Bearer sk-test");
    let body: Value =
        serde_json::from_str(request["body"].as_str().unwrap_or_default()).expect("JSON");
    assert_eq!(body["model"], "local-model");
    assert_eq!(body["response_format"]["type"], "json_schema");
    assert_eq!(
        body["response_format"]["json_schema"]["schema"]["required"],
        serde_json::json!(["segment", "sells_b2b"])
    );
}

#[test]
fn prompt_tools_search_and_fetch_only_on_the_allow_list() {
    let dir = tempdir("ai-tools");
    let server = Server::start(&dir);
    std::env::set_var("FLOWC_TEST_SEARCH_KEY", "search-key");
    let config = Config {
        ai: Some(flowc::config::Ai {
            base_url: server.url("/v1"),
            model: "local-model".to_owned(),
            api_key_env: None,
            tools: flowc::config::AiTools {
                web_search_url: Some(server.url("/search?format=json&q={query}")),
                web_search_key_env: Some("FLOWC_TEST_SEARCH_KEY".to_owned()),
                fetch_url: true,
            },
        }),
        http: flowc::config::Http {
            allow: vec!["127.0.0.1".to_owned()],
        },
        ..Config::default()
    };
    let source = r#"workflow researching
  timezone UTC
  trigger when email is set
  steps
    prompt
      instructions "Find out how big {{ company_name }} is"
      tools web search, fetch url
      extract
        segment text "enterprise, mid-market or smb"
    condition
      branch big when segment is "enterprise"
        exit "enterprise"
      else
        exit "other"
    end
"#;
    let leads = "{\"id\": \"acme\", \"email\": \"a@acme.example\", \"company_name\": \"Acme\"}\n";
    let timelines = run(&dir, source, leads, config);
    assert_eq!(
        timelines["acme"].last().map(String::as_str),
        Some("exited enterprise"),
        "{:?}",
        timelines["acme"]
    );
    let requests = server.requests();
    let search = requests
        .iter()
        .find(|r| r["path"] == "/search")
        .expect("the search API was asked");
    assert_eq!(search["query"], "format=json&q=acme%20%26%20co");
    assert_eq!(search["headers"]["authorization"], "Bearer search-key");
    assert!(requests
        .iter()
        .any(|r| r["path"] == "/api/company" && r["query"] == "name=fetched"));
    let chats: Vec<Value> = requests
        .iter()
        .filter(|r| r["path"] == "/v1/chat/completions")
        .map(|r| serde_json::from_str(r["body"].as_str().unwrap_or_default()).expect("JSON"))
        .collect();
    assert_eq!(chats.len(), 2, "one round of tool calls, then the answer");
    let offered: Vec<&str> = chats[0]["tools"]
        .as_array()
        .expect("tools offered")
        .iter()
        .filter_map(|tool| tool["function"]["name"].as_str())
        .collect();
    assert_eq!(offered, ["web_search", "fetch_url"]);
    let results: Vec<&str> = chats[1]["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["role"] == "tool")
        .filter_map(|m| m["content"].as_str())
        .collect();
    assert_eq!(results.len(), 3, "{results:?}");
    assert!(results[0].contains("Acme & Co"), "{results:?}");
    assert!(
        results[1].contains("\"size\": 42") || results[1].contains("\"size\":42"),
        "{results:?}"
    );
    assert_eq!(
        results[2],
        "error: not-allowed.example is not on the http allow-list in flowc.toml"
    );
}
