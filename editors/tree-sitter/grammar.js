/**
 * Tree-sitter grammar for flowc workflow files (`.flow`), for Neovim, Helix
 * and Zed. It follows grammar/flow.pest: lines are significant, indentation
 * is not; blocks (`condition`, `split`, outcome branches) close with `end`.
 */

const IDENT = /[A-Za-z_][A-Za-z0-9_-]*/;
const DAY = /monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun/;

const commaSep1 = (rule) => seq(rule, repeat(seq(',', rule)));

module.exports = grammar({
  name: 'flow',

  extras: ($) => [/[ \t]/, $.comment],

  conflicts: ($) => [],

  rules: {
    source_file: ($) => seq(optional($._newline), repeat($.workflow)),

    comment: (_) => token(seq('#', /[^\r\n]*/)),
    _newline: (_) => repeat1(/\r?\n/),

    identifier: (_) => IDENT,

    // ------------------------------------------------------------ structure

    workflow: ($) =>
      seq('workflow', field('name', $.identifier), $._end_of_line, repeat($._workflow_item)),

    _end_of_line: ($) => choice($._newline, $._eof),
    _eof: (_) => token(prec(-1, /\x00/)),

    _workflow_item: ($) =>
      choice(
        $.setting,
        $.fields_section,
        $.event_section,
        $.trigger,
        $.goal,
        $.windows_section,
        $.steps_section,
      ),

    setting: ($) =>
      seq(
        choice(
          seq('timezone', field('zone', $.timezone_name)),
          seq('re-entry', choice('never', 'always', seq('after', $.duration))),
          seq('look', 'back', $.duration),
          seq('on', 'send', 'failure', choice('continue', 'fail')),
          seq('holidays', choice(seq('file', $.string), commaSep1($.datetime))),
        ),
        $._newline,
      ),
    timezone_name: (_) => /[A-Za-z0-9_\/+-]+/,

    fields_section: ($) => seq('fields', $._newline, repeat($.field_declaration)),
    event_section: ($) =>
      seq('event', field('name', $.identifier), $._newline, repeat($.field_declaration)),
    field_declaration: ($) =>
      seq(
        field('name', $.identifier),
        field('type', $.field_type),
        optional(field('description', $.string)),
        $._newline,
      ),
    field_type: ($) =>
      seq(optional('optional'), optional(seq('list', 'of')), $.base_type),
    base_type: (_) => choice('text', 'number', 'bool', 'datetime'),

    trigger: ($) => seq('trigger', $._watch, $._newline),

    goal: ($) => seq('goal', field('name', $.identifier), $._watch, $._newline),

    // What a trigger or goal watches: the lead's fields, or an event.
    _watch: ($) =>
      choice(
        seq('when', field('criteria', $._expression)),
        seq('on', field('event', $.identifier), optional(seq('when', field('criteria', $._expression)))),
      ),

    windows_section: ($) => seq('windows', $._newline, repeat($.window)),
    window: ($) =>
      seq(
        field('channel', $.channel),
        optional($.days),
        commaSep1($.time_range),
        optional($.window_zone),
        optional($.skip_holidays),
        $._newline,
      ),
    skip_holidays: (_) => seq('skip', 'holidays'),
    window_zone: (_) => seq('in', choice('lead', 'account'), 'timezone'),
    channel: (_) => choice('email', 'text', 'call'),
    days: ($) => commaSep1(choice($.day_range, $.day, 'weekdays', 'weekday', 'weekends', seq('every', 'day'))),
    day_range: (_) => token(seq(DAY, /\s*-\s*/, DAY)),
    day: (_) => DAY,
    time_range: ($) => seq($.clock, '-', $.clock),

    // ------------------------------------------------------------ steps

    steps_section: ($) => seq('steps', $._newline, repeat($._step_item)),
    _step_item: ($) => choice($.label, $._step),
    label: ($) => seq('label', field('name', $.identifier), $._newline),

    _step: ($) =>
      choice(
        $.send_email,
        $.send_text,
        $.call_phone,
        $.notify,
        $.http,
        $.prompt,
        $.wait,
        $.wait_until,
        $.wait_field,
        $.wait_event,
        $.wait_business,
        $.condition,
        $.split,
        $.goto,
        $.exit,
      ),

    send_email: ($) => prec.right(seq('send', 'email', $._newline, repeat($._option), optional($.failure_block))),
    send_text: ($) => prec.right(seq('send', 'text', $._newline, repeat($._option), optional($.failure_block))),
    call_phone: ($) => prec.right(seq('call', 'phone', $._newline, repeat($._option), optional($.outcome_block))),
    notify: ($) =>
      prec.right(seq(
        'notify',
        field('service', choice('slack', 'teams')),
        field('target', $.identifier),
        $._newline,
        repeat($._option),
        optional($.failure_block),
      )),
    http: ($) =>
      prec.right(seq(
        'http',
        field('method', choice('get', 'post', 'put')),
        field('url', $.string),
        $._newline,
        repeat($._option),
        optional($.failure_block),
      )),
    prompt: ($) => prec.right(seq('prompt', $._newline, repeat($._option), optional($.failure_block))),

    outcome_block: ($) => prec.right(seq(repeat1($.outcome_branch), 'end', $._end_of_line)),
    // `on OUTCOME` and `on error` are single tokens: which block an `on`
    // line belongs to (a call's or a nested step's) depends on its word.
    outcome_branch: ($) => prec.right(seq(field('outcome', $.outcome), $._newline, repeat($._step_item))),
    outcome: (_) => token(prec(3, /on[ \t]+(answered|voicemail|no[ \t]+answer|failed)/)),
    failure_block: ($) => seq($.failure_branch, 'end', $._end_of_line),
    failure_branch: ($) => prec.right(seq($.on_error, $._newline, repeat($._step_item))),
    on_error: (_) => token(prec(3, /on[ \t]+error/)),

    wait: ($) => seq('wait', $.duration, $._newline),
    wait_business: ($) => seq('wait', $.count, 'business', choice('days', 'day'), $._newline),
    count: (_) => /[0-9]+/,
    wait_until: ($) =>
      seq(
        'wait',
        'until',
        optional('next'),
        optional($.days),
        $.clock,
        optional($.window_zone),
        $._newline,
      ),
    wait_field: ($) =>
      prec.right(seq(
        'wait',
        'until',
        field('field', $.field_reference),
        optional(seq(field('sign', choice('+', '-')), $.duration)),
        $._newline,
        optional($.wait_block),
      )),
    wait_block: ($) => seq(repeat1($.wait_branch), 'end', $._end_of_line),
    wait_event: ($) =>
      prec.right(seq(
        'wait',
        'for',
        field('event', $.identifier),
        'up',
        'to',
        $.duration,
        $._newline,
        optional($.event_block),
      )),
    event_block: ($) => seq(repeat1($.event_branch), 'end', $._end_of_line),
    // Like `on OUTCOME`, one token: its word says which block it opens.
    event_branch: ($) => prec.right(seq(field('case', $.event_case), $._newline, repeat($._step_item))),
    event_case: (_) => token(prec(3, /on[ \t]+(event|timeout)/)),
    wait_branch: ($) =>
      prec.right(seq('if', field('case', choice('missing', 'past')), $._newline, repeat($._step_item))),
    condition: ($) =>
      seq('condition', $._newline, repeat(choice($.branch, $.else_branch)), 'end', $._end_of_line),
    branch: ($) =>
      seq(
        'branch',
        field('name', $.identifier),
        'when',
        field('criteria', $._expression),
        $._newline,
        repeat($._step_item),
      ),
    else_branch: ($) => seq('else', $._newline, repeat($._step_item)),
    split: ($) => seq('split', $._newline, repeat($.variant), 'end', $._end_of_line),
    variant: ($) =>
      seq('variant', field('name', $.identifier), field('share', $.percent), $._newline, repeat($._step_item)),
    percent: (_) => /\d{1,3}%/,
    goto: ($) =>
      seq(
        'goto',
        field('label', $.identifier),
        optional(seq('up', 'to', field('limit', $.loop_count), choice('times', 'time'))),
        $._newline,
      ),
    loop_count: (_) => /[0-9]+/,
    exit: ($) => seq('exit', optional(field('reason', $.string)), $._end_of_line),

    // ------------------------------------------------------------ options

    _option: ($) =>
      choice(
        $.to_option,
        $.address_option,
        $.from_option,
        $.text_option,
        $.body_option,
        $.agent_option,
        $.header_option,
        $.timeout_option,
        $.tools_option,
        $.extract_option,
        $.transactional_option,
        $.outside_option,
      ),
    to_option: ($) => seq('to', $.recipient, repeat(seq('and', $.recipient)), $._newline),
    recipient: (_) => choice('lead', 'rep'),
    address_option: ($) =>
      seq(choice('cc', 'bcc'), commaSep1(choice($.email_address, $.string)), $._newline),
    from_option: ($) =>
      seq('from', choice($.phone_number, $.email_address, $.identifier), $._newline),
    text_option: ($) =>
      seq(choice('subject', 'message', 'instructions'), $.string, $._newline),
    body_option: ($) => seq('body', choice(seq('file', $.string), $.string), $._newline),
    agent_option: ($) => seq('agent', $.identifier, $._newline),
    header_option: ($) => seq('header', field('name', $.header_name), field('value', $.string), $._newline),
    header_name: (_) => /[A-Za-z0-9_-]+/,
    timeout_option: ($) => seq('timeout', $.duration, $._newline),
    tools_option: ($) => seq('tools', commaSep1($.tool), $._newline),
    tool: (_) => choice(seq('web', 'search'), seq('fetch', 'url')),
    transactional_option: ($) => seq('transactional', $._newline),
    outside_option: ($) =>
      seq(
        'outside',
        'window',
        choice('skip', seq('hold', 'up', 'to', $.duration, 'then', 'skip')),
        $._newline,
      ),
    extract_option: ($) => seq('extract', $._newline, repeat($.extraction)),
    extraction: ($) =>
      seq(
        field('name', $.identifier),
        field('type', $.field_type),
        choice(seq('from', field('path', $.json_path)), field('description', $.string)),
        $._newline,
      ),
    json_path: (_) => /[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+|\[[0-9]+\])*/,

    // ------------------------------------------------------------ criteria

    _expression: ($) => choice($.binary_expression, $._unary),
    // Criteria may go on over several lines, each continuing one starting
    // with `and` or `or`: the line break and the word are one token, so a
    // line break is otherwise always the end of the line.
    binary_expression: ($) =>
      prec.left(
        seq(
          $._unary,
          repeat1(seq(field('operator', $.logic_operator), optional($._newline), $._unary)),
        ),
      ),
    logic_operator: (_) =>
      choice('and', 'or', token(prec(5, /(\r?\n[ \t]*)+(and|or)[ \t]/))),
    _unary: ($) => choice($.not_expression, $.parenthesized, $.window_test, $.comparison),
    // The channel and `window` are one token, so that `email` alone stays a
    // field (`email is set`).
    window_test: ($) =>
      seq(
        field('channel', alias(token(prec(3, /(email|text|call)[ \t]+window/)), $.channel)),
        'is',
        optional('not'),
        'open',
      ),
    not_expression: ($) => seq('not', $._unary),
    parenthesized: ($) => seq('(', optional($._newline), $._expression, optional($._newline), ')'),
    comparison: ($) => seq(field('field', $.field_reference), field('test', $._test)),
    // `event.FIELD` (and `env.NAME` in templates): the prefix is its own
    // node, a word of the language; the name follows it at once.
    field_reference: ($) => choice($._field_name, seq($.payload, token.immediate(IDENT))),
    payload: (_) => token(seq(choice('event', 'env'), '.')),
    // A token of its own, defined after `day`: `monday` after `wait until`
    // is a day, `monthly_at` a field.
    _field_name: (_) => token(seq(/[A-Za-z_]/, /[A-Za-z0-9_-]*/)),
    _test: ($) =>
      choice(
        seq($.compare_operator, $._operand),
        seq('is', 'set'),
        seq('is', 'not', 'set'),
        seq('is', optional('not'), 'one', 'of', commaSep1($._literal)),
        seq('is', 'within', 'last', $.duration),
        seq('is', 'older', 'than', $.duration),
        seq('is', 'within', 'next', $.duration),
        seq('is', 'between', $._operand, 'and', $._operand),
        seq('is', choice('before', 'after'), $._operand),
        seq('has', choice(seq('more', 'than'), seq('fewer', 'than'), seq('at', choice('least', 'most'))), $.count, choice('items', 'item')),
        seq('is', optional('not'), $._literal),
        seq('contains', $._literal),
        seq('does', 'not', 'contain', $._literal),
        seq('starts', 'with', $._literal),
        seq('ends', 'with', $._literal),
      ),
    compare_operator: (_) => choice('>=', '<=', '>', '<'),
    // What a field is compared with: a value, or another field.
    _operand: ($) => choice($._literal, $.field_reference),

    // ------------------------------------------------------------ literals

    _literal: ($) => choice($.datetime, $.number, $.string, $.boolean),
    boolean: (_) => choice('true', 'false'),
    number: (_) => /-?[0-9]+(\.[0-9]+)?/,
    datetime: (_) =>
      token(prec(2, /[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2})?(Z|[+-][0-9]{2}:[0-9]{2})?)?/)),
    duration: (_) =>
      token(
        prec(1, /[0-9]+\s*(minutes|minute|min|m|hours|hour|h|days|day|d|weeks|week|w|years|year|y|seconds|second|sec|s)/),
      ),
    clock: (_) => token(prec(2, /[0-9]{1,2}:[0-9]{2}/)),
    phone_number: (_) => /\+[0-9]{6,15}/,
    email_address: (_) => /[A-Za-z0-9._+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+/,

    string: ($) => choice($._triple_string, $._line_string),
    _line_string: ($) =>
      seq('"', repeat(choice($.string_content, $.escape_sequence, $.template)), token.immediate('"')),
    string_content: (_) => token.immediate(prec(1, /[^"\\{\r\n]+|\{/)),
    escape_sequence: (_) => token.immediate(/\\["\\nt{]/),
    _triple_string: ($) =>
      seq('"""', repeat(choice($.text_content, $.template)), '"""'),
    // A lone `"` is text too (before a template, or a quote in JSON); the
    // closing `"""` is longer, so it still wins where it stands.
    text_content: (_) => token.immediate(prec(1, /([^"{]|"[^"{]|""[^"{]|\{[^{])+|"/)),

    template: ($) =>
      seq(
        token.immediate(prec(2, '{{')),
        field('path', $.template_path),
        optional($.filter),
        '}}',
      ),
    template_path: ($) => choice($._field_name, seq($.payload, token.immediate(IDENT))),
    filter: ($) =>
      seq('|', field('name', $.identifier), optional(seq(':', choice($.number, $._line_string, $.boolean, $.template_path)))),
  },
});
