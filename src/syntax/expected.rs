//! Human names for grammar rules, and pest errors renamed for users.
//!
//! Every rule is named here in one exhaustive match, so a new grammar rule
//! cannot reach a user under its internal name.

use pest::error::{ErrorVariant, InputLocation};

use super::{Rule, SyntaxError};
use crate::span::Span;

/// The words for "a step" when any step keyword is expected.
const A_STEP: &str =
    "a step (send email, send text, call phone, notify, http, prompt, wait, condition, split, goto, exit)";

/// The words for "a value" when every kind of literal is expected.
const A_VALUE: &str = "a value (text in quotes, a number, a date like `2026-03-08`, true or false)";

/// The names of the kinds of literal, folded into [`A_VALUE`].
const VALUE_KINDS: &[&str] = &[
    "a number",
    "text in quotes",
    "a date like `2026-03-08`",
    "`true` or `false`",
];

/// What a user should read for `rule` in "expected ...", or `None` for rules
/// that never make sense on their own.
fn describe(rule: Rule) -> Option<&'static str> {
    use Rule::*;
    Some(match rule {
        EOI => "the end of the file",
        file | workflow | workflow_head | kw_workflow => "`workflow NAME`",
        stray_line | stray_item_line | stray_field_line | stray_window_line | stray_step_line
        | stray_branch_line | stray_variant_line | invalid | missing_end | WHITESPACE | comment
        | blank_lines | eol | line_end | newline | block_end | bom => return None,
        step_word => A_STEP,
        option_word => "an option of the step above",
        block_word => "`branch`, `variant`, `else`, `end` or `on`",
        section_word => "a setting or a section",
        workflow_item | item_unit => "a setting or a section",
        day_item => "a day",
        step_item | step_unit => A_STEP,
        unary | literal | filter_arg | operand => "a value",
        test => "a test (is, is not, >, <, contains, is set, ...)",
        setting_timezone => "`timezone NAME`",
        setting_reentry => "`re-entry never`, `re-entry always` or `re-entry after DURATION`",
        setting_lookback => "`look back DURATION`",
        reentry_policy => "`never`, `always` or `after DURATION`",
        setting_failure => "`on send failure continue` or `on send failure fail`",
        setting_holidays | kw_holidays => {
            "`holidays 2026-12-25, 2027-01-01` or `holidays file \"holidays.txt\"`"
        }
        holiday_spec | holiday_dates | holidays_file => {
            "dates like `2026-12-25, 2027-01-01`, or `file \"holidays.txt\"`"
        }
        skip_holidays | kw_skip => "`skip holidays`",
        business_days | business_count | kw_days => "`N business days`, like `2 business days`",
        failure_policy => "`continue` or `fail`",
        timezone_name => "a timezone name like `America/New_York`",
        fields_section | kw_fields => "`fields`",
        event_section | kw_event => "`event NAME`",
        field_decl => "a field like `lead_score number`",
        field_type | base_type | kw_optional | kw_list => {
            "a type (text, number, bool, datetime, list of text, optional ...)"
        }
        list_type => "`list of TYPE`",
        trigger | kw_trigger => "`trigger`",
        trigger_head | watch => "`when CRITERIA` or `on EVENT`",
        when_criteria => "`when CRITERIA`",
        on_event => "`on EVENT`",
        goal | kw_goal => "`goal NAME when CRITERIA` or `goal NAME on EVENT`",
        goal_head => "`NAME when CRITERIA` or `NAME on EVENT`",
        windows_section | kw_windows => "`windows`",
        window => "a window like `email mon-fri 09:00-17:00`",
        channel => "a channel (email, text, call)",
        window_spec => "days and times like `mon-fri 09:00-17:00`",
        days | day | day_range | every_day | weekdays | weekends => {
            "days (mon..sun, mon-fri, weekdays, weekends, every day)"
        }
        time_ranges | time_range => "a time range like `09:00-17:00`",
        window_zone | kw_in => "`in lead timezone` or `in account timezone`",
        steps_section | kw_steps => "`steps`",
        step | effect_step | effect_head | kw_send | kw_call | kw_notify | kw_http | kw_prompt
        | kw_wait | kw_condition | kw_goto | kw_exit | kw_split => A_STEP,
        label_line | kw_label => "`label NAME`",
        send_email => "`send email`",
        send_text => "`send text`",
        call_phone | kw_phone => "`call phone`",
        notify => "`notify slack|teams TARGET`",
        notify_target => "`slack NAME` or `teams NAME`",
        notify_service | kw_slack | kw_teams => "`slack` or `teams`",
        http => "`http get|post|put \"URL\"`",
        http_target => "a method and a URL like `post \"https://...\"`",
        http_method | kw_get | kw_post | kw_put => "`get`, `post` or `put`",
        prompt => "`prompt`",
        outcome_block | outcome_branch | kw_on => "`on OUTCOME`",
        failure_block | failure_branch | kw_error => "`on error`",
        outcome | no_answer | kw_answered | kw_voicemail | kw_no | kw_answer | kw_failed => {
            "an outcome (answered, voicemail, no answer, failed)"
        }
        wait_step => "`wait DURATION` or `wait until HH:MM`",
        wait_args => "a duration like `2 days` or `until 09:30`",
        wait_until | kw_until => "`until HH:MM`",
        kw_next => "`next`",
        wait_field => "`until FIELD`, like `until demo_at - 1 hour`",
        wait_offset | offset_sign => "an offset like `- 1 hour` or `+ 2 days`",
        wait_block | wait_branch | kw_if => "`if missing` or `if past`",
        wait_event | kw_for => "`for EVENT up to DURATION`, like `for call_ended up to 2 days`",
        event_block | event_branch => "`on event` or `on timeout`",
        event_case => "`event` or `timeout`",
        wait_case | kw_missing | kw_past => "`missing` or `past`",
        condition => "`condition`",
        branch | kw_branch => "`branch NAME when CRITERIA`",
        branch_head => "`NAME when CRITERIA`",
        else_branch | kw_else => "`else`",
        split => "`split`",
        variant | kw_variant => "`variant NAME PERCENT%`",
        variant_head => "`NAME PERCENT%`, like `a 50%`",
        percent => "a share like `50%`",
        kw_end => "`end`",
        goto_step => "`goto LABEL`",
        goto_target => "a label, optionally `up to N times`",
        loop_count => "a count like `3`",
        kw_up | kw_times => "`up to N times`",
        exit_step => "`exit` or `exit \"reason\"`",
        step_option => "an option of the step above",
        opt_to | kw_to => "`to lead`, `to rep` or `to lead and rep`",
        opt_cc | kw_cc => "`cc ADDRESS`",
        opt_bcc | kw_bcc => "`bcc ADDRESS`",
        opt_from | kw_from => "`from IDENTITY`",
        opt_subject | kw_subject => "`subject \"...\"`",
        opt_body | kw_body => "`body \"...\"`",
        opt_agent | kw_agent => "`agent NAME`",
        opt_message | kw_message => "`message \"...\"`",
        opt_header | kw_header => "`header NAME \"value\"`",
        opt_timeout | kw_timeout => "`timeout DURATION`",
        opt_instructions | kw_instructions => "`instructions \"...\"`",
        opt_tools | kw_tools => "`tools web search, fetch url`",
        opt_transactional | kw_transactional => "`transactional` alone on its line",
        opt_outside | kw_outside | kw_window | outside_policy | kw_hold | kw_then => {
            "`outside window skip` or `outside window hold up to DURATION then skip`"
        }
        opt_extract | kw_extract => "`extract`",
        recipients | recipient | kw_lead | kw_rep => "`lead` or `rep`",
        addresses | address | email_address => "an email address",
        sender => "an identity name, a phone number like `+15550100` or an email address",
        body | body_file | kw_file => "text in quotes or `file \"path\"`",
        header => "a header name and its value in quotes",
        header_name => "a header name",
        tools | tool | web_search | fetch_url | kw_web | kw_search | kw_fetch | kw_url => {
            "a tool (web search, fetch url)"
        }
        extraction => "a field to extract like `size number from company.size`",
        extraction_spec => "a type and `from PATH` or a description in quotes",
        json_path | json_key => "a path into the response like `company.metrics.employees`",
        expr | negation | group | comparison | kw_not => "criteria like `lead_score > 50`",
        logic_op | kw_and | kw_or => "`and` or `or`",
        field_ref => "a field name",
        is_set | is_not_set | is_one_of | is_not_one_of | is_within | is_older_than | is_not
        | is | contains | not_contains | starts_with | ends_with | compare | compare_op | kw_is
        | kw_set | kw_one | kw_within | kw_last | kw_older | kw_than | kw_contains | kw_does
        | kw_contain | kw_starts | kw_ends | kw_with | is_within_next | is_between | is_before
        | is_after | kw_between | kw_before => "a test (is, is not, >, <, contains, is set, ...)",
        has_items | count_op | kw_has | kw_more | kw_fewer | kw_at | kw_least | kw_most => {
            "a count like `has more than 2 items`"
        }
        item_count => "a count like `2`",
        kw_items => "`items`",
        window_test | kw_open => "`email window is open`",
        boolean | kw_true | kw_false => "`true` or `false`",
        number => "a number",
        datetime => "a date like `2026-03-08`",
        duration | duration_size | duration_unit => "a duration like `2 days` or `3h`",
        clock => "a time like `09:30`",
        phone_number => "a phone number like `+15550100`",
        name | ident | reserved => "a name",
        string | line_string | triple_string | line_text | triple_text | escape => "text in quotes",
        template_file | file_text => "text",
        close_quote => "`\"`",
        close_triple => "`\"\"\"`",
        template | template_path => "`{{ field }}`",
        filter => "a filter like `| default: \"there\"`",
        close_template => "`}}`",
        kw_timezone => "`timezone`",
        kw_reentry => "`re-entry`",
        kw_never => "`never`",
        kw_always => "`always`",
        kw_after => "`after`",
        kw_look | kw_back => "`look back`",
        kw_failure => "`failure`",
        kw_fail => "`fail`",
        kw_continue => "`continue`",
        kw_of => "`of`",
        kw_text => "`text`",
        kw_number => "`number`",
        kw_bool => "`bool`",
        kw_datetime => "`datetime`",
        kw_when => "`when`",
        kw_email => "`email`",
        kw_every | kw_day => "`every day`",
        kw_account => "`account`",
    })
}

