//! A workflow drawn as the canvas users know from workflow builders: the
//! trigger at the top, one box per step, branches side by side, and the
//! waits and channel windows written on the edges that pass through them.
//!
//! [`Canvas::build`] turns the checker's step graph into cards and labelled
//! edges; [`Canvas::identify`] names each card by the step id the runtime
//! counts under, so counts can be shown on it as [`Badge`]s; [`dot`],
//! [`mermaid`] and [`svg`] (laid out by [`layout`]) write it out. The same
//! drawing is used by `flowc graph`, the console and simulation reports.

pub mod dot;
pub mod layout;
pub mod mermaid;
pub mod svg;
pub mod text;

use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use rustc_hash::FxHashMap as HashMap;

use crate::ast::{OptionKind, Step, StepKind, Workflow};
use crate::bytecode::Program;
use crate::graph::{Edge, Node, StepGraph};
use crate::span::Span;

/// Where a trigger's criteria are broken into lines (DOT and Mermaid keep
/// them; the SVG layout wraps by width).
const LINE_CHARS: usize = 48;
/// The longest subject or message shown on a card.
const DETAIL_CHARS: usize = 90;

/// A workflow as cards and arrows.
#[derive(Clone, Debug, PartialEq)]
pub struct Canvas {
    /// The workflow's name.
    pub title: String,
    /// The cards, trigger first.
    pub cards: Vec<Card>,
    /// The arrows between them.
    pub arrows: Vec<Arrow>,
}

/// One card of the canvas: a box with lines of text.
#[derive(Clone, Debug, PartialEq)]
pub struct Card {
    /// What kind of card, for its shape.
    pub kind: CardKind,
    /// Its text, one entry per line.
    pub lines: Vec<String>,
    /// The span of the step it stands for, if it stands for one.
    pub span: Option<Span>,
    /// The id the runtime records the step under (see
    /// [`Canvas::identify`]): its label or structural path, `end` for
    /// leads that completed.
    pub step: Option<String>,
    /// Counts shown under its text.
    pub badges: Vec<Badge>,
    /// Where it leads when clicked (see [`Canvas::link_steps`]).
    pub link: Option<String>,
}

/// A count shown on a card, such as "12 waiting".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Badge {
    /// What it says.
    pub text: String,
    /// Its colour.
    pub tone: Tone,
}

/// What a badge's colour means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// A plain count.
    Plain,
    /// Leads waiting for their time.
    Waiting,
    /// Leads held by a window, a cap or a retry.
    Held,
    /// Leads that failed here.
    Failed,
    /// Leads that reached a goal or the end.
    Done,
}

/// The shapes of cards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardKind {
    /// Where leads enter.
    Trigger,
    /// A step with an effect.
    Action,
    /// A condition: a diamond.
    Condition,
    /// Where leads leave: completed or exited.
    End,
}

/// An arrow from one card to another (indexes into [`Canvas::cards`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Arrow {
    /// Where it starts.
    pub from: usize,
    /// Where it ends.
    pub to: usize,
    /// What it says: branches, outcomes, waits and windows on the way.
    pub label: Vec<String>,
    /// The spans of the steps it passes (waits, gotos).
    pub spans: Vec<Span>,
    /// Their step ids (see [`Canvas::identify`]).
    pub steps: Vec<String>,
    /// Counts shown on its label: the leads waiting on the way.
    pub badges: Vec<Badge>,
    /// Where its label leads when clicked (see [`Canvas::link_steps`]).
    pub link: Option<String>,
}

impl Canvas {
    /// The canvas of a checked workflow; `source` is the file's text.
    pub fn build(workflow: &Workflow, source: &str) -> Canvas {
        let steps = workflow.step_list();
        let graph = StepGraph::build(steps);
        let mut drawing = Drawing {
            workflow,
            source,
            graph: &graph,
            cards: Vec::new(),
            card_of: HashMap::default(),
            arrows: Vec::new(),
        };
        drawing.draw();
        Canvas {
            title: workflow.name.name.clone(),
            cards: drawing.cards,
            arrows: drawing.arrows,
        }
    }

    /// Names each card by the id `program` (compiled from the same
    /// source) records its step under.
    pub fn identify(&mut self, program: &Program) {
        let ids: HashMap<Span, &str> = program
            .origins
            .iter()
            .rev()
            .map(|origin| (origin.span, origin.label.as_str()))
            .collect();
        for arrow in &mut self.arrows {
            arrow.steps = arrow
                .spans
                .iter()
                .filter_map(|span| ids.get(span).map(|id| (*id).to_owned()))
                .collect();
        }
        for card in &mut self.cards {
            card.step = match (card.kind, card.span) {
                (_, Some(span)) => ids.get(&span).map(|id| (*id).to_owned()),
                (CardKind::Trigger, None) => None,
                (_, None) if card.lines[0] == COMPLETED => Some("end".to_owned()),
                _ => None,
            };
        }
    }

