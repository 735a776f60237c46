//! Where each card and arrow of a canvas goes: a layered layout (Sugiyama's
//! method) kept linear in the size of the workflow.
//!
//! Cards are ranked by their longest path from the trigger; an arrow that
//! goes back up (a loop) or skips many ranks is drawn as a short "go to"
//! tag under its card instead of a line across the picture. Every other
//! arrow passes one point per layer it crosses, its label on the first;
//! the order within layers comes from the source order, improved by
//! barycenter sweeps; x positions are the closest to the neighbours'
//! centres that keep boxes apart (isotonic regression, solved exactly).
//! Nothing depends on hashing or timing, so the same canvas always gives
//! the same layout.

mod fit;
mod ranks;

use super::text;
use super::{Canvas, CardKind};
use fit::{inversions, isotonic, straighten};
use ranks::{back_arrows, ranks};

/// Font size of card text, in pixels.
pub const FONT: f32 = 13.0;
/// Font size of arrow labels and badges.
pub const SMALL: f32 = 11.5;
/// Height of one line of card text.
pub const LINE: f32 = 17.0;
/// Height of one line of label text.
pub const SMALL_LINE: f32 = 15.0;
/// Padding inside a card.
pub const PAD: f32 = 10.0;
/// Height of the row of count badges under a card's text.
pub const BADGES: f32 = 24.0;
/// Widest text in a card before it wraps.
const CARD_TEXT: f32 = 300.0;
/// Widest label text before it wraps.
const LABEL_TEXT: f32 = 190.0;
/// Narrowest card.
const MIN_CARD: f32 = 110.0;
/// Room between neighbours in a layer.
const GAP_X: f32 = 26.0;
/// Room between lines passing through a layer.
const GAP_LINES: f32 = 10.0;
/// Room above and below every layer.
const GAP_Y: f32 = 10.0;
/// Margin around the picture.
pub const MARGIN: f32 = 16.0;
/// The most ranks an arrow crosses before it becomes a "go to" tag.
const MAX_SPAN: usize = 4;
/// Rounds of crossing reduction and of positioning.
const ROUNDS: usize = 6;

/// A laid-out canvas, in pixels, origin top left.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// Size of the picture.
    pub width: f32,
    /// Size of the picture.
    pub height: f32,
    /// Cards and "go to" tags.
    pub boxes: Vec<Placed>,
    /// One per arrow of the canvas, in its order.
    pub routes: Vec<Route>,
}

/// A box and where it is (top-left corner and size).
#[derive(Clone, Debug, PartialEq)]
pub struct Placed {
    /// What the box shows.
    pub shape: Shape,
    /// Whether it shows its card's badges (a card drawn once per arrow
    /// into it shows them on none of its copies).
    pub counted: bool,
    /// Left.
    pub x: f32,
    /// Top.
    pub y: f32,
    /// Width.
    pub w: f32,
    /// Height.
    pub h: f32,
    /// Its text, wrapped to fit.
    pub lines: Vec<String>,
}

/// What a box shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A card of the canvas, by index (an end card may be drawn once per
    /// arrow into it).
    Card(usize),
    /// A "go to" tag standing for an arrow to this card.
    Jump(usize),
}

/// The line of one arrow, from its card's bottom to its target's top.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    /// Corner points, first to last.
    pub points: Vec<(f32, f32)>,
    /// Its label, centred on the line.
    pub label: Option<Label>,
}

/// An arrow's label box.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    /// Centre.
    pub x: f32,
    /// Centre.
    pub y: f32,
    /// Width.
    pub w: f32,
    /// Height.
    pub h: f32,
    /// Its lines, wrapped.
    pub lines: Vec<String>,
}

/// A node of the layered graph: a box, or a point where an arrow crosses
/// a layer.
struct Node {
    layer: usize,
    w: f32,
    h: f32,
    /// `Some(box)` for boxes.
    placed: Option<usize>,
    /// Position in its layer, then centre x.
    order: usize,
    x: f32,
    ins: Vec<usize>,
    outs: Vec<usize>,
}

impl Layout {
    /// Lays out `canvas`.
    pub fn of(canvas: &Canvas) -> Layout {
        let mut builder = Builder::default();
        builder.boxes(canvas);
        builder.order();
        builder.position();
        builder.finish()
    }
}

#[derive(Default)]
struct Builder {
    boxes: Vec<Placed>,
    nodes: Vec<Node>,
    /// Per arrow: the nodes its line passes, box to box.
    chains: Vec<Vec<usize>>,
    /// Per arrow: its label, wrapped.
    labels: Vec<Vec<String>>,
    layers: Vec<Vec<usize>>,
}

