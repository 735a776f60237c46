//! The console's pages: each reads what it shows from
//! [`crate::runtime::console`] on a database thread, then renders its
//! template. Instants are shown in the account's timezone (the newest
//! workflow's) and, on a lead's page, in the lead's own.

use std::sync::Arc;

use axum::extract::{Extension, Path, Query, State as Shared};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::{page, problem};
use crate::chart::{self, Series};
use crate::runtime::console::activity::{self, MEASURES, SERIES};
use crate::runtime::console::leads::{self, Cursor, Sort};
use crate::runtime::console::operator::{self, Action, ActionError};
use crate::runtime::console::{lead, workflows};
use crate::serve::auth::Caller;
use crate::serve::State;
use crate::store::{params, Store, StoreError};

/// The statuses the leads table filters by.
const STATUSES: [&str; 7] = [
    "active",
    "waiting",
    "held",
    "paused",
    "failed",
    "completed",
    "exited",
];

/// The account's timezone: the newest workflow's, else UTC.
fn account_zone(store: &Store) -> Result<Tz, StoreError> {
    let program: Option<String> = store.query_opt(
        "SELECT program FROM workflows ORDER BY created_at DESC, id DESC LIMIT 1",
        params![],
        |row| row.get(0),
    )?;
    Ok(program
        .and_then(|program| serde_json::from_str::<crate::bytecode::Program>(&program).ok())
        .map_or(chrono_tz::UTC, |program| program.timezone))
}

/// An instant as the account reads it.
fn local(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone)
        .format("%a %Y-%m-%d %H:%M %Z")
        .to_string()
}

/// Runs `job` on a database thread; a failure becomes a problem page.
async fn read<R: Send + 'static>(
    state: &State,
    operator: &str,
    job: impl FnOnce(&mut crate::runtime::live::Live) -> Result<R, StoreError> + Send + 'static,
) -> Result<R, Response> {
    match state.db.call(job).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            Some(operator),
            format!("The database failed: {error}"),
        )),
        Err(error) => Err(problem(error.status, Some(operator), error.message)),
    }
}

/// A workflow in the list, with its publication in local time.
#[derive(Serialize)]
struct Listed {
    #[serde(flatten)]
    summary: workflows::WorkflowSummary,
    published_at_local: String,
}

/// `GET /console/workflows`: every workflow with its leads and goals.
pub async fn workflows(
    Shared(state): Shared<Arc<State>>,
    Extension(Caller(operator)): Extension<Caller>,
) -> Response {
    let found = read(&state, &operator, |live| {
        let zone = account_zone(&live.store)?;
        Ok((workflows::overview(&live.store)?, zone))
    })
    .await;
    let (list, zone) = match found {
        Ok(found) => found,
        Err(response) => return response,
    };
    let workflows: Vec<Listed> = list
        .into_iter()
        .map(|summary| Listed {
            published_at_local: local(summary.published_at, zone),
            summary,
        })
        .collect();
    page(
        StatusCode::OK,
        "console/workflows.html",
        minijinja::context! { operator, section => "workflows", workflows },
    )
}

#[derive(Deserialize)]
pub struct VersionQuery {
    version: Option<i64>,
}

/// A version with its publication in local time.
#[derive(Serialize)]
struct VersionShown {
    #[serde(flatten)]
    version: workflows::Version,
    published_at_local: String,
}

/// `GET /console/workflows/{name}`: its canvas with the leads now, its
/// conversions, and its versions with what each changed.
pub async fn workflow(
    Shared(state): Shared<Arc<State>>,
    Extension(Caller(operator)): Extension<Caller>,
    Path(name): Path<String>,
    Query(query): Query<VersionQuery>,
) -> Response {
    let wanted = name.clone();
    let found = read(&state, &operator, move |live| {
        let store = &live.store;
        let Some(versions) = workflows::versions(store, &wanted)? else {
            return Ok(None);
        };
        let summary = workflows::summary(store, &wanted)?;
        let canvas = workflows::live_canvas(store, &wanted)?;
        Ok(Some((summary, versions, canvas, account_zone(store)?)))
    })
    .await;
    let (summary, versions, canvas, zone) = match found {
        Ok(Some((Some(summary), versions, canvas, zone))) => (summary, versions, canvas, zone),
        Ok(_) => {
            return problem(
                StatusCode::NOT_FOUND,
                Some(&operator),
                format!("No workflow is named {name:?}."),
            )
        }
        Err(response) => return response,
    };
    let shown = query.version.unwrap_or(summary.version);
    let versions: Vec<VersionShown> = versions
        .into_iter()
        .map(|version| VersionShown {
            published_at_local: local(version.published_at, zone),
            version,
        })
        .collect();
    // Each step's card (and each wait's label) leads to the leads there.
    let canvas = canvas.map(|mut canvas| {
        canvas.link_steps(|step| {
            let query = serde_urlencoded::to_string([("workflow", name.as_str()), ("step", step)]);
            format!("/console/leads?{}", query.unwrap_or_default())
        });
        crate::canvas::svg::element(&canvas)
    });
    page(
        StatusCode::OK,
        "console/workflow.html",
        minijinja::context! { operator, section => "workflows", summary, versions, canvas, shown },
    )
}

