//! Workflows as the console shows them: each with its status and how its
//! leads are doing, its versions with who published each and what changed,
//! and its canvas with the leads at each step right now.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Programs;
use crate::canvas::{Badge, Canvas, CardKind, Tone};
use crate::chart::group;
use crate::runtime::inspect;
use crate::store::{instant, params, Store, StoreError};
use crate::vm::Ending;

/// One workflow in the list.
#[derive(Debug, Serialize)]
pub struct WorkflowSummary {
    /// Its name.
    pub name: String,
    /// Its newest version.
    pub version: i64,
    /// Whether it takes new leads (else its timers are paused).
    pub live: bool,
    /// When its newest version was published.
    pub published_at: DateTime<Utc>,
    /// Enrollments over every version.
    pub entered: u64,
    /// Enrollments still under way (waiting, held, paused, running).
    pub running: u64,
    /// Enrollments that failed and wait for an operator.
    pub failed: u64,
    /// Conversions per goal.
    pub goals: Vec<Conversion>,
}

/// How many enrollments reached a goal.
#[derive(Debug, Serialize)]
pub struct Conversion {
    /// The goal, as `goal NAME`.
    pub goal: String,
    /// How many reached it.
    pub count: u64,
    /// As a share of those that entered, in percent.
    pub percent: f64,
}

/// Every workflow, by name.
pub fn overview(store: &Store) -> Result<Vec<WorkflowSummary>, StoreError> {
    let names: Vec<String> = store.query(
        "SELECT DISTINCT name FROM workflows ORDER BY name",
        params![],
        |row| row.get(0),
    )?;
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        out.extend(summary(store, &name)?);
    }
    Ok(out)
}

/// Workflow `name` with its leads and goals, if there is one.
pub fn summary(store: &Store, name: &str) -> Result<Option<WorkflowSummary>, StoreError> {
    let found: Option<(i64, bool, i64)> = store.query_opt(
        "SELECT max(version), max(published) = 1, max(created_at) FROM workflows
         WHERE name = ?1 GROUP BY name",
        params![name],
        |row| row.columns(),
    )?;
    let Some((version, live, published_at)) = found else {
        return Ok(None);
    };
    let counts: Vec<(String, i64)> = store.query(
        "SELECT e.status, count(*) FROM enrollments e JOIN workflows w ON w.id = e.workflow
         WHERE w.name = ?1 GROUP BY e.status",
        params![name],
        |row| row.columns(),
    )?;
    let count = |pick: &dyn Fn(&str) -> bool| -> u64 {
        counts
            .iter()
            .filter(|(status, _)| pick(status))
            .map(|(_, count)| *count as u64)
            .sum()
    };
    let entered = count(&|_| true);
    let goals = inspect::endings(store, name)?
        .into_iter()
        .filter(|ending| ending.category == "goal")
        .map(|ending| Conversion {
            percent: percent(ending.count, entered),
            goal: ending.reason,
            count: ending.count,
        })
        .collect();
    Ok(Some(WorkflowSummary {
        name: name.to_owned(),
        running: count(&|status| matches!(status, "active" | "waiting" | "held")),
        failed: count(&|status| status == "failed"),
        entered,
        goals,
        version,
        live,
        published_at: instant(published_at),
    }))
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 * 1000.0 / whole as f64).round() / 10.0
    }
}

/// One published version of a workflow.
#[derive(Debug, Serialize)]
pub struct Version {
    /// Its number.
    pub version: i64,
    /// When it was published.
    pub published_at: DateTime<Utc>,
    /// Who published it, where recorded.
    pub published_by: Option<String>,
    /// Whether it is the one new leads enter.
    pub current: bool,
    /// Lines added since the version before.
    pub added: usize,
    /// Lines removed since the version before.
    pub removed: usize,
    /// What changed since the version before (the first: its whole text).
    pub changes: Vec<DiffLine>,
}

/// One line of a diff.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct DiffLine {
    /// `added`, `removed`, `same`, or `gap` (unchanged lines left out).
    pub kind: &'static str,
    /// Its number in the version before, if it is there.
    pub old: Option<usize>,
    /// Its number in this version, if it is here.
    pub new: Option<usize>,
    /// The line.
    pub text: String,
}