impl Builder {
    /// Boxes for cards (end cards once per arrow into them when several
    /// arrows meet there), ranks, "go to" tags, and the layer points.
    fn boxes(&mut self, canvas: &Canvas) {
        let mut incoming = vec![0usize; canvas.cards.len()];
        for arrow in &canvas.arrows {
            incoming[arrow.to] += 1;
        }
        let shared = |card: usize| canvas.cards[card].kind != CardKind::End || incoming[card] < 2;
        let box_of: Vec<usize> = (0..canvas.cards.len())
            .map(|card| {
                if shared(card) {
                    self.card_box(canvas, card, true)
                } else {
                    usize::MAX
                }
            })
            .collect();
        let ends: Vec<(usize, usize)> = canvas
            .arrows
            .iter()
            .map(|arrow| {
                let to = if shared(arrow.to) {
                    box_of[arrow.to]
                } else {
                    // Counts belong to the card, not to one of its copies.
                    self.card_box(canvas, arrow.to, false)
                };
                (box_of[arrow.from], to)
            })
            .collect();
        let back = back_arrows(self.boxes.len(), &ends);
        let rank = ranks(self.boxes.len(), &ends, &back);
        let mut rank_of_box = rank;
        let mut targets = Vec::with_capacity(ends.len());
        for (index, &(from, to)) in ends.iter().enumerate() {
            let long = rank_of_box[to] > rank_of_box[from] + MAX_SPAN;
            if back[index] || long {
                let card = canvas.arrows[index].to;
                let text = jump_text(canvas, card);
                let (w, h) = text_box(&text, SMALL, SMALL_LINE);
                self.boxes.push(Placed {
                    shape: Shape::Jump(card),
                    counted: false,
                    x: 0.0,
                    y: 0.0,
                    w: w + 2.0 * PAD,
                    h: h + PAD,
                    lines: text,
                });
                rank_of_box.push(rank_of_box[from] + 1);
                targets.push(self.boxes.len() - 1);
            } else {
                targets.push(to);
            }
        }
        let layers = 2 * rank_of_box.iter().copied().max().unwrap_or(0) + 1;
        self.layers = vec![Vec::new(); layers];
        for (index, placed) in self.boxes.iter().enumerate() {
            self.nodes.push(Node {
                layer: 2 * rank_of_box[index],
                w: placed.w,
                h: placed.h,
                placed: Some(index),
                order: 0,
                x: 0.0,
                ins: Vec::new(),
                outs: Vec::new(),
            });
        }
        for (index, arrow) in canvas.arrows.iter().enumerate() {
            let (from, to) = (ends[index].0, targets[index]);
            let mut chain = vec![from];
            let label = text::wrap_all(&arrow.label, SMALL, LABEL_TEXT);
            for layer in self.nodes[from].layer + 1..self.nodes[to].layer {
                let (w, h) = if layer == self.nodes[from].layer + 1 && !label.is_empty() {
                    let (w, h) = text_box(&label, SMALL, SMALL_LINE);
                    let badges = super::svg::badges_width(&arrow.badges);
                    let row = if arrow.badges.is_empty() { 0.0 } else { BADGES };
                    (w.max(badges) + PAD, h + 4.0 + row)
                } else {
                    (0.0, 0.0)
                };
                chain.push(self.point(layer, w, h));
            }
            chain.push(to);
            for pair in chain.windows(2) {
                self.nodes[pair[0]].outs.push(pair[1]);
                self.nodes[pair[1]].ins.push(pair[0]);
            }
            self.chains.push(chain);
            self.labels.push(label);
        }
    }

    /// A card's box, unplaced, with room for its badges if `counted`.
    fn card_box(&mut self, canvas: &Canvas, card: usize, counted: bool) -> usize {
        let drawn = &canvas.cards[card];
        let lines = text::wrap_all(&drawn.lines, FONT, CARD_TEXT);
        let (text_w, text_h) = text_box(&lines, FONT, LINE);
        let counted = counted && !drawn.badges.is_empty();
        let badges = if counted {
            super::svg::badges_width(&drawn.badges)
        } else {
            0.0
        };
        let slant = if drawn.kind == CardKind::Condition {
            2.0 * PAD
        } else {
            0.0
        };
        let w = (text_w.max(badges) + 2.0 * PAD + slant).max(MIN_CARD);
        let h = text_h + 2.0 * PAD + if counted { BADGES } else { 0.0 };
        self.boxes.push(Placed {
            shape: Shape::Card(card),
            counted,
            x: 0.0,
            y: 0.0,
            w: w.ceil(),
            h: h.ceil(),
            lines,
        });
        self.boxes.len() - 1
    }