/// The leads table's query string.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct LeadsQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    workflow: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    opted_out: Option<String>,
    #[serde(default)]
    sort: String,
    #[serde(default, skip_serializing)]
    after: Option<String>,
    #[serde(default, skip_serializing)]
    before: Option<String>,
}

impl LeadsQuery {
    fn to_query(&self) -> leads::Query {
        let some = |text: &str| (!text.trim().is_empty()).then(|| text.trim().to_owned());
        let workflow = some(&self.workflow);
        leads::Query {
            search: some(&self.q),
            step: workflow.as_ref().and_then(|_| some(&self.step)),
            workflow,
            status: some(&self.status).filter(|status| STATUSES.contains(&status.as_str())),
            opted_out: self.opted_out.is_some(),
            sort: Sort::parse(&self.sort).unwrap_or_default(),
            page: match (&self.after, &self.before) {
                (Some(after), _) => Cursor::After(after.clone()),
                (None, Some(before)) => Cursor::Before(before.clone()),
                (None, None) => Cursor::First,
            },
            size: leads::PAGE,
        }
    }

    /// A link to this query's page starting at `cursor`.
    fn link(&self, cursor: (&str, &str)) -> String {
        let mut pairs: Vec<(&str, &str)> = vec![
            ("q", &self.q),
            ("workflow", &self.workflow),
            ("status", &self.status),
            ("step", &self.step),
            ("sort", &self.sort),
        ];
        if self.opted_out.is_some() {
            pairs.push(("opted_out", "on"));
        }
        pairs.retain(|(_, value)| !value.is_empty());
        pairs.push(cursor);
        format!(
            "/console/leads?{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    }
}

/// A row with its change in local time.
#[derive(Serialize)]
struct RowShown {
    #[serde(flatten)]
    row: leads::LeadRow,
    updated_local: String,
}

/// `GET /console/leads`: the table, searched, filtered, sorted, paged.
pub async fn leads(
    Shared(state): Shared<Arc<State>>,
    Extension(Caller(operator)): Extension<Caller>,
    Query(query): Query<LeadsQuery>,
) -> Response {
    let asked = query.to_query();
    let filtered = asked.search.is_some()
        || asked.workflow.is_some()
        || asked.status.is_some()
        || asked.opted_out;
    let found = read(&state, &operator, move |live| {
        let store = &live.store;
        let names: Vec<String> = store.query(
            "SELECT DISTINCT name FROM workflows ORDER BY name",
            params![],
            |row| row.get(0),
        )?;
        let steps = match &asked.workflow {
            Some(name) => step_ids(store, name)?,
            None => Vec::new(),
        };
        let zone = account_zone(store)?;
        Ok((leads::page(&mut live.store, &asked)?, names, steps, zone))
    })
    .await;
    let (found, workflows, steps, zone) = match found {
        Ok(found) => found,
        Err(response) => return response,
    };
    let links = minijinja::context! {
        next => found.next.as_deref().map(|key| query.link(("after", key))),
        previous => found.previous.as_deref().map(|key| query.link(("before", key))),
    };
    let page_shown = minijinja::context! {
        total => if found.more {
            format!("More than {}", chart::group(found.total))
        } else {
            chart::group(found.total)
        },
        count => found.total,
        next => found.next.is_some(),
        previous => found.previous.is_some(),
        rows => found.rows.into_iter().map(|row| RowShown {
            updated_local: local(row.updated_at, zone),
            row,
        }).collect::<Vec<_>>(),
    };
    let sorts = [
        ("recent", "last changed first"),
        ("oldest", "last changed last"),
        ("id", "id, A-Z"),
        ("-id", "id, Z-A"),
    ];
    page(
        StatusCode::OK,
        "console/leads.html",
        minijinja::context! {
            operator, section => "leads", query, page => page_shown, links, filtered,
            workflows, steps, statuses => STATUSES, sorts,
        },
    )
}

/// The ids of the steps of workflow `name`'s newest version, in order.
fn step_ids(store: &Store, name: &str) -> Result<Vec<String>, StoreError> {
    let program: Option<String> = store.query_opt(
        "SELECT program FROM workflows WHERE name = ?1 ORDER BY version DESC LIMIT 1",
        params![name],
        |row| row.get(0),
    )?;
    let program =
        program.and_then(|text| serde_json::from_str::<crate::bytecode::Program>(&text).ok());
    let mut ids: Vec<String> = Vec::new();
    for origin in program.iter().flat_map(|program| &program.origins) {
        if !ids.contains(&origin.label) {
            ids.push(origin.label.clone());
        }
    }
    Ok(ids)
}

#[derive(Deserialize)]
pub struct Outcome {
    done: Option<String>,
    problem: Option<String>,
}

/// `GET /console/leads/{id}`: the lead, its consent, its enrollments with
/// their timelines, messages and actions.
pub async fn lead(
    Shared(state): Shared<Arc<State>>,
    Extension(Caller(operator)): Extension<Caller>,
    Path(id): Path<String>,
    Query(outcome): Query<Outcome>,
) -> Response {
    let wanted = id.clone();
    let found = read(&state, &operator, move |live| {
        lead::lead(&live.store, &wanted)
    })
    .await;
    let page_found = match found {
        Ok(Some(found)) => found,
        Ok(None) => {
            return problem(
                StatusCode::NOT_FOUND,
                Some(&operator),
                format!("No lead has the id {id:?}."),
            )
        }
        Err(response) => return response,
    };
    let fields: Vec<(String, String)> = page_found
        .lead
        .fields
        .iter()
        .map(|(name, value)| {
            let shown = match value {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            (name.clone(), shown)
        })
        .collect();
    page(
        StatusCode::OK,
        "console/lead.html",
        minijinja::context! {
            operator, section => "leads", page => page_found, fields,
            notice => outcome.done, problem => outcome.problem,
        },
    )
}

/// `POST /console/enrollments/{id}/{action}`: does it as the signed-in
/// operator, then shows the lead again with what was done.
pub async fn act(
    Shared(state): Shared<Arc<State>>,
    Extension(Caller(operator)): Extension<Caller>,
    Path((id, action)): Path<(i64, String)>,
) -> Response {
    let Some(action) = Action::parse(&action) else {
        return problem(
            StatusCode::NOT_FOUND,
            Some(&operator),
            format!("There is no action {action:?}."),
        );
    };
    let by = operator.clone();
    let done = state
        .db
        .call(move |live| {
            let now = live.clock.now();
            let lead: Option<String> = live.store.query_opt(
                "SELECT lead FROM enrollments WHERE id = ?1",
                params![id],
                |row| row.get(0),
            )?;
            let outcome = operator::act(&mut live.store, id, action, &by, now);
            Ok::<_, StoreError>((lead, outcome))
        })
        .await;
    let (lead, outcome) = match done {
        Ok(Ok(done)) => done,
        Ok(Err(error)) => {
            return problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                Some(&operator),
                format!("The database failed: {error}"),
            )
        }
        Err(error) => return problem(error.status, Some(&operator), error.message),
    };
    let Some(lead) = lead else {
        return problem(
            StatusCode::NOT_FOUND,
            Some(&operator),
            format!("No enrollment {id}."),
        );
    };
    let message = match outcome {
        Ok(()) => (
            "done",
            format!("{} by {operator}.", capitalized(action.done())),
        ),
        Err(ActionError::Store(error)) => ("problem", format!("The database failed: {error}")),
        Err(error) => ("problem", format!("Not done: {error}.")),
    };
    let query = serde_urlencoded::to_string([message]).unwrap_or_default();
    let lead = percent_encoding::utf8_percent_encode(&lead, percent_encoding::NON_ALPHANUMERIC);
    Redirect::to(&format!("/console/leads/{lead}?{query}#enrollment-{id}")).into_response()
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[derive(Deserialize)]
pub struct ActivityQuery {
    hours: Option<usize>,
}

/// `GET /console/activity`: sent, failed and held per hour and channel.
pub async fn activity(
    Shared(state): Shared<Arc<State>>,
    Extension(Caller(operator)): Extension<Caller>,
    Query(query): Query<ActivityQuery>,
) -> Response {
    let spans = [(24, "day"), (72, "3 days"), (168, "week"), (720, "30 days")];
    let hours = query
        .hours
        .filter(|hours| spans.iter().any(|(known, _)| known == hours))
        .unwrap_or(168);
    let found = read(&state, &operator, move |live| {
        let now = live.clock.now();
        Ok((
            activity::activity(&live.store, now, hours)?,
            account_zone(&live.store)?,
        ))
    })
    .await;
    let (counts, zone) = match found {
        Ok(found) => found,
        Err(response) => return response,
    };
    let labels: Vec<String> = (0..counts.hours)
        .map(|hour| {
            let at = counts.from + chrono::Duration::hours(hour as i64);
            at.with_timezone(&zone).format("%a %H:00").to_string()
        })
        .collect();
    let every = (counts.hours / 8).max(1);
    let colors = ["#3b5d99", "#2e7a4c", "#94700a", "#5f6b78"];
    let charts: Vec<_> = MEASURES
        .iter()
        .enumerate()
        .map(|(index, (measure, title))| {
            let series: Vec<Series<'_>> = SERIES
                .iter()
                .zip(colors)
                .zip(&counts.counts[index])
                .map(|((name, color), values)| Series {
                    name,
                    color,
                    values,
                })
                .collect();
            minijinja::context! {
                measure, title,
                total => chart::group(counts.total(index)),
                svg => chart::columns(&format!("{title} per hour"), &labels, every, &series),
            }
        })
        .collect();
    page(
        StatusCode::OK,
        "console/activity.html",
        minijinja::context! {
            operator, section => "activity", charts, hours, spans, zone => zone.name(),
        },
    )
}
