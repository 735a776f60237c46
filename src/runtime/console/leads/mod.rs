//! The console's leads table: search by id, email or phone; filters by
//! workflow, status, step and opt-out; sorting; and paging by cursor (the
//! last row's key), so a page deep into a million leads is read as fast
//! as the first: every query walks an index from where the page starts.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::conditions::{text, Conditions};
use super::Programs;
use crate::store::{instant, Store, StoreError, Value};
use crate::vm::Status;

/// Rows per page unless asked otherwise.
pub const PAGE: u32 = 50;
/// The most matching leads a filtered table counts exactly.
pub const COUNTED: u64 = 10_000;
/// Up to this many matching enrollments, a filter lists its leads first.
const FEW: i64 = 50_000;
/// The condition of the enrollments' status index (schema version 18):
/// `active` and `waiting`, which most steps go between, have no entries.
/// A filter for another status says it too, for the index to be used.
const STATUS_INDEXED: &str = "e.status NOT IN ('active', 'waiting')";

/// What the table shows.
#[derive(Clone, Debug, Default)]
pub struct Query {
    /// An id prefix, an email address or a phone number.
    pub search: Option<String>,
    /// Leads with an enrollment in this workflow.
    pub workflow: Option<String>,
    /// Leads with an enrollment in this state: a [`Status`] name or
    /// `paused`.
    pub status: Option<String>,
    /// With `workflow`: leads with an enrollment at this step (its id).
    pub step: Option<String>,
    /// Leads whose email or phone may not be reached (opted out,
    /// unsubscribed, undeliverable).
    pub opted_out: bool,
    /// The order.
    pub sort: Sort,
    /// Which page.
    pub page: Cursor,
    /// Rows per page.
    pub size: u32,
}

/// Orders of the table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    /// Last changed first.
    #[default]
    Recent,
    /// Last changed last.
    Oldest,
    /// By id, A to Z.
    Id,
    /// By id, Z to A.
    IdDescending,
}

impl Sort {
    /// The sort a name stands for (`recent`, `oldest`, `id`, `-id`).
    pub fn parse(name: &str) -> Option<Sort> {
        match name {
            "recent" => Some(Sort::Recent),
            "oldest" => Some(Sort::Oldest),
            "id" => Some(Sort::Id),
            "-id" => Some(Sort::IdDescending),
            _ => None,
        }
    }

    /// Its name in links.
    pub fn name(self) -> &'static str {
        match self {
            Sort::Recent => "recent",
            Sort::Oldest => "oldest",
            Sort::Id => "id",
            Sort::IdDescending => "-id",
        }
    }

    fn descending(self) -> bool {
        matches!(self, Sort::Recent | Sort::IdDescending)
    }

    fn by_id(self) -> bool {
        matches!(self, Sort::Id | Sort::IdDescending)
    }
}

/// Where a page starts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Cursor {
    /// At the top.
    #[default]
    First,
    /// After the row with this key.
    After(String),
    /// Before the row with this key.
    Before(String),
}

/// One page of the table.
#[derive(Debug, Serialize)]
pub struct Page {
    /// Its rows.
    pub rows: Vec<LeadRow>,
    /// How many leads match, over every page (when `more`, at least).
    pub total: u64,
    /// Whether more than [`COUNTED`] leads match a filter (they were not
    /// all counted).
    pub more: bool,
    /// The key to pass as [`Cursor::After`] for the next page, if any.
    pub next: Option<String>,
    /// The key to pass as [`Cursor::Before`] for the page before, if any.
    pub previous: Option<String>,
}

/// One lead in the table.
#[derive(Debug, Serialize)]
pub struct LeadRow {
    /// Its id.
    pub id: String,
    /// Its email address, normalized.
    pub email: Option<String>,
    /// Its phone number, normalized.
    pub phone: Option<String>,
    /// When its record last changed.
    pub updated_at: DateTime<Utc>,
    /// Where it is in each workflow.
    pub enrollments: Vec<Standing>,
}

/// Where a lead stands in one workflow.
#[derive(Debug, Serialize)]
pub struct Standing {
    /// The workflow.
    pub workflow: String,
    /// Its state, `paused` included.
    pub status: String,
    /// The step.
    pub step: String,
}

/// One page of the leads `query` asks for.
pub fn page(store: &mut Store, query: &Query) -> Result<Page, StoreError> {
    let transaction = store.transaction()?;
    transaction.plan_for_values()?;
    let page = read_page(&transaction, query)?;
    transaction.commit()?;
    Ok(page)
}