/// The versions of workflow `name`, newest first; `None` if there is
/// no such workflow.
pub fn versions(store: &Store, name: &str) -> Result<Option<Vec<Version>>, StoreError> {
    let rows: Vec<(i64, i64, Option<String>, bool, String)> = store.query(
        "SELECT version, created_at, published_by, published = 1, source FROM workflows
         WHERE name = ?1 ORDER BY version",
        params![name],
        |row| row.columns(),
    )?;
    if rows.is_empty() {
        return Ok(None);
    }
    let newest = rows.last().map_or(0, |row| row.0);
    let mut versions = Vec::with_capacity(rows.len());
    let mut before = "";
    for (version, at, by, published, source) in &rows {
        let changes = diff(before, source);
        versions.push(Version {
            version: *version,
            published_at: instant(*at),
            published_by: by.clone(),
            current: *published && *version == newest,
            added: changes.iter().filter(|line| line.kind == "added").count(),
            removed: changes.iter().filter(|line| line.kind == "removed").count(),
            changes,
        });
        before = source;
    }
    versions.reverse();
    Ok(Some(versions))
}

/// The lines that changed from `old` to `new`, with three lines of
/// context around each change.
pub fn diff(old: &str, new: &str) -> Vec<DiffLine> {
    let diff = similar::TextDiff::from_lines(old, new);
    let mut lines = Vec::new();
    for (index, group) in diff.grouped_ops(3).iter().enumerate() {
        if index > 0 {
            lines.push(DiffLine {
                kind: "gap",
                old: None,
                new: None,
                text: String::new(),
            });
        }
        for op in group {
            for change in diff.iter_changes(op) {
                lines.push(DiffLine {
                    kind: match change.tag() {
                        similar::ChangeTag::Insert => "added",
                        similar::ChangeTag::Delete => "removed",
                        similar::ChangeTag::Equal => "same",
                    },
                    old: change.old_index().map(|index| index + 1),
                    new: change.new_index().map(|index| index + 1),
                    text: change.value().trim_end_matches(['\n', '\r']).to_owned(),
                });
            }
        }
    }
    lines
}

/// The canvas of workflow `name`'s newest version with its leads now:
/// how many are at each step (waiting, held and until when, paused,
/// failed), where they left, and how many entered; `None` if there is no
/// such workflow or its source no longer parses.
pub fn live_canvas(store: &Store, name: &str) -> Result<Option<Canvas>, StoreError> {
    let newest: Option<(i64, String)> = store.query_opt(
        "SELECT id, source FROM workflows WHERE name = ?1 ORDER BY version DESC LIMIT 1",
        params![name],
        |row| row.columns(),
    )?;
    let Some((id, source)) = newest else {
        return Ok(None);
    };
    let mut programs = Programs::new(store);
    let Some(program) = programs.get(id)?.cloned() else {
        return Ok(None);
    };
    let parsed = crate::syntax::parse(&source);
    let Some(workflow) = parsed.file.workflows.iter().find(|w| w.name.name == name) else {
        return Ok(None);
    };
    let mut canvas = Canvas::build(workflow, &source);
    canvas.identify(&program);
    let mut counts: Vec<(String, Tally)> = Vec::new();
    let rows: Vec<(i64, u32, String, bool, i64, Option<i64>)> = store.query(
        "SELECT e.workflow, e.pc, e.status, e.remaining IS NOT NULL, count(*), min(e.wake)
         FROM enrollments e JOIN workflows w ON w.id = e.workflow
         WHERE w.name = ?1 AND e.status IN ('active', 'waiting', 'held', 'failed')
         GROUP BY e.workflow, e.pc, e.status, e.remaining IS NOT NULL",
        params![name],
        |row| row.columns(),
    )?;
    for (version, pc, status, paused, count, wake) in rows {
        let tally = slot(&mut counts, programs.step(version, pc, &status)?);
        let count = count as u64;
        match (status.as_str(), paused) {
            (_, true) => tally.paused += count,
            ("held", _) => {
                tally.held += count;
                tally.released = match (tally.released, wake) {
                    (Some(known), Some(wake)) => Some(known.min(wake)),
                    (known, wake) => known.or(wake),
                };
            }
            ("waiting", _) => tally.waiting += count,
            ("failed", _) => tally.failed += count,
            _ => tally.running += count,
        }
    }
    let ended: Vec<(i64, String, i64)> = store.query(
        "SELECT e.workflow, e.ending, count(*) FROM enrollments e JOIN workflows w ON w.id = e.workflow
         WHERE w.name = ?1 AND e.ending IS NOT NULL GROUP BY e.workflow, e.ending",
        params![name],
        |row| row.columns(),
    )?;
    for (version, key, count) in ended {
        let step = match Ending::from_key(&key) {
            Some(Ending::Completed) => "end".to_owned(),
            Some(Ending::Exit(pc)) => programs.step(version, pc, "exited")?,
            _ => continue,
        };
        slot(&mut counts, step).left += count as u64;
    }
    let entered: i64 = store.query_one(
        "SELECT count(*) FROM enrollments e JOIN workflows w ON w.id = e.workflow WHERE w.name = ?1",
        params![name],
        |row| row.get(0),
    )?;
    if let Some(trigger) = canvas.cards.first_mut() {
        trigger.badges = vec![Badge {
            text: format!("{} entered", group(entered as u64)),
            tone: Tone::Plain,
        }];
    }
    for (step, tally) in counts {
        if let Some((kind, shown)) = canvas.badges_of(&step) {
            *shown = tally.badges(kind, program.timezone);
        }
    }
    Ok(Some(canvas))
}

