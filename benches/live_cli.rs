//! `cargo bench --bench live_cli`: the live runtime as a user runs it,
//! through the `flowc` binary, on SQLite and on PostgreSQL: `flowc
//! publish`, `flowc leads import` of 10,000 leads, then `flowc run` (1, 2
//! and 4 runners at once on the same database) until every enrollment has
//! ended, on the recording provider, for condition → email → wait 2 days →
//! text on a clock that runs a billion times faster than the real one (the
//! wait passes in 0.17 ms, so the figures are the work, not the wait: at a
//! million times, the last lead imported woke 0.17 s after it entered,
//! longer than the run's work). Three rounds of each; prints the
//! median end-to-end time (publish to the last enrollment ended), leads/s
//! and transitions/s (timeline events written per second), next to the
//! same database written raw in the same run: every row the run left in
//! each table, into a new database with flowc's schema, 500 rows a
//! transaction (rusqlite on SQLite, the `postgres` client on PostgreSQL).
//!
//! `-- --sqlite` runs only the SQLite rounds, `-- --quick` one round of
//! each, `-- --crm-ids` gives the leads ids as a CRM does (16 hex digits
//! in no order) instead of `lead-0`, `lead-1`, ...: every index keyed by
//! lead is then written at random places, for flowc and raw alike.
//! `-- --instructions` runs one SQLite round with one runner counted in
//! instructions by callgrind (flowc's import and run, and the raw writer):
//! the same count whatever else the machine does.
//!
//! PostgreSQL: the server at `FLOWC_BENCH_POSTGRES`
//! (`postgres://user@host:port`, without a database name), else one that
//! `scripts/postgres` starts for the run.
//!
//! Targets: issue 12, at least 10,000 leads/s end to end with effects and
//! at least half the raw rate; issue 13, on PostgreSQL at least half the
//! raw rate, and more runners giving more throughput until the database is
//! the limit.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use flowc::params;
use flowc::store::{Location, Store};

const LEADS: usize = 10_000;

#[path = "support/backend.rs"]
mod backend;
#[path = "support/five.rs"]
mod five;
use backend::{Backend, PostgresServer};
use five::FLOW;