fn read_page(store: &Store, query: &Query) -> Result<Page, StoreError> {
    let mut conditions = Conditions::default();
    filter(store, query, &mut conditions)?;
    // Every lead is counted from the table's own count; a filtered count
    // stops at COUNTED, so a filter that keeps most of a million leads
    // costs no more than a page.
    let conditions_empty = conditions.sql.is_empty();
    let sql = if conditions_empty {
        "SELECT count(*) FROM leads l".to_owned()
    } else {
        format!(
            "SELECT count(*) FROM (SELECT 1 FROM leads l {} LIMIT {}) AS matching",
            conditions.clause(),
            COUNTED + 1
        )
    };
    let total: i64 = store.query_one(&sql, &conditions.params, |row| row.get(0))?;
    let backwards = matches!(query.page, Cursor::Before(_));
    if let Cursor::After(key) | Cursor::Before(key) = &query.page {
        cursor(query.sort, key, backwards, &mut conditions);
    }
    let descending = query.sort.descending() != backwards;
    let direction = if descending { "DESC" } else { "ASC" };
    let order = if query.sort.by_id() {
        format!("l.id {direction}")
    } else {
        format!("l.updated_at {direction}, l.id {direction}")
    };
    let size = query.size.clamp(1, 500);
    let mut rows: Vec<LeadRow> = store.query(
        &format!(
            "SELECT l.id, l.email, l.phone, l.updated_at FROM leads l {} ORDER BY {order} LIMIT {}",
            conditions.clause(),
            size + 1
        ),
        &conditions.params,
        |row| {
            Ok(LeadRow {
                id: row.get(0)?,
                email: row.get(1)?,
                phone: row.get(2)?,
                updated_at: instant(row.get(3)?),
                enrollments: Vec::new(),
            })
        },
    )?;
    let more = rows.len() > size as usize;
    rows.truncate(size as usize);
    if backwards {
        rows.reverse();
    }
    standings(store, &mut rows)?;
    let key = |row: &LeadRow| key(query.sort, row);
    let (next, previous) = match (&query.page, more) {
        (Cursor::First, _) => (more.then(|| rows.last().map(key)).flatten(), None),
        (Cursor::After(_), _) => (
            more.then(|| rows.last().map(key)).flatten(),
            rows.first().map(key),
        ),
        (Cursor::Before(_), _) => (
            rows.last().map(key),
            more.then(|| rows.first().map(key)).flatten(),
        ),
    };
    Ok(Page {
        rows,
        more: !conditions_empty && total as u64 > COUNTED,
        total: (total as u64).min(if conditions_empty { u64::MAX } else { COUNTED }),
        next,
        previous,
    })
}

/// The conditions of the search and the filters.
fn filter(store: &Store, query: &Query, conditions: &mut Conditions) -> Result<(), StoreError> {
    if let Some(search) = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        search_condition(search, conditions);
    }
    let mut enrolled = Conditions::default();
    if let Some(workflow) = &query.workflow {
        let versions = versions_of(store, workflow)?;
        let within = match &query.step {
            Some(step) => places(store, &versions, step)?
                .iter()
                .map(|(version, pcs)| {
                    let pcs: Vec<String> = pcs.iter().map(u32::to_string).collect();
                    format!("(e.workflow = {version} AND e.pc IN ({}))", pcs.join(", "))
                })
                .collect::<Vec<_>>(),
            None => versions
                .iter()
                .map(|version| format!("e.workflow = {version}"))
                .collect(),
        };
        if within.is_empty() {
            enrolled.add("0 = 1", Vec::new());
        } else {
            enrolled.add(&format!("({})", within.join(" OR ")), Vec::new());
        }
    }
    match query.status.as_deref() {
        None => {}
        Some("paused") => enrolled.add("e.remaining IS NOT NULL", Vec::new()),
        Some(name) => {
            enrolled.add("e.status = ?", vec![text(name)]);
            let status = Status::from_name(name);
            if !status.is_final() {
                enrolled.add("e.remaining IS NULL", Vec::new());
            }
            if !matches!(status, Status::Active | Status::Waiting) {
                enrolled.add(STATUS_INDEXED, Vec::new());
            }
        }
    }
    if !enrolled.sql.is_empty() {
        // A filter most leads pass is tested lead by lead as the page is
        // walked in order (it stops at a page); one few pass is listed
        // first, through the enrollments' indexes. Counting the matching
        // enrollments, up to a bound, tells which.
        let matching: i64 = store.query_one(
            &format!(
                "SELECT count(*) FROM (SELECT 1 FROM enrollments e {} LIMIT {}) AS matching",
                enrolled.clause(),
                FEW + 1
            ),
            &enrolled.params,
            |row| row.get(0),
        )?;
        let test = if matching > FEW {
            "EXISTS (SELECT 1 FROM enrollments e WHERE e.lead = l.id AND {})"
        } else {
            "l.id IN (SELECT e.lead FROM enrollments e WHERE {})"
        };
        conditions.add(&test.replace("{}", &enrolled.joined()), enrolled.params);
    }
    if query.opted_out {
        // The leads of every address whose newest consent is not opted-in,
        // found from the (few) addresses through the leads' email and
        // phone indexes.
        let newest = "c.state <> 'opted-in' AND c.id = (SELECT max(c2.id) FROM consent c2 \
                      WHERE c2.channel = c.channel AND c2.address = c.address)";
        conditions.add(
            &format!(
                "l.id IN (SELECT o.id FROM consent c JOIN leads o ON o.email = c.address \
                 WHERE c.channel = 'email' AND {newest} \
                 UNION SELECT o.id FROM consent c JOIN leads o ON o.phone = c.address \
                 WHERE c.channel IN ('text', 'call') AND {newest})"
            ),
            Vec::new(),
        );
    }
    Ok(())
}

