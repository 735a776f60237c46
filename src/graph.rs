//! The step graph: a workflow's steps as nodes, the ways a lead can move
//! between them as edges. The checker proves reachability, loop and
//! data-flow rules on it.

use rustc_hash::FxHashMap as HashMap;

use petgraph::graph::{DiGraph, NodeIndex};

use crate::ast::{ArmTest, EventCase, Outcome, Step, StepKind};

/// A node of the step graph.
#[derive(Clone, Copy, Debug)]
pub enum Node<'a> {
    /// Where leads enter.
    Entry,
    /// A step.
    Step(&'a Step),
    /// The moment an http or prompt step's extractions succeeded.
    Extracted(&'a Step),
    /// Leads that ran past the last step.
    Completed,
    /// Leads that left through `exit` or a condition no branch matched.
    Exited,
}

/// How a lead moves along an edge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edge {
    /// To the next step.
    Next,
    /// A call outcome or `on error`.
    Outcome(Outcome),
    /// A condition branch, by name.
    Branch(String),
    /// A condition's `else`.
    Else,
    /// A block of a wait: `if missing`, `if past`, `on event`, `on timeout`.
    Case(String),
    /// A split's variant, by name and share in percent.
    Variant(String, u32),
    /// No branch matched and there is no `else`.
    NoMatch,
    /// A `goto`.
    Goto,
}

/// The lowered workflow.
#[derive(Debug)]
pub struct StepGraph<'a> {
    /// Nodes and edges.
    pub graph: DiGraph<Node<'a>, Edge>,
    /// The entry node.
    pub entry: NodeIndex,
    /// Every step with its node, in source order.
    pub steps: Vec<StepNode<'a>>,
    /// The node where each step's extractions are done, by step node.
    pub extracted: HashMap<NodeIndex, NodeIndex>,
    /// The node of each step, by the step's address.
    nodes: HashMap<*const Step, NodeIndex>,
}

/// A step, its node, and its place among its siblings.
#[derive(Clone, Copy, Debug)]
pub struct StepNode<'a> {
    /// The step.
    pub step: &'a Step,
    /// Its node.
    pub node: NodeIndex,
    /// The step before it in the same block.
    pub previous: Option<&'a Step>,
}

impl<'a> StepGraph<'a> {
    /// Lowers a list of steps; `goto` to an unknown label adds no edge (the
    /// checker reports it).
    pub fn build(steps: &'a [Step]) -> Self {
        let mut graph = DiGraph::new();
        let entry = graph.add_node(Node::Entry);
        let completed = graph.add_node(Node::Completed);
        let exited = graph.add_node(Node::Exited);
        let mut lowering = Lowering {
            graph,
            nodes: HashMap::default(),
            labels: HashMap::default(),
            steps: Vec::new(),
            extracted: HashMap::default(),
            exited,
        };
        lowering.add_nodes(steps);
        let first = lowering.connect_block(steps, completed);
        lowering.graph.add_edge(entry, first, Edge::Next);
        StepGraph {
            graph: lowering.graph,
            entry,
            steps: lowering.steps,
            extracted: lowering.extracted,
            nodes: lowering.nodes,
        }
    }

    /// The node of a step of this graph.
    pub fn node(&self, step: &Step) -> Option<NodeIndex> {
        self.nodes.get(&(step as *const Step)).copied()
    }
}

struct Lowering<'a> {
    graph: DiGraph<Node<'a>, Edge>,
    nodes: HashMap<*const Step, NodeIndex>,
    labels: HashMap<&'a str, NodeIndex>,
    steps: Vec<StepNode<'a>>,
    extracted: HashMap<NodeIndex, NodeIndex>,
    exited: NodeIndex,
}

impl<'a> Lowering<'a> {
    /// Adds a node for every step, in source order.
    fn add_nodes(&mut self, steps: &'a [Step]) {
        let mut previous = None;
        for step in steps {
            let node = self.graph.add_node(Node::Step(step));
            self.nodes.insert(step, node);
            if let Some(label) = &step.label {
                self.labels.entry(&label.name).or_insert(node);
            }
            self.steps.push(StepNode {
                step,
                node,
                previous,
            });
            if produces_fields(step) {
                let done = self.graph.add_node(Node::Extracted(step));
                self.extracted.insert(node, done);
            }
            for block in inner_blocks(step) {
                self.add_nodes(block);
            }
            previous = Some(step);
        }
    }

