//! What a simulation report counts as the events stream past: sends per
//! channel (to place them on the week), time from entry to the first
//! touch on each channel, time held on each channel, and the whole
//! timelines of a few sample leads. Memory grows with the sends and the
//! enrollments in progress, not with every event.

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap as HashMap;

use crate::ast::Channel;
use crate::bytecode::{channel_index, Op, Program};
use crate::runtime::TimelineEvent;
use crate::vm::EventKind;

/// Leads (the first to arrive) whose timelines and messages are kept.
pub const SAMPLE_LEADS: u32 = 8;

/// The channels, in [`channel_index`] order.
pub const CHANNELS: [Channel; 3] = [Channel::Email, Channel::Text, Channel::Call];

/// Counts of one workflow's simulation, fed one event at a time.
#[derive(Debug)]
pub struct Tally {
    /// The channel of the effect at each instruction, if it has one.
    channel_at: Vec<Option<usize>>,
    /// Every send per channel: the lead's index and when.
    pub sends: [Vec<(u32, DateTime<Utc>)>; 3],
    /// Seconds from entry to the first send, per channel.
    pub first_touch: [Vec<i64>; 3],
    /// Seconds from being held to going on, per channel.
    pub held: [Vec<i64>; 3],
    /// Enrollments in progress, by lead and enrollment number.
    open: HashMap<(u32, u32), Progress>,
    /// The sample leads' ids and events, by lead index.
    pub samples: Vec<(String, Vec<TimelineEvent>)>,
}

/// Where an enrollment in progress stands.
#[derive(Debug)]
struct Progress {
    entered: DateTime<Utc>,
    /// Channels sent on so far, as bits.
    touched: u8,
    /// The channel and instant of the hold it is in, if it is held.
    held: Option<(usize, DateTime<Utc>)>,
}

impl Tally {
    /// An empty tally for `program`.
    pub fn new(program: &Program) -> Tally {
        let channel_at = program
            .code
            .iter()
            .map(|op| match op {
                Op::Effect { effect, .. } | Op::Call { effect, .. } => program
                    .effects
                    .get(*effect as usize)
                    .and_then(|effect| effect.channel())
                    .map(channel_index),
                _ => None,
            })
            .collect();
        Tally {
            channel_at,
            sends: Default::default(),
            first_touch: Default::default(),
            held: Default::default(),
            open: HashMap::default(),
            samples: Vec::new(),
        }
    }

    /// Counts one event of the lead `id`.
    pub fn record(&mut self, id: &str, timeline_event: &TimelineEvent) {
        let (lead, event) = (timeline_event.lead, &timeline_event.event);
        if lead < SAMPLE_LEADS {
            let index = lead as usize;
            if self.samples.len() <= index {
                self.samples.resize_with(index + 1, Default::default);
            }
            let sample = &mut self.samples[index];
            if sample.0.is_empty() {
                sample.0 = id.to_owned();
            }
            sample.1.push(timeline_event.clone());
        }
        let key = (lead, timeline_event.enrollment);
        let channel = self.channel_at.get(event.pc as usize).copied().flatten();
        if event.kind == EventKind::Entered {
            self.open.insert(
                key,
                Progress {
                    entered: event.at,
                    touched: 0,
                    held: None,
                },
            );
            return;
        }
        let Some(progress) = self.open.get_mut(&key) else {
            return;
        };
        // A hold ends when the lead goes on from the step, however it does.
        if event.kind != EventKind::Held {
            if let Some((held_on, since)) = progress.held.take() {
                self.held[held_on].push((event.at - since).num_seconds());
            }
        }
        match (event.kind, channel) {
            (EventKind::Held, Some(channel)) => {
                progress.held.get_or_insert((channel, event.at));
            }
            (EventKind::Sent, Some(channel)) => {
                self.sends[channel].push((lead, event.at));
                if progress.touched & (1 << channel) == 0 {
                    progress.touched |= 1 << channel;
                    self.first_touch[channel].push((event.at - progress.entered).num_seconds());
                }
            }
            (EventKind::Exited | EventKind::Completed | EventKind::Failed, _) => {
                self.open.remove(&key);
            }
            _ => {}
        }
    }
}
