//! `flowc run FILE --simulate --report report.html`: what a simulation
//! would do, as one self-contained HTML page to attach to "here is what the
//! new workflow will do" — the canvas with counts on each step, how
//! enrollments end, when sends go out over the week (with the windows),
//! how long leads wait for their first touch and how long they are held,
//! and a few leads' timelines with the messages as they would be sent.

pub mod tally;

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serialize;

use crate::bytecode::{channel_index, Program};
use crate::canvas::{Badge, Canvas, CardKind, Tone};
use crate::chart::{self, Bar};
use crate::runtime::recorder::Sent;
use crate::runtime::{Simulation, Summary};
use crate::vm::EventKind;
pub use tally::Tally;
use tally::CHANNELS;

/// One workflow's part of a report.
#[derive(Debug, Serialize)]
pub struct WorkflowReport {
    /// The workflow's name.
    pub name: String,
    /// The canvas with counts, as an SVG element (none from a compiled
    /// `.flowc` file, which has no source to draw).
    pub canvas: Option<String>,
    /// The summary, as label and value.
    pub summary: Vec<(String, String)>,
    /// How enrollments ended, as bars.
    pub funnel: String,
    /// Sends per hour of the week, per channel sent on.
    pub heatmaps: Vec<ChannelChart>,
    /// Time from entry to first touch, per channel sent on.
    pub first_touch: Vec<ChannelChart>,
    /// Time held, per channel with holds.
    pub held: Vec<ChannelChart>,
    /// Sample leads' timelines.
    pub samples: Vec<SampleLead>,
}

/// A chart about one channel.
#[derive(Debug, Serialize)]
pub struct ChannelChart {
    /// `email`, `text` or `call`.
    pub channel: &'static str,
    /// What to know to read it.
    pub note: String,
    /// The chart, an SVG element.
    pub svg: String,
}

/// One sample lead's timeline.
#[derive(Debug, Serialize)]
pub struct SampleLead {
    /// The lead's id.
    pub id: String,
    /// Its events in order.
    pub events: Vec<SampleEvent>,
}

/// One event of a sample timeline.
#[derive(Debug, Serialize)]
pub struct SampleEvent {
    /// When, in the account's timezone.
    pub at_account: String,
    /// When, in the lead's timezone, if it has one and it differs.
    pub at_lead: Option<String>,
    /// What happened.
    pub kind: &'static str,
    /// The step.
    pub step: String,
    /// Details.
    pub detail: String,
    /// For a send, the message as it would go out: field and value, in the
    /// order a reader looks for them.
    pub message: Vec<(String, String)>,
}

/// The report of one simulated workflow, once it has run; `source` is the
/// `.flow` text it was compiled from, if there is one.
pub fn workflow(
    simulation: &Simulation<'_>,
    summary: &Summary,
    tally: &Tally,
    source: Option<&str>,
) -> WorkflowReport {
    let program = simulation.program();
    WorkflowReport {
        name: program.name.clone(),
        canvas: source.and_then(|source| canvas(program, summary, source)),
        summary: summary_rows(summary),
        funnel: funnel(program, summary),
        heatmaps: heatmaps(simulation, tally),
        first_touch: durations(&tally.first_touch, "from entry to the first"),
        held: durations(&tally.held, "held before going on, on"),
        samples: samples(simulation, tally),
    }
}

/// The workflow's canvas with what happened at each step on its cards.
fn canvas(program: &Program, summary: &Summary, source: &str) -> Option<String> {
    let parsed = crate::syntax::parse(source);
    let workflow = parsed
        .file
        .workflows
        .iter()
        .find(|workflow| workflow.name.name == program.name)?;
    let mut canvas = Canvas::build(workflow, source);
    canvas.identify(program);
    if let Some(trigger) = canvas.cards.first_mut() {
        trigger.badges = badges(&[(summary.entered, "entered", Tone::Plain)]);
    }
    for (step, counts) in summary.steps(program) {
        let count = |kind: EventKind| counts[kind as usize];
        let Some((kind, shown)) = canvas.badges_of(step) else {
            continue;
        };
        *shown = match kind {
            Some(CardKind::End) => badges(&[
                (count(EventKind::Completed), "completed", Tone::Done),
                (count(EventKind::Exited), "exited", Tone::Plain),
            ]),
            Some(CardKind::Condition) => badges(&[
                (count(EventKind::Branched), "branched", Tone::Plain),
                (count(EventKind::Waited), "waited", Tone::Waiting),
            ]),
            None => badges(&[(count(EventKind::Waited), "waited", Tone::Waiting)]),
            Some(_) => badges(&[
                (count(EventKind::Sent), "sent", Tone::Done),
                (count(EventKind::Held), "held", Tone::Held),
                (count(EventKind::Skipped), "skipped", Tone::Plain),
                (count(EventKind::Failed), "failed", Tone::Failed),
            ]),
        };
    }
    Some(crate::canvas::svg::element(&canvas))
}

