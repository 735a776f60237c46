; Folds for flowc workflow files: a workflow, each section, each step with
; options or blocks, and each block arm.

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
] @fold
