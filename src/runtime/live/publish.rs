//! Publishing workflow versions, unpublishing them, and migrating
//! running enrollments between versions.

use crate::store::{params, Serial, Tx};
use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap as HashMap;

use super::{stored_versions, Live};
use crate::bytecode::{Artifact, Op, Program, SlotSource};
use crate::calendar;
use crate::store::{instant, millis, StoreError};
use crate::vm::Status;

/// What publishing did to one workflow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Publication {
    /// A new version was stored and made live.
    NewVersion {
        /// The workflow.
        name: String,
        /// Its new version number.
        version: i64,
        /// Enrollments moved to it from older versions.
        migrated: usize,
    },
    /// The source did not change; the version is live again.
    Unchanged {
        /// The workflow.
        name: String,
        /// Its version number.
        version: i64,
        /// Paused timers resumed.
        resumed: usize,
    },
}

/// What publishing a changed workflow does to running enrollments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Migration {
    /// They stay on the version they entered.
    None,
    /// They move to the new version, to the step with the same label; with
    /// `force`, those whose label is gone move to that label.
    ByLabel {
        /// Where enrollments at a step that no longer exists go.
        force: Option<String>,
    },
}

/// Why publishing stopped (nothing was published).
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Some enrollments stand at steps the new version no longer has.
    #[error(
        "{} enrollments stand at steps the new version no longer has; nothing was published:\n{}\n\
         add `--force LABEL` to move them to that step",
        .0.len(),
        .0.iter().map(|(lead, label)| format!("  {lead} at {label}")).collect::<Vec<_>>().join("\n")
    )]
    Unmigratable(Vec<(String, String)>),
    /// `--force` names a label the new version does not have.
    #[error("the new version has no step labelled `{0}`; nothing was published")]
    UnknownLabel(String),
    /// Two live workflows declare one lead field with different types: an
    /// imported value could fit only one of them.
    #[error(
        "field `{field}` is {ty} in workflow {workflow} but {other_ty} in live workflow {other}; nothing was published"
    )]
    FieldTypeConflict {
        /// The field.
        field: String,
        /// Its type in the workflow being published.
        ty: String,
        /// The workflow being published.
        workflow: String,
        /// Its type in the other workflow.
        other_ty: String,
        /// The other live workflow.
        other: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Resumes the timers of `name` that unpublishing paused (not those an
/// operator paused by hand); returns how many.
/// An elapsed wait resumes the time it had left; a `wait until` is
/// re-evaluated (it still ends at its clock time), and a lead held by a
/// window is run again now, so the window is tested again.
fn resume_paused(
    transaction: &Tx<'_>,
    programs: &HashMap<i64, &Program>,
    name: &str,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let paused: Vec<(i64, i64, u32, String, i64)> = transaction.query(
        "SELECT id, workflow, pc, status, remaining FROM enrollments
         WHERE remaining IS NOT NULL AND paused_by IS NULL
           AND workflow IN (SELECT id FROM workflows WHERE name = ?1)",
        params![name],
        |row| row.columns(),
    )?;
    for (id, workflow, pc, status, remaining) in &paused {
        let wake = resumed_wake(
            programs.get(workflow).copied(),
            *pc,
            status,
            *remaining,
            now,
        );
        transaction.execute(
            "UPDATE enrollments SET wake = ?1, remaining = NULL WHERE id = ?2",
            params![millis(wake), id],
        )?;
    }
    Ok(paused.len())
}

/// When a paused enrollment goes on once resumed at `now`: an elapsed
/// wait after the time it had left (`remaining`, in milliseconds); a
/// `wait until` at its next clock time (it still ends at its clock time);
/// a lead held by a window now, so the window is tested again.
pub(crate) fn resumed_wake(
    program: Option<&Program>,
    pc: u32,
    status: &str,
    remaining: i64,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let status = Status::from_name(status);
    let clock_wait = program.and_then(|program| {
        let (_, minute) = program.clock_wait(pc, status)?;
        Some((program.timezone, minute))
    });
    match (status, clock_wait) {
        (Status::Held, _) => now,
        (_, Some((zone, minute))) => calendar::next_time_of_day(zone, now, minute),
        _ => instant(millis(now).saturating_add(remaining)),
    }
}

/// The first lead field that `programs` type differently from each other or
/// from the live workflows `live` of other names.
fn field_type_conflict(programs: &[Program], live: &[&Program]) -> Option<PublishError> {
    let lead_slots = |program: &Program| {
        program
            .slots
            .iter()
            .filter(|slot| slot.source != SlotSource::Event)
            .map(|slot| (slot.name.clone(), slot.ty))
            .collect::<Vec<_>>()
    };
    for (index, program) in programs.iter().enumerate() {
        let others = programs[..index]
            .iter()
            .chain(live.iter().copied())
            .filter(|other| other.name != program.name);
        for other in others {
            let theirs = lead_slots(other);
            for (field, ty) in lead_slots(program) {
                let clash = theirs
                    .iter()
                    .find(|(name, other_ty)| *name == field && *other_ty != ty);
                if let Some((_, other_ty)) = clash {
                    return Some(PublishError::FieldTypeConflict {
                        field,
                        ty: ty.describe(),
                        workflow: program.name.clone(),
                        other_ty: other_ty.describe(),
                        other: other.name.clone(),
                    });
                }
            }
        }
    }
    None
}

impl From<serde_json::Error> for PublishError {
    fn from(error: serde_json::Error) -> Self {
        PublishError::Store(error.into())
    }
}

/// Moves the running enrollments of older versions of `name` to the new
/// version `id`, step by step label. In-flight enrollments (an effect
/// recorded, not yet confirmed) stay, so no effect is sent twice.
fn migrate(
    transaction: &Tx<'_>,
    name: &str,
    id: i64,
    program: &Program,
    force: Option<&str>,
) -> Result<usize, PublishError> {
    let target_of = |label: &str| {
        program
            .origins
            .iter()
            .position(|origin| origin.label == label)
            .map(|pc| pc as u32)
    };
    let forced = match force {
        Some(label) => {
            Some(target_of(label).ok_or_else(|| PublishError::UnknownLabel(label.to_owned()))?)
        }
        None => None,
    };
    let running: Vec<(i64, String, u32, String, String)> = transaction.query(
        "SELECT e.id, e.lead, e.pc, e.status, w.program FROM enrollments e JOIN workflows w ON w.id = e.workflow
         WHERE w.name = ?1 AND w.id != ?2 AND e.status IN ('waiting', 'held')",
        params![name, id],
        |row| row.columns(),
    )?;
    let mut moves = Vec::new();
    let mut stuck = Vec::new();
    for (enrollment, lead, pc, status, old) in running {
        let old: Program = serde_json::from_str(&old).map_err(StoreError::from)?;
        let at = old.standing_at(pc, Status::from_name(&status));
        let label = old
            .origins
            .get(at as usize)
            .map_or_else(String::new, |origin| origin.label.clone());
        // A lead in a wait moves into the same wait, its wake-up kept.
        let onto_wait = |target: u32| {
            let both_waits = at != pc && program.code.get(target as usize).is_some_and(Op::is_wait);
            if both_waits {
                target + 1
            } else {
                target
            }
        };
        match target_of(&label).or(forced).map(onto_wait) {
            Some(target) => moves.push((enrollment, target)),
            None => stuck.push((lead, label)),
        }
    }
    if !stuck.is_empty() {
        return Err(PublishError::Unmigratable(stuck));
    }
    for (enrollment, target) in &moves {
        transaction.execute(
            // Loop counts are kept by instruction: a new version starts them again.
            "UPDATE enrollments SET workflow = ?1, pc = ?2, loops = NULL WHERE id = ?3",
            params![id, target, enrollment],
        )?;
    }
    Ok(moves.len())
}

impl Live {
    /// Stores every workflow of a compiled file that changed as a new
    /// version published `by` someone and makes each live; an unchanged one
    /// is made live again, its paused timers resumed with the time they had
    /// left.
    pub fn publish(
        &mut self,
        artifact: &Artifact,
        source: &str,
        migration: Migration,
        by: &str,
    ) -> Result<Vec<Publication>, PublishError> {
        let now = self.clock.now();
        let transaction = self.store.transaction()?;
        // Versions are read after the publication before this one wrote.
        transaction.serialize(Serial::Publishing)?;
        let versions = stored_versions(&transaction, &mut self.versions)?;
        let live: Vec<&Program> = versions
            .iter()
            .filter(|version| version.published)
            .map(|version| version.program.as_ref())
            .collect();
        if let Some(conflict) = field_type_conflict(&artifact.programs, &live) {
            return Err(conflict);
        }
        let programs: HashMap<i64, &Program> = versions
            .iter()
            .map(|version| (version.id, version.program.as_ref()))
            .collect();
        let mut publications = Vec::new();
        for program in &artifact.programs {
            let latest: Option<(i64, i64, String)> = transaction.query_opt(
                "SELECT id, version, hash FROM workflows WHERE name = ?1 ORDER BY version DESC LIMIT 1",
                params![program.name],
                |row| row.columns(),
            )?;
            transaction.execute(
                "UPDATE workflows SET published = 0 WHERE name = ?1",
                params![program.name],
            )?;
            match latest {
                Some((id, version, hash)) if hash == artifact.source_hash => {
                    transaction.execute(
                        "UPDATE workflows SET published = 1 WHERE id = ?1",
                        params![id],
                    )?;
                    let resumed = resume_paused(&transaction, &programs, &program.name, now)?;
                    publications.push(Publication::Unchanged {
                        name: program.name.clone(),
                        version,
                        resumed,
                    });
                }
                latest => {
                    let version = latest.map_or(1, |(_, version, _)| version + 1);
                    let id = transaction.insert(
                        "INSERT INTO workflows (name, version, hash, source, program, published, created_at, published_by)
                         VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?7)",
                        params![
                            program.name,
                            version,
                            artifact.source_hash,
                            source,
                            serde_json::to_string(program)?,
                            millis(now),
                            by
                        ],
                    )?;
                    // Timers paused by unpublishing run again: their
                    // enrollments stay on the version they entered.
                    resume_paused(&transaction, &programs, &program.name, now)?;
                    let migrated = match &migration {
                        Migration::None => 0,
                        Migration::ByLabel { force } => {
                            migrate(&transaction, &program.name, id, program, force.as_deref())?
                        }
                    };
                    publications.push(Publication::NewVersion {
                        name: program.name.clone(),
                        version,
                        migrated,
                    });
                }
            }
        }
        transaction.notify()?;
        transaction.commit()?;
        Ok(publications)
    }

    /// Takes a workflow off line: no new leads, and every timer of its
    /// enrollments paused with the time it had left. Returns how many were
    /// paused, or `None` if no workflow has that name.
    pub fn unpublish(&mut self, name: &str) -> Result<Option<usize>, StoreError> {
        let now = millis(self.clock.now());
        let transaction = self.store.transaction()?;
        transaction.serialize(Serial::Publishing)?;
        let known = transaction.execute(
            "UPDATE workflows SET published = 0 WHERE name = ?1",
            params![name],
        )?;
        if known == 0 {
            return Ok(None);
        }
        let paused = transaction.execute(
            "UPDATE enrollments SET remaining = CASE WHEN wake > ?1 THEN wake - ?1 ELSE 0 END, wake = NULL
             WHERE wake IS NOT NULL AND workflow IN (SELECT id FROM workflows WHERE name = ?2)",
            params![now, name],
        )?;
        transaction.commit()?;
        Ok(Some(paused))
    }
}