/// Badges for the counts that are not zero.
fn badges(counts: &[(u64, &str, Tone)]) -> Vec<Badge> {
    counts
        .iter()
        .filter(|(count, _, _)| *count > 0)
        .map(|(count, what, tone)| Badge {
            text: format!("{} {what}", chart::group(*count)),
            tone: *tone,
        })
        .collect()
}

fn summary_rows(summary: &Summary) -> Vec<(String, String)> {
    let mut rows = vec![
        ("leads read".to_owned(), summary.leads),
        ("bad records".to_owned(), summary.bad_records.len() as u64),
        ("entered".to_owned(), summary.entered),
    ];
    for (code, count) in &summary.refusals {
        rows.push((format!("turned away: {code}"), *count));
    }
    for (name, count) in summary.status_rows() {
        rows.push((name.to_owned(), count));
    }
    rows.into_iter()
        .map(|(label, count)| (label, chart::group(count)))
        .collect()
}

/// Entered, then each way enrollments ended and what is still running,
/// as shares of those that entered.
fn funnel(program: &Program, summary: &Summary) -> String {
    let mut bars = vec![Bar {
        label: "entered".to_owned(),
        value: summary.entered,
        color: "#3b5d99",
    }];
    for (category, described, count) in summary.ending_rows(program) {
        let color = match category {
            "goal" => "#2e7a4c",
            "exit" => "#94700a",
            _ => "#b3261e",
        };
        bars.push(Bar {
            label: described,
            value: count,
            color,
        });
    }
    // Exits and failures are in the endings already.
    for (label, count) in summary.status_rows() {
        if count > 0 && !matches!(label, "exited" | "failed") {
            bars.push(Bar {
                label: label.to_owned(),
                value: count,
                color: "#5f6b78",
            });
        }
    }
    chart::bars("How enrollments ended", &bars, Some(summary.entered))
}

/// Sends per hour of the week on each channel, in the timezone its window
/// is read in (each lead's own for a window `in lead timezone`), with the
/// window's hours marked.
fn heatmaps(simulation: &Simulation<'_>, tally: &Tally) -> Vec<ChannelChart> {
    let program = simulation.program();
    CHANNELS
        .iter()
        .zip(&tally.sends)
        .filter(|(_, sends)| !sends.is_empty())
        .map(|(&channel, sends)| {
            let mut counts = [[0u64; 24]; 7];
            for &(lead, at) in sends {
                let local = at.with_timezone(&simulation.window_zone(lead, channel));
                counts[local.weekday().num_days_from_monday() as usize][local.hour() as usize] += 1;
            }
            let window = program.windows[channel_index(channel)].as_ref();
            let open = window.map(|window| {
                let mut open = [[false; 24]; 7];
                for (day, row) in open.iter_mut().enumerate() {
                    for (hour, cell) in row.iter_mut().enumerate() {
                        *cell = window.hours.open_in_hour(day as u32, hour as u16);
                    }
                }
                open
            });
            let note = match window {
                Some(window) if window.zone == crate::ast::WindowZone::Lead => {
                    "in each lead's timezone, as its window is read; outlined: the window"
                        .to_owned()
                }
                Some(_) => format!(
                    "in {}, the account's timezone; outlined: the window",
                    program.timezone
                ),
                None => format!("in {}, the account's timezone; no window", program.timezone),
            };
            ChannelChart {
                channel: channel.keyword(),
                note,
                svg: chart::heatmap(
                    &format!("{} sends per hour of the week", channel.keyword()),
                    &counts,
                    open.as_ref(),
                ),
            }
        })
        .collect()
}

