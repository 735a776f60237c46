//! The 5-step lead flow the CLI benchmarks run: condition → email →
//! wait 2 days → text.

/// Its source.
pub const FLOW: &str = r#"workflow five
  timezone America/New_York
  fields
    score number
  trigger when email is set
  steps
    condition
      branch hot when score >= 50
        send email
          to lead
          subject "Hi {{ first_name | default: "there" }}"
          body "Thanks for looking, {{ first_name | default: "there" }}."
      else
        exit "cold"
    end
    wait 2 days
    send text
      body "Hi {{ first_name | default: "there" }}, want a demo?"
"#;