    /// A point where a line crosses `layer`, with room for a label.
    fn point(&mut self, layer: usize, w: f32, h: f32) -> usize {
        self.nodes.push(Node {
            layer,
            w,
            h,
            placed: None,
            order: 0,
            x: 0.0,
            ins: Vec::new(),
            outs: Vec::new(),
        });
        self.nodes.len() - 1
    }

    /// The order within layers: first seen first on a walk from the
    /// trigger, then barycenter sweeps, keeping the order with the fewest
    /// crossings.
    fn order(&mut self) {
        let mut seen = vec![false; self.nodes.len()];
        let mut starts: Vec<usize> = (0..self.nodes.len()).collect();
        starts.sort_by_key(|&node| self.nodes[node].layer);
        for start in starts {
            if seen[start] {
                continue;
            }
            let mut stack = vec![start];
            while let Some(node) = stack.pop() {
                if std::mem::replace(&mut seen[node], true) {
                    continue;
                }
                let layer = self.nodes[node].layer;
                self.nodes[node].order = self.layers[layer].len();
                self.layers[layer].push(node);
                stack.extend(self.nodes[node].outs.iter().rev());
            }
        }
        let mut best = self.layers.clone();
        let mut fewest = self.crossings();
        for round in 0..ROUNDS {
            let down = round % 2 == 0;
            let layers = self.sweep(down);
            for layer in layers {
                self.sort_layer(layer, down);
            }
            let crossings = self.crossings();
            if crossings < fewest {
                fewest = crossings;
                best = self.layers.clone();
            }
        }
        self.layers = best;
        for layer in &self.layers {
            for (order, &node) in layer.iter().enumerate() {
                self.nodes[node].order = order;
            }
        }
    }

    /// The layers a sweep visits: top to bottom from the second (`down`),
    /// or bottom to top from the one before the last.
    fn sweep(&self, down: bool) -> Vec<usize> {
        if down {
            (1..self.layers.len()).collect()
        } else {
            (0..self.layers.len().saturating_sub(1)).rev().collect()
        }
    }

    /// A node's neighbours in the layer above (`down`) or below.
    fn neighbours(&self, node: usize, down: bool) -> &[usize] {
        if down {
            &self.nodes[node].ins
        } else {
            &self.nodes[node].outs
        }
    }

    /// Sorts a layer by the mean position of its neighbours above (`down`)
    /// or below; nodes without any keep their place.
    fn sort_layer(&mut self, layer: usize, down: bool) {
        let mut keyed: Vec<(f32, usize)> = self.layers[layer]
            .iter()
            .map(|&node| {
                let near = self.neighbours(node, down);
                let key = if near.is_empty() {
                    self.nodes[node].order as f32
                } else {
                    near.iter()
                        .map(|&n| self.nodes[n].order as f32)
                        .sum::<f32>()
                        / near.len() as f32
                };
                (key, node)
            })
            .collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (order, &(_, node)) in keyed.iter().enumerate() {
            self.nodes[node].order = order;
        }
        self.layers[layer] = keyed.into_iter().map(|(_, node)| node).collect();
    }

    /// How many pairs of lines cross between neighbouring layers.
    fn crossings(&self) -> u64 {
        let mut total = 0;
        for layer in &self.layers {
            let mut ends: Vec<(usize, usize)> = Vec::new();
            for &node in layer {
                for &next in &self.nodes[node].outs {
                    ends.push((self.nodes[node].order, self.nodes[next].order));
                }
            }
            ends.sort_unstable();
            total += inversions(ends.into_iter().map(|(_, to)| to));
        }
        total
    }

    /// X positions: packed left to right, then moved towards their
    /// neighbours' centres, sweeping down and up.
    fn position(&mut self) {
        for layer in 0..self.layers.len() {
            let targets: Vec<f32> = vec![0.0; self.layers[layer].len()];
            self.place_layer(layer, &targets);
        }
        for round in 0..2 * ROUNDS {
            let down = round % 2 == 0;
            let layers = self.sweep(down);
            for layer in layers {
                let targets: Vec<f32> = self.layers[layer]
                    .iter()
                    .map(|&node| {
                        let near = self.neighbours(node, down);
                        if near.is_empty() {
                            self.nodes[node].x
                        } else {
                            near.iter().map(|&n| self.nodes[n].x).sum::<f32>() / near.len() as f32
                        }
                    })
                    .collect();
                self.place_layer(layer, &targets);
            }
        }
    }