/// Converts a pest error from parsing `source[offset..]` into a syntax error
/// located in `source`.
pub(super) fn from_pest(
    source: &str,
    offset: usize,
    error: &pest::error::Error<Rule>,
) -> SyntaxError {
    let at = offset
        + match error.location {
            InputLocation::Pos(pos) => pos,
            InputLocation::Span((start, _)) => start,
        };
    let positives = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => positives.as_slice(),
        // pest's only custom errors are its call and stack limits.
        ErrorVariant::CustomError { .. } => return super::nesting::limit_reached(source, at),
    };
    if let Some(quote) = positives.iter().find_map(|rule| match rule {
        Rule::close_quote => Some("\""),
        Rule::close_triple => Some("\"\"\""),
        _ => None,
    }) {
        return unclosed_text(source, at, quote);
    }
    let mut names: Vec<&str> = positives
        .iter()
        .filter_map(|rule| describe(*rule))
        .collect();
    if names.contains(&A_STEP) {
        names.retain(|name| *name == A_STEP || !name.starts_with('`') || name.contains(' '));
    }
    if names.contains(&"a number") && names.contains(&"text in quotes") {
        names.retain(|name| !VALUE_KINDS.contains(name));
        names.push(A_VALUE);
    }
    let mut unique = Vec::new();
    for name in names {
        if !unique.contains(&name) {
            unique.push(name);
        }
    }
    let expected = match unique.as_slice() {
        [] => "something else".to_owned(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    };
    let help = positives
        .iter()
        .find_map(|rule| hint(*rule))
        .map(str::to_owned);
    expected_here(source, at, expected, help)
}