fn flowc(dir: &Path, db: &Location, clock: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flowc"));
    command
        .args(args)
        .current_dir(dir)
        .env("FLOWC_DB", db.arg())
        .env("FLOWC_CLOCK", clock)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// What one round measured.
#[derive(Clone, Copy)]
struct Round {
    elapsed: Duration,
    /// Of it, `flowc publish` and `flowc leads import`.
    import: Duration,
    events: i64,
    raw: Duration,
}

/// One round with `runners` runners: the end-to-end time, the events the
/// run wrote, and how long writing its rows raw took.
fn round(dir: &Path, backend: &Backend, runners: usize) -> Round {
    let db = backend.fresh(dir, "flowc_bench");
    let origin = chrono::Utc::now().timestamp_millis();
    let clock = format!("2026-03-02T14:00:00Z@{origin}*1000000000");
    let began = Instant::now();
    let ok = |command: &mut Command| assert!(command.status().expect("runs").success());
    ok(&mut flowc(dir, &db, &clock, &["publish", "five.flow"]));
    ok(&mut flowc(
        dir,
        &db,
        &clock,
        &["leads", "import", "leads.jsonl"],
    ));
    let import = began.elapsed();
    let mut running: Vec<Child> = (0..runners)
        .map(|_| flowc(dir, &db, &clock, &["run"]).spawn().expect("starts"))
        .collect();
    let store = Store::open(&db).expect("opened");
    // The last enrollment ends with the last text: until that many
    // deliveries have ids, a look through the index (every 2 ms, so the
    // end is seen within about a millisecond without taking a core); then
    // every enrollment is counted.
    let delivered = || -> i64 {
        store
            .query_one(
                "SELECT coalesce(max(id), 0) FROM deliveries",
                params![],
                |row| row.get(0),
            )
            .expect("looked")
    };
    let left = || -> i64 {
        store
            .query_one(
                "SELECT count(*) FROM enrollments WHERE status NOT IN ('completed', 'exited', 'failed')",
                params![],
                |row| row.get(0),
            )
            .expect("counted")
    };
    while delivered() < LEADS as i64 || left() > 0 {
        std::thread::sleep(Duration::from_millis(2));
    }
    let elapsed = began.elapsed();
    for runner in &mut running {
        let _ = runner.kill();
        let _ = runner.wait();
    }
    let count = |table: &str| -> i64 {
        store
            .query_one(&format!("SELECT count(*) FROM {table}"), params![], |row| {
                row.get(0)
            })
            .expect("counted")
    };
    assert_eq!(
        count("deliveries") as usize,
        LEADS,
        "an email and a text for each hot lead"
    );
    let events = count("events");
    let raw = match backend {
        Backend::Sqlite => raw_sqlite(dir, &db),
        Backend::Postgres(_) => raw_postgres(dir, backend, &db),
    };
    Round {
        elapsed,
        import,
        events,
        raw,
    }
}

/// The tables a run writes.
const TABLES: [&str; 7] = [
    "workflows",
    "leads",
    "triggers",
    "enrollments",
    "events",
    "outbox",
    "deliveries",
];

/// Every row of the tables a run writes, table by table.
type Rows = Vec<(String, Vec<Vec<rusqlite::types::Value>>)>;

/// Reads every row the run at `path` left.
fn read_rows(path: &Path) -> Rows {
    let from = rusqlite::Connection::open(path).expect("opened");
    TABLES
        .iter()
        .map(|table| {
            let mut statement = from
                .prepare(&format!("SELECT * FROM {table}"))
                .expect("a query");
            let columns = statement.column_count();
            let rows = statement
                .query_map([], |row| {
                    (0..columns).map(|column| row.get(column)).collect()
                })
                .expect("rows")
                .collect::<Result<_, _>>()
                .expect("read");
            (table.to_string(), rows)
        })
        .collect()
}

/// A new database in `dir` with flowc's schema, opened as flowc opens it
/// (write-ahead log, `synchronous = NORMAL`).
fn raw_target(dir: &Path) -> rusqlite::Connection {
    let db = Backend::Sqlite.fresh(dir, "raw");
    drop(Store::open(&db).expect("flowc's schema"));
    let connection = rusqlite::Connection::open(db.arg()).expect("opened");
    connection
        .pragma_update(None, "synchronous", "NORMAL")
        .expect("set");
    connection
}

/// Writes `rows` with plain rusqlite, one row a statement, 500 a
/// transaction. Never inlined: `--instructions` counts this function.
#[inline(never)]
fn write_raw_rows(connection: &mut rusqlite::Connection, rows: &Rows) {
    for (table, rows) in rows {
        let Some(first) = rows.first() else { continue };
        let marks = vec!["?"; first.len()].join(", ");
        for batch in rows.chunks(500) {
            let transaction = connection.transaction().expect("a transaction");
            {
                let mut insert = transaction
                    .prepare_cached(&format!("INSERT INTO {table} VALUES ({marks})"))
                    .expect("prepared");
                for row in batch {
                    insert
                        .execute(rusqlite::params_from_iter(row))
                        .expect("inserted");
                }
            }
            transaction.commit().expect("committed");
        }
    }
}

/// How long raw rusqlite takes to write every row the run left, table
/// by table, into a new database with flowc's schema.
fn raw_sqlite(dir: &Path, run: &Location) -> Duration {
    let Location::Sqlite(path) = run else {
        unreachable!("a SQLite run")
    };
    let rows = read_rows(path);
    let mut connection = raw_target(dir);
    let began = Instant::now();
    write_raw_rows(&mut connection, &rows);
    began.elapsed()
}

/// `command` run under callgrind, counting only in functions named like
/// `only` when given: the instructions it carried out.
fn counted(command: &Command, dir: &Path, only: Option<&str>) -> u64 {
    let out = dir.join("callgrind.out");
    let mut valgrind = Command::new("valgrind");
    valgrind
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .args(only.map(|name| format!("--toggle-collect=*{name}*")))
        .arg(command.get_program())
        .args(command.get_args())
        .current_dir(command.get_current_dir().unwrap_or(dir))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            valgrind.env(key, value);
        }
    }
    let status = valgrind
        .status()
        .expect("valgrind runs (Debian's package valgrind)");
    assert!(
        status.success(),
        "{:?} under callgrind",
        command.get_program()
    );
    let report = std::fs::read_to_string(&out).expect("callgrind's report");
    report
        .lines()
        .find_map(|line| {
            line.strip_prefix("summary: ")
                .or(line.strip_prefix("totals: "))
        })
        .and_then(|total| total.trim().parse().ok())
        .expect("a total")
}

