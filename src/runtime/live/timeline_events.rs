//! Timeline events as live runs write them: appended to the transaction
//! and written when it commits, with the round's other events, each
//! detail capped.

use crate::bytecode::Program;
use crate::store::{millis, Tx, Value as Column};
use crate::vm::{Event, EventKind};

/// Characters of an event's detail the timeline keeps.
const DETAIL_CHARS: usize = 2_000;

/// An event's detail as the timeline keeps it: at most [`DETAIL_CHARS`]
/// characters, and how many more there were.
fn capped(detail: &str) -> std::borrow::Cow<'_, str> {
    match detail.char_indices().nth(DETAIL_CHARS) {
        None => detail.into(),
        Some((end, _)) => format!(
            "{}… ({} characters more)",
            &detail[..end],
            detail[end..].chars().count()
        )
        .into(),
    }
}

/// Puts an enrollment's events on its timeline: written when the
/// transaction commits, with the round's other events.
pub(super) fn insert_events(
    transaction: &Tx<'_>,
    enrollment: i64,
    program: &Program,
    events: &[Event],
) {
    for event in events {
        let step = if event.kind == EventKind::Entered {
            "-"
        } else {
            program
                .origins
                .get(event.pc as usize)
                .map_or("?", |origin| origin.label.as_str())
        };
        transaction.append(
            "events (enrollment, at, pc, step, kind, detail)",
            [
                Column::Int(enrollment),
                Column::Int(millis(event.at)),
                Column::Int(i64::from(event.pc)),
                Column::Text(step.to_owned().into()),
                Column::Text(event.kind.name().into()),
                Column::Text(capped(&event.detail).into_owned().into()),
            ],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::{capped, DETAIL_CHARS};

    #[test]
    fn a_runaway_detail_is_cut_and_says_how_much_was_left_out() {
        assert_eq!(capped("short"), "short");
        let long = "é".repeat(DETAIL_CHARS + 5);
        let kept = capped(&long);
        assert!(kept.starts_with(&"é".repeat(DETAIL_CHARS)));
        assert!(
            kept.ends_with("… (5 characters more)"),
            "{}",
            &kept[kept.len() - 40..]
        );
    }
}