/// Buckets of waiting time, as a reader thinks of them.
const BUCKETS: [(i64, &str); 7] = [
    (60, "under a minute"),
    (3_600, "under an hour"),
    (4 * 3_600, "1-4 hours"),
    (24 * 3_600, "4-24 hours"),
    (2 * 86_400, "1-2 days"),
    (7 * 86_400, "2-7 days"),
    (i64::MAX, "a week or more"),
];

/// A distribution of seconds per channel, as bars by bucket, with the
/// median.
fn durations(per_channel: &[Vec<i64>; 3], what: &str) -> Vec<ChannelChart> {
    CHANNELS
        .iter()
        .zip(per_channel)
        .filter(|(_, seconds)| !seconds.is_empty())
        .map(|(&channel, seconds)| {
            let mut counts = [0u64; BUCKETS.len()];
            for &value in seconds {
                let bucket = BUCKETS
                    .iter()
                    .position(|(below, _)| value < *below)
                    .unwrap_or(BUCKETS.len() - 1);
                counts[bucket] += 1;
            }
            let bars: Vec<Bar> = BUCKETS
                .iter()
                .zip(counts)
                .map(|((_, label), value)| Bar {
                    label: (*label).to_owned(),
                    value,
                    color: "#3b5d99",
                })
                .collect();
            let mut sorted = seconds.clone();
            sorted.sort_unstable();
            let median = sorted[sorted.len() / 2];
            ChannelChart {
                channel: channel.keyword(),
                note: format!(
                    "{} lead{}; median {}",
                    chart::group(sorted.len() as u64),
                    if sorted.len() == 1 { "" } else { "s" },
                    crate::calendar::rough_length(median)
                ),
                svg: chart::bars(
                    &format!("Time {what} {}", channel.keyword()),
                    &bars,
                    Some(sorted.len() as u64),
                ),
            }
        })
        .collect()
}

/// The sample leads' timelines, each send with the message it made.
fn samples(simulation: &Simulation<'_>, tally: &Tally) -> Vec<SampleLead> {
    let program = simulation.program();
    tally
        .samples
        .iter()
        .enumerate()
        .filter(|(_, (id, events))| !id.is_empty() && !events.is_empty())
        .map(|(index, (id, events))| {
            let mut sent = messages(&simulation.channels.sent, index as u32);
            let lead_zone = simulation.lead_zone(index as u32);
            let events = events
                .iter()
                .map(|timeline_event| {
                    let event = &timeline_event.event;
                    let step = if event.kind.at_a_step() {
                        program
                            .origins
                            .get(event.pc as usize)
                            .map_or("?", |origin| origin.label.as_str())
                    } else {
                        "-"
                    };
                    let message = if event.kind == EventKind::Sent {
                        take_message(&mut sent, step)
                    } else {
                        Vec::new()
                    };
                    SampleEvent {
                        at_account: local(event.at, program.timezone),
                        at_lead: lead_zone
                            .filter(|zone| *zone != program.timezone)
                            .map(|zone| local(event.at, zone)),
                        kind: event.kind.name(),
                        step: step.to_owned(),
                        detail: event.detail.clone(),
                        message,
                    }
                })
                .collect();
            SampleLead {
                id: id.clone(),
                events,
            }
        })
        .collect()
}

/// The last attempt of each message to lead `lead`, in order.
fn messages(sent: &[Sent], lead: u32) -> Vec<&Sent> {
    let mut messages: Vec<&Sent> = Vec::new();
    for attempt in sent.iter().filter(|attempt| attempt.lead == lead) {
        match messages
            .iter_mut()
            .find(|known| known.idempotency_key == attempt.idempotency_key)
        {
            Some(known) => *known = attempt,
            None => messages.push(attempt),
        }
    }
    messages
}

/// The first message left of step `step`, as field and value.
fn take_message(sent: &mut Vec<&Sent>, step: &str) -> Vec<(String, String)> {
    let Some(position) = sent.iter().position(|attempt| attempt.label == step) else {
        return Vec::new();
    };
    sent.remove(position).message.rows()
}

/// An instant as a reader of `zone` reads it.
fn local(at: DateTime<Utc>, zone: chrono_tz::Tz) -> String {
    at.with_timezone(&zone)
        .format("%a %Y-%m-%d %H:%M %Z")
        .to_string()
}
