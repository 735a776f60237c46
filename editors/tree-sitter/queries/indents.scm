; Indents for flowc workflow files (nvim-treesitter captures), as
; `flowc fmt` lays them out: one level in under a workflow, a section, a
; step's options and blocks, and each arm; `end` goes back to its step.

[
  (workflow)
  (fields_section)
  (event_section)
  (windows_section)
  (steps_section)
  (send_email)
  (send_text)
  (call_phone)
  (notify)
  (http)
  (prompt)
  (extract_option)
  (wait_field)
  (wait_event)
  (condition)
  (split)
  (branch)
  (else_branch)
  (variant)
  (outcome_branch)
  (failure_branch)
  (event_branch)
  (wait_branch)
] @indent.begin

; An arm starts at its step's option level, `end` at the step's own.
[
  (outcome_branch)
  (failure_branch)
  (event_branch)
  (wait_branch)
  (branch)
  (else_branch)
  (variant)
] @indent.branch
"end" @indent.branch

(comment) @indent.auto
(string) @indent.ignore
