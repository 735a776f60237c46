//! The HTML templates in `templates/`, built into flowc and rendered with
//! minijinja. Values are escaped for HTML by default (templates whose name
//! ends in `.html`); SVG drawn by flowc is marked safe where it is placed.

use std::sync::OnceLock;

use minijinja::Environment;
use serde::Serialize;

/// Every template, by name.
const TEMPLATES: [(&str, &str); 11] = [
    ("page.html", include_str!("../templates/page.html")),
    (
        "console/layout.html",
        include_str!("../templates/console/layout.html"),
    ),
    (
        "console/login.html",
        include_str!("../templates/console/login.html"),
    ),
    (
        "console/problem.html",
        include_str!("../templates/console/problem.html"),
    ),
    (
        "console/workflows.html",
        include_str!("../templates/console/workflows.html"),
    ),
    (
        "console/workflow.html",
        include_str!("../templates/console/workflow.html"),
    ),
    (
        "console/leads.html",
        include_str!("../templates/console/leads.html"),
    ),
    (
        "console/lead.html",
        include_str!("../templates/console/lead.html"),
    ),
    ("report.html", include_str!("../templates/report.html")),
    (
        "console/activity.html",
        include_str!("../templates/console/activity.html"),
    ),
    ("style.css", include_str!("../templates/style.css")),
];

/// Why a page could not be rendered (a template's fault, never the data's).
#[derive(Debug, thiserror::Error)]
#[error("the template {name} failed: {source}")]
pub struct TemplateError {
    name: &'static str,
    source: minijinja::Error,
}

fn environment() -> &'static Environment<'static> {
    static ENVIRONMENT: OnceLock<Environment<'static>> = OnceLock::new();
    ENVIRONMENT.get_or_init(|| {
        let mut environment = Environment::new();
        // A value as one segment of a URL path: `/` and every other
        // character but letters and digits percent-encoded.
        environment.add_filter("segment", |value: String| {
            percent_encoding::utf8_percent_encode(&value, percent_encoding::NON_ALPHANUMERIC)
                .to_string()
        });
        for (name, source) in TEMPLATES {
            environment
                .add_template(name, source)
                .unwrap_or_else(|error| panic!("the built-in template {name} is valid: {error}"));
        }
        environment
    })
}

/// Renders the template `name` with `context`.
pub fn render(name: &'static str, context: impl Serialize) -> Result<String, TemplateError> {
    environment()
        .get_template(name)
        .and_then(|template| template.render(context))
        .map_err(|source| TemplateError { name, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        for (name, _) in TEMPLATES {
            assert!(environment().get_template(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn a_path_segment_keeps_its_slashes_inside() {
        let mut environment = environment().clone();
        environment
            .add_template("t.html", "<a href=\"/x/{{ id|segment }}\">")
            .expect("a template");
        let page = environment
            .get_template("t.html")
            .and_then(|template| template.render(minijinja::context! { id => "a/b <c>" }))
            .expect("renders");
        assert_eq!(page, "<a href=\"/x/a%2Fb%20%3Cc%3E\">");
    }

    #[test]
    fn values_are_escaped_in_html() {
        let page = render(
            "page.html",
            minijinja::context! { title => "<script>x</script>", body => "" },
        )
        .expect("renders");
        assert!(page.contains("&lt;script&gt;x&lt;&#x2f;script&gt;"));
        assert!(!page.contains("<script>x"));
    }
}