/// A hint for what a rule needs, where its name alone is not enough.
fn hint(rule: Rule) -> Option<&'static str> {
    match rule {
        Rule::duration | Rule::wait_args => {
            Some("a duration is a number and a unit: minutes (m), hours (h), days (d) or weeks (w)")
        }
        Rule::clock | Rule::wait_until => Some("times are HH:MM on the 24-hour clock, like `09:30` or `17:00`"),
        Rule::days | Rule::window_spec => Some("days are mon, tue, wed, thu, fri, sat, sun, ranges like `mon-fri`, `weekdays`, `weekends` or `every day`"),
        _ => None,
    }
}

/// `expected EXPECTED here, found ...` at byte `at` of `source`.
pub(super) fn expected_here(
    source: &str,
    at: usize,
    expected: String,
    help: Option<String>,
) -> SyntaxError {
    let (found, span) = found_at(source, at);
    SyntaxError::Expected {
        expected,
        found,
        span,
        help,
    }
}

/// What stands at `at`, in words, and its span.
pub(super) fn found_at(source: &str, at: usize) -> (String, Span) {
    let rest = &source[at.min(source.len())..];
    match rest.chars().next() {
        None => ("the end of the file".to_owned(), Span::new(at, at)),
        Some('\n' | '\r') => ("the end of the line".to_owned(), Span::new(at, at)),
        Some(first) => {
            let word_len = if first.is_ascii_digit() {
                number_and_unit_len(rest)
            } else if first.is_alphanumeric() || first == '_' {
                rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
                    .unwrap_or(rest.len())
            } else {
                first.len_utf8()
            };
            let word = &rest[..word_len];
            (format!("`{word}`"), Span::new(at, at + word_len))
        }
    }
}

/// The length of `12`, `12h` or `12 days` at the start of `text`.
fn number_and_unit_len(text: &str) -> usize {
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let after_spaces = digits + text[digits..].len() - text[digits..].trim_start_matches(' ').len();
    let letters = text[after_spaces..]
        .find(|c: char| !c.is_alphabetic())
        .unwrap_or(text.len() - after_spaces);
    if letters == 0 {
        digits
    } else {
        after_spaces + letters
    }
}

fn unclosed_text(source: &str, at: usize, quote: &'static str) -> SyntaxError {
    let before = &source[..at.min(source.len())];
    let opened = before.rfind(quote).unwrap_or(at);
    SyntaxError::UnclosedText {
        quote,
        opened: Span::new(opened, opened + quote.len()),
        span: Span::new(at, at),
    }
}