    /// Connects a block whose last step continues to `next`; returns the
    /// block's first node (or `next` when it is empty).
    fn connect_block(&mut self, steps: &'a [Step], next: NodeIndex) -> NodeIndex {
        let mut following = next;
        for step in steps.iter().rev() {
            let node = self.nodes[&(step as *const Step)];
            self.connect_step(step, node, following);
            following = node;
        }
        following
    }

    fn connect_step(&mut self, step: &'a Step, node: NodeIndex, next: NodeIndex) {
        match &step.kind {
            StepKind::Wait(_) | StepKind::WaitUntil(_) | StepKind::WaitBusinessDays(_) => {
                self.graph.add_edge(node, next, Edge::Next);
            }
            StepKind::Exit(_) => {
                self.graph.add_edge(node, self.exited, Edge::Next);
            }
            StepKind::Goto(goto) => {
                if let Some(&target) = self.labels.get(goto.label.name.as_str()) {
                    self.graph.add_edge(node, target, Edge::Goto);
                }
                // Past its limit, a bounded goto goes on.
                if goto.limit.is_some() {
                    self.graph.add_edge(node, next, Edge::Next);
                }
            }
            StepKind::Condition(condition) => {
                let mut has_else = false;
                for arm in &condition.arms {
                    let first = self.connect_block(&arm.steps, next);
                    let edge = match &arm.test {
                        ArmTest::When { name, .. } => Edge::Branch(name.name.clone()),
                        ArmTest::Else => {
                            has_else = true;
                            Edge::Else
                        }
                    };
                    self.graph.add_edge(node, first, edge);
                }
                if !has_else {
                    self.graph.add_edge(node, self.exited, Edge::NoMatch);
                }
            }
            StepKind::WaitUntilField(wait) => {
                self.graph.add_edge(node, next, Edge::Next);
                for branch in &wait.branches {
                    let first = self.connect_block(&branch.steps, next);
                    let edge = Edge::Case(format!("if {}", branch.case.node.keyword()));
                    self.graph.add_edge(node, first, edge);
                }
            }
            StepKind::WaitForEvent(wait) => {
                for case in [EventCase::Event, EventCase::Timeout] {
                    let branch = wait.branches.iter().find(|branch| branch.case.node == case);
                    match branch {
                        Some(branch) => {
                            let first = self.connect_block(&branch.steps, next);
                            let edge = Edge::Case(format!("on {}", case.keyword()));
                            self.graph.add_edge(node, first, edge);
                        }
                        None => {
                            self.graph.add_edge(node, next, Edge::Next);
                        }
                    }
                }
            }
            StepKind::Split(split) => {
                for variant in &split.variants {
                    let first = self.connect_block(&variant.steps, next);
                    let edge = Edge::Variant(variant.name.name.clone(), variant.percent.node);
                    self.graph.add_edge(node, first, edge);
                }
            }
            StepKind::Effect(effect) => {
                let success = match self.extracted.get(&node) {
                    Some(&done) => {
                        self.graph.add_edge(done, next, Edge::Next);
                        done
                    }
                    None => next,
                };
                let handled = |outcome| {
                    effect
                        .outcomes
                        .iter()
                        .any(|branch| branch.outcome.node == outcome)
                };
                let handles_every_outcome = CALL_OUTCOMES.iter().all(|outcome| handled(*outcome));
                if !handles_every_outcome {
                    self.graph.add_edge(node, success, Edge::Next);
                }
                for branch in &effect.outcomes {
                    let target = if matches!(branch.outcome.node, Outcome::Failed | Outcome::Error)
                    {
                        next
                    } else {
                        success
                    };
                    let first = self.connect_block(&branch.steps, target);
                    self.graph
                        .add_edge(node, first, Edge::Outcome(branch.outcome.node));
                }
            }
        }
    }
}

/// The outcomes of a call; a call that branches on all of them never goes
/// straight on to the next step.
const CALL_OUTCOMES: [Outcome; 4] = [
    Outcome::Answered,
    Outcome::Voicemail,
    Outcome::NoAnswer,
    Outcome::Failed,
];

/// Whether a step extracts fields (an http or prompt step with `extract`).
pub fn produces_fields(step: &Step) -> bool {
    match &step.kind {
        StepKind::Effect(effect) => effect
            .options
            .iter()
            .any(|option| matches!(option.kind, crate::ast::OptionKind::Extract(_))),
        _ => false,
    }
}

/// The nested step lists of a step: condition arms, split variants and
/// outcome branches.
pub fn inner_blocks(step: &Step) -> Vec<&[Step]> {
    step.blocks().into_iter().map(|block| block.steps).collect()
}
