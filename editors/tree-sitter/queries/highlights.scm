; Highlights for flowc workflow files.

(comment) @comment

[
  "workflow" "timezone" "re-entry" "look" "back" "fields" "event" "trigger"
  "goal" "windows" "steps" "failure" "transactional" "holidays" "skip" "business"
] @keyword

[
  "send" "notify" "http" "prompt" "wait" "until" "next" "for" "condition" "split" "goto"
  "exit" "label"
] @keyword.control
(call_phone "call" @keyword.control)

["branch" "variant" "else" "end" "when" "on" "if"] @keyword.conditional
["missing" "past"] @constant.builtin
(outcome) @keyword.conditional
(on_error) @keyword.conditional
(event_case) @keyword.conditional

[
  "cc" "bcc" "subject" "body" "file" "agent" "message" "header"
  "timeout" "instructions" "tools" "extract" "outside"
] @property
(to_option "to" @property)
(from_option "from" @property)
(extraction "from" @keyword.operator)

[
  "is" "not" "set" "one" "of" "within" "last" "older" "than" "contains" "does"
  "contain" "starts" "ends" "with" "in" "between" "before" "has" "more" "fewer" "at"
  "least" "most" "items" "item" "open" "and"
] @keyword.operator
(logic_operator) @keyword.operator
(compare_operator) @operator

(base_type) @type.builtin
["optional" "list"] @type.builtin

; Channels only where they are channels: `email` and `text` may be fields.
(send_email "email" @constant.builtin)
(send_text "text" @constant.builtin)
(channel) @constant.builtin
["phone" "slack" "teams" "get" "post" "put"] @constant.builtin
["lead" "rep" "account"] @variable.builtin
["never" "always" "after" "continue" "fail"] @constant
(boolean) @boolean
(number) @number
(duration) @number
(clock) @number
(percent) @number
(loop_count) @number
(count) @number
["up" "times" "time" "window" "hold" "then"] @keyword.operator
(goto "to" @keyword.operator)
(wait_event "to" @keyword.operator)
(outside_option "to" @keyword.operator)
(wait_business ["days" "day"] @keyword)
(wait_field sign: _ @operator)
(datetime) @number
(day) @constant
(day_range) @constant
(days ["weekdays" "weekday" "weekends" "every" "day"] @constant)
(tool) @function.builtin
(phone_number) @number
(email_address) @string.special
(timezone_name) @string.special

(string) @string
(escape_sequence) @string.escape
(template ["{{" "}}"] @punctuation.special)
(template_path) @variable
(payload) @keyword
(filter "|" @punctuation.delimiter)
(filter name: (identifier) @function)
(header_option name: (header_name) @string.special)
(json_path) @string.special

(workflow name: (identifier) @type.definition)
(event_section name: (identifier) @type.definition)
(trigger event: (identifier) @type)
(goal event: (identifier) @type)
(goal name: (identifier) @label)
(label name: (identifier) @label)
(goto label: (identifier) @label)
(branch name: (identifier) @label)
(field_declaration name: (identifier) @variable.member)
(extraction name: (identifier) @variable.member)
(field_reference) @variable.member
(notify target: (identifier) @variable)
(window_test channel: (channel) @constant.builtin)
