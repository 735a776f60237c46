//! The canvas as an SVG picture, laid out by layout-rs (a Rust port of
//! Graphviz's layered layout), so no Graphviz needs to be installed.

use layout::backends::svg::SVGWriter;
use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::style::{LineStyleKind, StyleAttr};
use layout::std_shapes::render::get_shape_size;
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
use layout::topo::layout::VisualGraph;

use super::{Canvas, CardKind};

/// Font size of box text.
const FONT: usize = 14;

/// Why a canvas could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("the layout engine failed on this workflow: {0}")]
pub struct LayoutError(String);

/// The canvas as an SVG document.
pub fn render(canvas: &Canvas) -> Result<String, LayoutError> {
    // The layout engine asserts on shapes it cannot place; a failure there
    // is reported, not a crash of flowc.
    std::panic::catch_unwind(|| draw(canvas)).map_err(|panic| {
        let reason = panic
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no reason given".to_owned());
        LayoutError(reason)
    })
}

fn draw(canvas: &Canvas) -> String {
    let orientation = Orientation::TopToBottom;
    let mut graph = VisualGraph::new(orientation);
    let handles: Vec<_> = canvas
        .cards
        .iter()
        .map(|drawn| {
            let text = drawn.lines.join("\n");
            let (shape, fill, rounded) = match drawn.kind {
                CardKind::Trigger => (ShapeKind::new_box(&text), "#d9f2e3", 12),
                CardKind::Action => (ShapeKind::new_box(&text), "#e3ecfa", 6),
                CardKind::Condition => (ShapeKind::new_box(&text), "#fdf1d6", 0),
                CardKind::End => (ShapeKind::new_circle(&text), "#eeeeee", 0),
            };
            let look = StyleAttr::new(
                Color::fast("#555555"),
                1,
                Some(Color::fast(fill)),
                rounded,
                FONT,
            );
            // Records and cards grow the other way in top-down graphs.
            let size = get_shape_size(orientation.flip(), &shape, FONT, false);
            graph.add_node(Element::create(shape, look, orientation.flip(), size))
        })
        .collect();
    for arrow in &canvas.arrows {
        let look = StyleAttr::new(Color::fast("#555555"), 1, None, 0, FONT - 2);
        let line = Arrow::new(
            LineEndKind::None,
            LineEndKind::Arrow,
            LineStyleKind::Normal,
            &arrow.label.join("\n"),
            &look,
            &None,
            &None,
        );
        graph.add_edge(line, handles[arrow.from], handles[arrow.to]);
    }
    let mut writer = SVGWriter::new();
    graph.do_it(false, false, false, &mut writer);
    writer.finalize()
}
