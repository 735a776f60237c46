; Languages inside strings: an email's body is Markdown, an http step's
; body is JSON (templates inside both stay flowc's).

(send_email
  (body_option
    (string) @injection.content
    (#set! injection.language "markdown")))

(http
  (body_option
    (string) @injection.content
    (#set! injection.language "json")))

((comment) @injection.content
  (#set! injection.language "comment"))