    /// Links every card and every arrow label that stands for a step (see
    /// [`Canvas::identify`]) to `url(step id)`.
    pub fn link_steps(&mut self, url: impl Fn(&str) -> String) {
        for card in &mut self.cards {
            card.link = card.step.as_deref().map(&url);
        }
        for arrow in &mut self.arrows {
            arrow.link = arrow.steps.first().map(|step| url(step));
        }
    }

    /// Where the counts of step `id` are shown: its card, with its kind,
    /// or else the first arrow whose label passes it (a wait), with none.
    pub fn badges_of(&mut self, id: &str) -> Option<(Option<CardKind>, &mut Vec<Badge>)> {
        if let Some(card) = self
            .cards
            .iter_mut()
            .find(|card| card.step.as_deref() == Some(id))
        {
            return Some((Some(card.kind), &mut card.badges));
        }
        self.arrows
            .iter_mut()
            .find(|arrow| arrow.steps.iter().any(|step| step == id))
            .map(|arrow| (None, &mut arrow.badges))
    }
}

/// The text of the card where leads complete.
const COMPLETED: &str = "completed";

/// The most lines of steps an arrow's label lists; the rest are counted.
const TRAIL_LINES: usize = 12;

/// An arrow's label so far, and the spans of the steps it passes.
#[derive(Clone, Debug, Default)]
struct Trail {
    lines: Vec<String>,
    spans: Vec<Span>,
    /// Steps passed past [`TRAIL_LINES`].
    more: usize,
}

impl Trail {
    /// Passes the step at `span`, written `text`.
    fn pass(&mut self, text: &str, span: Span) {
        if self.lines.len() < TRAIL_LINES {
            self.lines.push(text.to_owned());
        } else {
            self.more += 1;
        }
        self.spans.push(span);
    }

    /// The arrow from card `from` to card `to` along this trail.
    fn arrow(mut self, from: usize, to: usize) -> Arrow {
        if self.more > 0 {
            let more = format!("… and {} more steps", self.more);
            self.lines.insert(TRAIL_LINES.min(self.lines.len()), more);
        }
        Arrow {
            from,
            to,
            label: self.lines,
            spans: self.spans,
            steps: Vec::new(),
            badges: Vec::new(),
            link: None,
        }
    }
}

struct Drawing<'a> {
    workflow: &'a Workflow,
    source: &'a str,
    graph: &'a StepGraph<'a>,
    cards: Vec<Card>,
    card_of: HashMap<NodeIndex, usize>,
    arrows: Vec<Arrow>,
}

impl<'a> Drawing<'a> {
    /// Boxes for the nodes that are drawn, then one arrow for each way
    /// between two cards, through the nodes that are not.
    fn draw(&mut self) {
        let graph = &self.graph.graph;
        // The trigger, the steps in source order, then where leads leave.
        let mut nodes: Vec<NodeIndex> = graph.node_indices().collect();
        nodes.sort_by_key(|&node| match graph[node] {
            Node::Entry => 0,
            Node::Step(_) | Node::Extracted(_) => 1,
            Node::Completed | Node::Exited => 2,
        });
        let mut drawn = Vec::new();
        for node in nodes {
            if !self.reached(node) {
                continue;
            }
            if let Some(new) = self.card_for(graph[node]) {
                self.card_of.insert(node, self.cards.len());
                drawn.push((node, self.cards.len()));
                self.cards.push(new);
            }
        }
        for (node, from) in drawn {
            if self.cards[from].kind == CardKind::End {
                continue;
            }
            let branches = match graph[node] {
                Node::Step(Step {
                    kind: StepKind::Effect(effect),
                    ..
                }) => !effect.outcomes.is_empty(),
                _ => false,
            };
            // petgraph lists a node's edges newest first.
            let edges: Vec<_> = graph.edges(node).collect();
            for edge in edges.into_iter().rev() {
                let label = match edge.weight() {
                    Edge::Next if branches => vec!["otherwise".to_owned()],
                    weight => edge_label(weight),
                };
                let trail = Trail {
                    lines: label,
                    ..Trail::default()
                };
                self.follow(from, edge.target(), trail);
            }
        }
    }

    /// Walks from `start` through waits, gotos and extractions (which are
    /// written on the arrow, `trail` keeping their text and spans) to each
    /// next box, and draws an arrow there. The walk keeps its own stack, so
    /// a run of any number of waits is followed without recursion.
    fn follow(&mut self, from: usize, start: NodeIndex, trail: Trail) {
        let graph = &self.graph.graph;
        let mut stack = vec![(start, trail, 0)];
        while let Some((node, mut trail, depth)) = stack.pop() {
            if let Some(&to) = self.card_of.get(&node) {
                if let Node::Step(step) = graph[node] {
                    trail.lines.extend(self.window_of(step));
                }
                self.arrows.push(trail.arrow(from, to));
                continue;
            }
            // A loop of waits and gotos alone cannot be checked clean; stop
            // anyway rather than follow it for ever.
            if depth > graph.node_count() {
                continue;
            }
            if let Node::Step(step) = graph[node] {
                trail.pass(first_line(self.text(step.span)), step.span);
            }
            // The last edge first, as the walk always went; the trail moves
            // on to one of them and is copied for the others.
            let next: Vec<NodeIndex> = graph.edges(node).map(|edge| edge.target()).collect();
            let last = next.len().saturating_sub(1);
            for (index, target) in next.into_iter().enumerate() {
                let trail = if index == last {
                    std::mem::take(&mut trail)
                } else {
                    trail.clone()
                };
                stack.push((target, trail, depth + 1));
            }
        }
    }