/// An email address finds its leads, a phone number its, anything else
/// is an id prefix.
fn search_condition(search: &str, conditions: &mut Conditions) {
    if search.contains('@') {
        conditions.add("l.email = ?", vec![text(&search.to_lowercase())]);
        return;
    }
    let digits = search.chars().filter(char::is_ascii_digit).count();
    let phone_like = search
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if phone_like && digits >= 6 {
        // As leads keep it: the usual separators dropped.
        let phone: String = search.chars().filter(|c| !" -().".contains(*c)).collect();
        conditions.add("l.phone = ?", vec![text(&phone)]);
        return;
    }
    conditions.add(
        "l.id >= ? AND l.id < ?",
        vec![text(search), text(&format!("{search}\u{10FFFF}"))],
    );
}

/// The ids of every version of `workflow`.
fn versions_of(store: &Store, workflow: &str) -> Result<Vec<i64>, StoreError> {
    store.query(
        "SELECT id FROM workflows WHERE name = ?1",
        crate::store::params![workflow],
        |row| row.get(0),
    )
}

/// For each version, the instructions where an enrollment stands at step
/// `step` (versions without any are left out).
fn places(store: &Store, versions: &[i64], step: &str) -> Result<Vec<(i64, Vec<u32>)>, StoreError> {
    let mut programs = Programs::new(store);
    let mut places = Vec::new();
    for &version in versions {
        let Some(program) = programs.get(version)? else {
            continue;
        };
        let pcs: Vec<u32> = (0..program.code.len() as u32)
            .filter(|&pc| {
                let standing = [Status::Waiting, Status::Held, Status::Failed]
                    .into_iter()
                    .map(|status| program.standing_at(pc, status));
                standing.chain([pc]).any(|at| {
                    program
                        .origins
                        .get(at as usize)
                        .is_some_and(|origin| origin.label == step)
                })
            })
            .collect();
        if !pcs.is_empty() {
            places.push((version, pcs));
        }
    }
    Ok(places)
}

/// Where the page starts: past the row with `key` in the sort's order.
fn cursor(sort: Sort, key: &str, backwards: bool, conditions: &mut Conditions) {
    let after = sort.descending() == backwards;
    let op = if after { ">" } else { "<" };
    if sort.by_id() {
        conditions.add(&format!("l.id {op} ?"), vec![text(key)]);
        return;
    }
    let (at, id) = key.split_once(':').unwrap_or(("0", key));
    let at: i64 = at.parse().unwrap_or(0);
    // A row value: both backends walk the (updated_at, id) index from it.
    conditions.add(
        &format!("(l.updated_at, l.id) {op} (?, ?)"),
        vec![Value::Int(at), text(id)],
    );
}

/// A row's key in `sort`'s order.
fn key(sort: Sort, row: &LeadRow) -> String {
    if sort.by_id() {
        row.id.clone()
    } else {
        format!("{}:{}", row.updated_at.timestamp_millis(), row.id)
    }
}

/// Fills in where each lead of the page stands, in one query.
fn standings(store: &Store, rows: &mut [LeadRow]) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let marks = (1..=rows.len())
        .map(|n| format!("?{n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let ids: Vec<Value<'_>> = rows.iter().map(|row| text(&row.id)).collect();
    let found: Vec<(String, i64, String, String, u32, bool)> = store.query(
        &format!(
            "SELECT e.lead, e.workflow, w.name, e.status, e.pc, e.remaining IS NOT NULL
             FROM enrollments e JOIN workflows w ON w.id = e.workflow
             WHERE e.lead IN ({marks}) ORDER BY e.lead, w.name, e.number"
        ),
        &ids,
        |row| row.columns(),
    )?;
    let mut programs = Programs::new(store);
    for (lead, version, workflow, status, pc, paused) in found {
        let step = programs.step(version, pc, &status)?;
        if let Some(row) = rows.iter_mut().find(|row| row.id == lead) {
            row.enrollments.push(Standing {
                workflow,
                status: if paused { "paused".to_owned() } else { status },
                step,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