/// The tally of `step`, added if new.
fn slot(counts: &mut Vec<(String, Tally)>, step: String) -> &mut Tally {
    let index = match counts.iter().position(|(known, _)| *known == step) {
        Some(index) => index,
        None => {
            counts.push((step, Tally::default()));
            counts.len() - 1
        }
    };
    &mut counts[index].1
}

/// Leads at one step now.
#[derive(Debug, Default)]
struct Tally {
    waiting: u64,
    held: u64,
    /// The earliest instant a held lead goes on, in milliseconds.
    released: Option<i64>,
    paused: u64,
    failed: u64,
    running: u64,
    /// Enrollments that ended here.
    left: u64,
}

impl Tally {
    fn badges(&self, kind: Option<CardKind>, zone: chrono_tz::Tz) -> Vec<Badge> {
        let until = self
            .released
            .map(|at| {
                format!(
                    " until {}",
                    instant(at).with_timezone(&zone).format("%a %H:%M")
                )
            })
            .unwrap_or_default();
        let left = if kind == Some(CardKind::End) {
            "ended here"
        } else {
            "left here"
        };
        [
            (self.running, "running".to_owned(), Tone::Plain),
            (self.waiting, "waiting".to_owned(), Tone::Waiting),
            (self.held, format!("held{until}"), Tone::Held),
            (self.paused, "paused".to_owned(), Tone::Plain),
            (self.failed, "failed".to_owned(), Tone::Failed),
            (self.left, left.to_owned(), Tone::Done),
        ]
        .into_iter()
        .filter(|(count, _, _)| *count > 0)
        .map(|(count, what, tone)| Badge {
            text: format!("{} {what}", group(count)),
            tone,
        })
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_shows_what_changed_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\ni\n";
        let lines = diff(old, new);
        let kinds: Vec<&str> = lines.iter().map(|line| line.kind).collect();
        assert_eq!(
            kinds,
            ["same", "same", "same", "removed", "added", "same", "same", "same"]
        );
        assert_eq!(lines[3].text, "e");
        assert_eq!((lines[3].old, lines[3].new), (Some(5), None));
        assert_eq!((lines[4].old, lines[4].new), (None, Some(5)));
    }

    #[test]
    fn the_first_version_is_all_added() {
        let lines = diff("", "workflow w\n  steps\n");
        assert!(lines.iter().all(|line| line.kind == "added"));
        assert_eq!(lines.len(), 2);
    }
}