/// `-- --instructions`: the SQLite round with one runner counted in
/// instructions (`valgrind --tool=callgrind`), which do not depend on what
/// else the machine is doing: `flowc leads import` and `flowc run --once`
/// (each a process of its own, all its threads), and the raw writer of
/// the same rows (only `write_raw_rows`, in a process of its own).
fn instructions(dir: &Path) {
    let db = Backend::Sqlite.fresh(dir, "counted");
    let origin = chrono::Utc::now().timestamp_millis();
    let clock = format!("2026-03-02T14:00:00Z@{origin}*1000000000");
    let published = flowc(dir, &db, &clock, &["publish", "five.flow"]).status();
    assert!(published.expect("runs").success());
    let import = counted(
        &flowc(dir, &db, &clock, &["leads", "import", "leads.jsonl"]),
        dir,
        None,
    );
    let run = counted(&flowc(dir, &db, &clock, &["run", "--once"]), dir, None);
    let store = Store::open(&db).expect("opened");
    let ended: i64 = store
        .query_one(
            "SELECT count(*) FROM enrollments WHERE status IN ('completed', 'exited')",
            params![],
            |row| row.get(0),
        )
        .expect("counted");
    assert_eq!(ended as usize, LEADS, "every enrollment ended");
    let mut raw = Command::new(std::env::current_exe().expect("this bench"));
    raw.arg("--raw-write").arg(db.arg()).current_dir(dir);
    let raw = counted(&raw, dir, Some("write_raw_rows"));
    let millions = |count: u64| count as f64 / 1e6;
    println!(
        "  SQLite     instructions: import {:.0}M + run {:.0}M = {:.0}M; raw, same rows {:.0}M; flowc / raw {:.2}",
        millions(import),
        millions(run),
        millions(import + run),
        millions(raw),
        raw as f64 / (import + run) as f64
    );
}

/// A column value of flowc's PostgreSQL schema (every column is BIGINT or
/// TEXT).
type Column = Box<dyn postgres::types::ToSql + Sync>;