    /// Whether a node is worth a box: the trigger, and nodes leads reach
    /// (the common "exited" node only through a condition without `else`;
    /// `exit` steps are cards of their own).
    fn reached(&self, node: NodeIndex) -> bool {
        let graph = &self.graph.graph;
        let mut incoming = graph.edges_directed(node, petgraph::Incoming);
        match graph[node] {
            Node::Entry => true,
            Node::Exited => incoming.any(|edge| *edge.weight() == Edge::NoMatch),
            _ => incoming.next().is_some(),
        }
    }

    /// The box of a node, or `None` for nodes drawn on arrows.
    fn card_for(&self, node: Node<'a>) -> Option<Card> {
        let span = match node {
            Node::Step(step) => Some(step.span),
            _ => None,
        };
        let (kind, lines) = match node {
            Node::Entry => (CardKind::Trigger, self.trigger_lines()),
            Node::Completed => (CardKind::End, vec![COMPLETED.to_owned()]),
            Node::Exited => (CardKind::End, vec!["exited: no branch matched".to_owned()]),
            Node::Extracted(_) => return None,
            Node::Step(step) => match &step.kind {
                StepKind::WaitUntilField(wait) if !wait.branches.is_empty() => {
                    (CardKind::Condition, self.step_lines(step))
                }
                StepKind::WaitForEvent(wait) if !wait.branches.is_empty() => {
                    (CardKind::Condition, self.step_lines(step))
                }
                StepKind::Wait(_)
                | StepKind::WaitUntil(_)
                | StepKind::WaitUntilField(_)
                | StepKind::WaitForEvent(_)
                | StepKind::WaitBusinessDays(_)
                | StepKind::Goto(_) => return None,
                StepKind::Condition(_) | StepKind::Split(_) => {
                    (CardKind::Condition, self.step_lines(step))
                }
                StepKind::Exit(_) => (CardKind::End, self.step_lines(step)),
                StepKind::Effect(_) => (CardKind::Action, self.step_lines(step)),
            },
        };
        Some(Card {
            kind,
            lines,
            span,
            step: None,
            badges: Vec::new(),
            link: None,
        })
    }

    fn trigger_lines(&self) -> Vec<String> {
        let mut lines = vec![format!("workflow {}", self.workflow.name.name)];
        for trigger in &self.workflow.triggers {
            lines.extend(wrap(self.text(trigger.span)));
        }
        lines
    }

    /// A step's first line, its label and its subject or message.
    fn step_lines(&self, step: &Step) -> Vec<String> {
        let mut lines = Vec::new();
        if let Some(label) = &step.label {
            lines.push(format!("{}:", label.name));
        }
        lines.push(first_line(self.text(step.span)).to_owned());
        if let StepKind::Effect(effect) = &step.kind {
            let detail = effect.options.iter().find_map(|option| match &option.kind {
                OptionKind::Subject(text) | OptionKind::Message(text) => Some(text.span),
                OptionKind::Agent(agent) => Some(agent.span),
                _ => None,
            });
            if let Some(span) = detail {
                lines.push(short(self.text(span), DETAIL_CHARS));
            }
        }
        lines
    }

    /// The window an arrow into a channel step passes, as the file writes it.
    fn window_of(&self, step: &Step) -> Option<String> {
        let StepKind::Effect(effect) = &step.kind else {
            return None;
        };
        let channel = effect.action.channel()?;
        let window = self
            .workflow
            .windows
            .iter()
            .find(|window| window.channel.node == channel)?;
        Some(format!("window: {}", first_line(self.text(window.span))))
    }

    fn text(&self, span: crate::span::Span) -> &'a str {
        self.source.get(span.range()).unwrap_or_default().trim()
    }
}

/// What an edge of the step graph says on its arrow.
fn edge_label(edge: &Edge) -> Vec<String> {
    match edge {
        Edge::Next => Vec::new(),
        Edge::Outcome(outcome) => vec![format!("on {}", outcome.keyword())],
        Edge::Branch(name) => vec![name.clone()],
        Edge::Else => vec!["else".to_owned()],
        Edge::Case(title) => vec![title.clone()],
        Edge::Variant(name, percent) => vec![format!("{name} {percent}%")],
        Edge::NoMatch => vec!["no branch matched".to_owned()],
        Edge::Goto => Vec::new(),
    }
}

/// Text on as many lines as it takes to fit a box.
fn wrap(text: &str) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("there is always a line");
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > LINE_CHARS {
            lines.push(word.to_owned());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

/// The first line of a text, in full.
fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default().trim()
}

/// The first line of a text, shortened to `most` characters.
fn short(text: &str, most: usize) -> String {
    let line = first_line(text);
    if line.chars().count() <= most {
        return line.to_owned();
    }
    let cut: String = line.chars().take(most - 1).collect();
    format!("{cut}…")
}