    /// Places a layer's nodes as close to `targets` as their order and
    /// widths allow (least squares; lines weigh more, to stay straight).
    fn place_layer(&mut self, layer: usize, targets: &[f32]) {
        let nodes = &self.layers[layer];
        let mut offsets = Vec::with_capacity(nodes.len());
        let mut offset = 0.0;
        for (index, &node) in nodes.iter().enumerate() {
            if index > 0 {
                let left = &self.nodes[nodes[index - 1]];
                let right = &self.nodes[node];
                let gap = if left.placed.is_none() && right.placed.is_none() {
                    GAP_LINES
                } else {
                    GAP_X
                };
                offset += (left.w + right.w) / 2.0 + gap;
            }
            offsets.push(offset);
        }
        let weights: Vec<f32> = nodes
            .iter()
            .map(|&node| {
                if self.nodes[node].placed.is_none() {
                    4.0
                } else {
                    1.0
                }
            })
            .collect();
        let shifted: Vec<f32> = targets.iter().zip(&offsets).map(|(t, o)| t - o).collect();
        let fitted = isotonic(&shifted, &weights);
        for (index, &node) in nodes.iter().enumerate() {
            self.nodes[node].x = fitted[index] + offsets[index];
        }
    }

    /// Y positions from layer heights; boxes and routes in pixels.
    fn finish(mut self) -> Layout {
        let left = self
            .nodes
            .iter()
            .map(|node| node.x - node.w / 2.0)
            .fold(f32::INFINITY, f32::min);
        let shift = MARGIN - if left.is_finite() { left } else { 0.0 };
        let mut tops = Vec::with_capacity(self.layers.len());
        let mut bends = Vec::with_capacity(self.layers.len());
        let mut y = MARGIN;
        for layer in &self.layers {
            let height = layer
                .iter()
                .map(|&node| self.nodes[node].h)
                .fold(0.0, f32::max);
            tops.push(y);
            bends.push(y + height + GAP_Y);
            y += height + 2.0 * GAP_Y;
        }
        let mut width: f32 = 0.0;
        for node in &mut self.nodes {
            node.x = (node.x + shift).round();
            width = width.max(node.x + node.w / 2.0);
            if let Some(index) = node.placed {
                let placed = &mut self.boxes[index];
                placed.x = node.x - node.w / 2.0;
                placed.y = tops[node.layer];
            }
        }
        let routes = self
            .chains
            .iter()
            .zip(&self.labels)
            .map(|(chain, label)| self.route(chain, label, &tops, &bends))
            .collect();
        Layout {
            width: (width + MARGIN).ceil(),
            height: (y - 2.0 * GAP_Y + MARGIN).ceil().max(2.0 * MARGIN),
            boxes: self.boxes,
            routes,
        }
    }

    /// The corners of an arrow's line: down from its box, across in the
    /// gap above each layer it must pass at a given place (boxes, points
    /// on card layers, its label), into the target's top. Points that only
    /// kept the order of a label layer are not turned at, so lines that
    /// meet at a box join just above it.
    fn route(&self, chain: &[usize], text: &[String], tops: &[f32], bends: &[f32]) -> Route {
        let first = &self.nodes[chain[0]];
        let start = &self.boxes[first.placed.expect("chains start at a box")];
        let mut points = vec![(first.x, start.y + start.h)];
        let mut label = None;
        let mut x = first.x;
        for (index, &node) in chain.iter().enumerate().skip(1) {
            let to = &self.nodes[node];
            let labelled = index == 1 && !text.is_empty();
            let last = index + 1 == chain.len();
            if to.placed.is_none() && to.layer % 2 == 1 && !labelled {
                continue;
            }
            let bend = bends[to.layer - 1];
            points.push((x, bend));
            points.push((to.x, bend));
            x = to.x;
            if last {
                points.push((to.x, tops[to.layer]));
            } else if labelled {
                let layer_height = bends[to.layer] - GAP_Y - tops[to.layer];
                label = Some(Label {
                    x: to.x,
                    y: tops[to.layer] + layer_height / 2.0,
                    w: to.w,
                    h: to.h,
                    lines: text.to_vec(),
                });
            }
        }
        points.dedup();
        Route {
            points: straighten(points),
            label,
        }
    }
}

/// The text of a tag standing for an arrow to `card`.
fn jump_text(canvas: &Canvas, card: usize) -> Vec<String> {
    let target = &canvas.cards[card];
    let name = target
        .lines
        .first()
        .map(|line| line.trim_end_matches(':'))
        .unwrap_or_default();
    text::wrap(&format!("↪ go to {name}"), SMALL, LABEL_TEXT)
}

/// Width and height of wrapped lines.
fn text_box(lines: &[String], size: f32, line: f32) -> (f32, f32) {
    let width = lines
        .iter()
        .map(|l| text::width(l, size))
        .fold(0.0, f32::max);
    (width.ceil(), line * lines.len() as f32)
}