/// How long the `postgres` client takes to write every row the run left,
/// table by table, into a new database with flowc's schema.
fn raw_postgres(dir: &Path, backend: &Backend, run: &Location) -> Duration {
    let mut from = postgres::Client::connect(&run.arg(), postgres::NoTls).expect("connected");
    let rows: Vec<(String, Vec<Vec<Column>>)> = TABLES
        .iter()
        .map(|table| {
            let rows = from
                .query(&format!("SELECT * FROM {table}"), &[])
                .expect("rows");
            let values = rows
                .iter()
                .map(|row| {
                    (0..row.len())
                        .map(|column| -> Column {
                            if *row.columns()[column].type_() == postgres::types::Type::INT8 {
                                Box::new(row.get::<_, Option<i64>>(column))
                            } else {
                                Box::new(row.get::<_, Option<String>>(column))
                            }
                        })
                        .collect()
                })
                .collect();
            (table.to_string(), values)
        })
        .collect();
    let db = backend.fresh(dir, "flowc_raw");
    drop(Store::open(&db).expect("flowc's schema"));
    let mut client = postgres::Client::connect(&db.arg(), postgres::NoTls).expect("connected");
    let began = Instant::now();
    for (table, rows) in &rows {
        let Some(first) = rows.first() else { continue };
        let marks: Vec<String> = (1..=first.len()).map(|i| format!("${i}")).collect();
        // Identity columns take the ids the run gave, as SQLite's do.
        let insert = client
            .prepare(&format!(
                "INSERT INTO {table} OVERRIDING SYSTEM VALUE VALUES ({})",
                marks.join(", ")
            ))
            .expect("prepared");
        for batch in rows.chunks(500) {
            let mut transaction = client.transaction().expect("a transaction");
            for row in batch {
                let values: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    row.iter().map(|value| value.as_ref()).collect();
                transaction.execute(&insert, &values).expect("inserted");
            }
            transaction.commit().expect("committed");
        }
    }
    began.elapsed()
}

/// `i` scrambled (SplitMix64's finalizer): distinct numbers in no order,
/// the same in every run.
fn scrambled(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // The raw writer on its own, for `--instructions`: the rows of the run
    // at the next argument into a new database in the current folder.
    if let Some(at) = args.iter().position(|arg| arg == "--raw-write") {
        let rows = read_rows(Path::new(&args[at + 1]));
        write_raw_rows(&mut raw_target(Path::new(".")), &rows);
        return;
    }
    let quick = std::env::args().any(|arg| arg == "--quick");
    let sqlite_only = std::env::args().any(|arg| arg == "--sqlite");
    let crm_ids = std::env::args().any(|arg| arg == "--crm-ids");
    let rounds = if quick { 1 } else { 3 };
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("five.flow"), FLOW).expect("the flow");
    let leads: String = (0..LEADS)
        .map(|i| {
            let id = if crm_ids {
                format!("{:016x}", scrambled(i as u64))
            } else {
                format!("lead-{i}")
            };
            format!(
                "{{\"id\": \"{id}\", \"email\": \"lead{i}@example.com\", \"first_name\": \"Lead{i}\", \"phone_number\": \"+1555{i:07}\", \"score\": {}}}\n",
                i % 100
            )
        })
        .collect();
    std::fs::write(dir.path().join("leads.jsonl"), leads).expect("the leads");
    if args.iter().any(|arg| arg == "--instructions") {
        instructions(dir.path());
        return;
    }
    let server = (!sqlite_only).then(PostgresServer::get);
    println!(
        "flowc publish + leads import + run until done: {LEADS} leads ({} ids), recording provider\n",
        if crm_ids { "CRM-like" } else { "sequential" }
    );
    let postgres = server
        .iter()
        .map(|server| Backend::Postgres(server.url.clone()));
    for backend in std::iter::once(Backend::Sqlite).chain(postgres) {
        for runners in [1, 2, 4] {
            let mut times: Vec<Round> = (0..rounds)
                .map(|_| round(dir.path(), &backend, runners))
                .collect();
            times.sort_by_key(|round| round.elapsed);
            let median = times[times.len() / 2];
            let seconds = median.elapsed.as_secs_f64();
            println!(
                "  {:<10} {runners} runner{}  median {seconds:.2} s (import {:.2} s), {:.0} leads/s, {:.0} transitions/s; raw {:.2} s, flowc / raw {:.2}",
                backend.name(),
                if runners == 1 { " " } else { "s" },
                median.import.as_secs_f64(),
                LEADS as f64 / seconds,
                median.events as f64 / seconds,
                median.raw.as_secs_f64(),
                median.raw.as_secs_f64() / seconds
            );
        }
    }
}
