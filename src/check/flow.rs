//! Checks on the step graph: reachability, loops that never wait, extracted
//! fields used before they exist, and the warnings about lead flow.

use std::collections::VecDeque;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use miette::LabeledSpan;
use petgraph::algo::dominators::{simple_fast, Dominators};
use petgraph::graph::NodeIndex;
use petgraph::visit::{Dfs, EdgeRef, NodeFiltered};

use super::{CheckError, Checker, FieldOrigin};
use crate::ast::*;
use crate::graph::{Node, StepGraph};
use crate::span::Span;

impl<'a> Checker<'a> {
    pub(super) fn flow(&mut self) {
        let graph = StepGraph::build(self.steps());
        let reachable = reachable(&graph);
        self.unreachable(&graph, &reachable);
        self.loops(&graph);
        self.extracted_before_use(&graph, &reachable);
        self.lead_flow_warnings(&graph, &reachable);
    }

    /// Reports the first step of every run of steps no lead can reach.
    fn unreachable(&mut self, graph: &StepGraph<'a>, reachable: &[bool]) {
        for entry in &graph.steps {
            let Some(previous) = entry.previous else {
                continue;
            };
            let previous_reached = graph
                .node(previous)
                .is_some_and(|node| reachable[node.index()]);
            if !reachable[entry.node.index()] && previous_reached {
                self.report(CheckError::UnreachableStep {
                    span: entry.step.span,
                    after: Some(previous.span),
                });
            }
        }
    }

    /// Reports every loop of steps that contains no `wait` or `wait until`.
    fn loops(&mut self, graph: &StepGraph<'a>) {
        let instant = NodeFiltered::from_fn(&graph.graph, |node| {
            !matches!(
                graph.graph[node],
                Node::Step(Step {
                    kind: StepKind::Wait(_)
                        | StepKind::WaitUntil(_)
                        | StepKind::WaitForEvent(_)
                        | StepKind::WaitBusinessDays(_),
                    ..
                })
            )
        });
        // Kosaraju's walk keeps its own stack: a path of any length is checked
        // without overflowing the thread's.
        for component in petgraph::algo::kosaraju_scc(&instant) {
            let looping = component.len() > 1
                || component
                    .iter()
                    .any(|&node| graph.graph.edges(node).any(|edge| edge.target() == node));
            if !looping {
                continue;
            }
            let mut steps: Vec<&Step> = component
                .iter()
                .filter_map(|&node| match graph.graph[node] {
                    Node::Step(step) => Some(step),
                    _ => None,
                })
                .collect();
            steps.sort_by_key(|step| step.span);
            let closing = steps
                .iter()
                .rev()
                .find(|step| matches!(step.kind, StepKind::Goto(_)))
                .or(steps.last())
                .map_or_else(Span::default, |step| step.span);
            let others = steps
                .iter()
                .filter(|step| step.span != closing)
                .map(|step| LabeledSpan::new_with_span(Some("in the loop".to_owned()), step.span))
                .collect();
            self.report(CheckError::LoopWithoutWait {
                span: closing,
                steps: others,
            });
        }
    }

    /// Every use of an extracted field must come after its extraction on
    /// every path: the extraction dominates the use.
    fn extracted_before_use(&mut self, graph: &StepGraph<'a>, reachable: &[bool]) {
        if self.extracted_uses.is_empty() {
            return;
        }
        let producers = producers(graph);
        let dominators = DominatorTree::new(
            &simple_fast(&graph.graph, graph.entry),
            graph.graph.node_count(),
        );
        let mut unproduced: HashMap<String, Vec<bool>> = HashMap::default();
        for used in std::mem::take(&mut self.extracted_uses) {
            let Some(node) = graph.node(used.step) else {
                continue;
            };
            if !reachable[node.index()] {
                continue;
            }
            let Some(sources) = producers.get(used.name.as_str()) else {
                continue;
            };
            let produced = match sources.as_slice() {
                [only] => dominators.dominates(*only, node),
                many => {
                    let avoided = unproduced
                        .entry(used.name.clone())
                        .or_insert_with(|| reachable_avoiding(graph, many));
                    !avoided[node.index()]
                }
            };
            if !produced {
                let spans = match self.scope.field(&used.name).map(|info| &info.origin) {
                    Some(FieldOrigin::Extracted(spans)) => spans.clone(),
                    _ => Vec::new(),
                };
                self.report(CheckError::NotYetExtracted {
                    name: used.name.clone(),
                    span: used.span,
                    producers: spans
                        .into_iter()
                        .map(|span| LabeledSpan::new_with_span(Some("extracted here".to_owned()), span))
                        .collect(),
                    help: format!(
                        "some leads reach this step without passing the step that extracts `{}` (it comes later, is on another branch, or failed); use the field only after that step",
                        used.name
                    ),
                });
            }
        }
    }

    /// W0001 conditions without `else`, W0002 fields the trigger does not
    /// guarantee, W0004 steps whose window never opens.
    fn lead_flow_warnings(&mut self, graph: &StepGraph<'a>, reachable: &[bool]) {
        let guaranteed = self.guaranteed_by_trigger();
        for entry in &graph.steps {
            if !reachable[entry.node.index()] {
                continue;
            }
            match &entry.step.kind {
                StepKind::Condition(condition) => {
                    let has_else = condition.arms.iter().any(|arm| arm.test == ArmTest::Else);
                    if !has_else && !presence_pair(condition) {
                        self.report(CheckError::ConditionWithoutElse {
                            span: entry.step.span,
                        });
                    }
                    // With an `else`, a lead without the field falls to it.
                    if !has_else {
                        self.unguaranteed_fields(condition, &guaranteed);
                    }
                }
                StepKind::Effect(effect) => {
                    let window = effect.action.channel().and_then(|channel| {
                        self.workflow
                            .windows
                            .iter()
                            .find(|window| window.channel.node == channel)
                    });
                    if let Some(window) = window.filter(|window| super::time::never_opens(window)) {
                        self.report(CheckError::WindowNeverOpens {
                            channel: window.channel.node.keyword(),
                            span: entry.step.span,
                            window: window.span,
                        });
                    }
                }
                _ => {}
            }
        }
    }

    /// Fields every lead that enters has: those the trigger's criteria
    /// cannot be true without.
    fn guaranteed_by_trigger(&self) -> HashSet<&'a str> {
        match self.workflow.triggers.first().map(|trigger| &trigger.kind) {
            Some(
                Watch::Criteria(expr)
                | Watch::Event {
                    criteria: Some(expr),
                    ..
                },
            ) => present_if_true(expr),
            _ => HashSet::default(),
        }
    }

    fn unguaranteed_fields(&mut self, condition: &'a Condition, guaranteed: &HashSet<&'a str>) {
        let mut tested_presence = HashSet::default();
        let mut comparisons = Vec::new();
        for arm in &condition.arms {
            let ArmTest::When { name, criteria } = &arm.test else {
                continue;
            };
            for comparison in comparisons_of(criteria) {
                if matches!(comparison.test, Test::IsSet | Test::IsNotSet) {
                    tested_presence.insert(comparison.field.name.as_str());
                } else {
                    let fields = std::iter::once(&comparison.field).chain(comparison.test.fields());
                    comparisons.extend(fields.map(|field| (name, field, comparison.span)));
                }
            }
        }
        let mut warned = HashSet::default();
        for (branch, field, span) in comparisons {
            let optional = !field.event
                && self
                    .scope
                    .field(&field.name)
                    .is_some_and(|info| info.ty.optional);
            if !optional
                || guaranteed.contains(field.name.as_str())
                || tested_presence.contains(field.name.as_str())
                || !warned.insert(field.name.as_str())
            {
                continue;
            }
            let extracted = self
                .scope
                .field(&field.name)
                .is_some_and(|info| matches!(info.origin, FieldOrigin::Extracted(_)));
            let help = if extracted {
                format!(
                    "it is an optional extraction: test `{0} is set` (or `{0} is not set or ...`) in the branch, or handle leads without it first: `branch no-{0} when {0} is not set`",
                    field.name
                )
            } else {
                format!(
                    "add `{0} is set` to the trigger, or handle leads without it first: `branch no-{0} when {0} is not set`",
                    field.name
                )
            };
            self.report(CheckError::FieldNotGuaranteed {
                field: field.name.clone(),
                branch: branch.name.clone(),
                span,
                help,
            });
        }
    }
}

/// Which nodes leads can reach from the entry.
fn reachable(graph: &StepGraph<'_>) -> Vec<bool> {
    let mut seen = vec![false; graph.graph.node_count()];
    let mut dfs = Dfs::new(&graph.graph, graph.entry);
    while let Some(node) = dfs.next(&graph.graph) {
        seen[node.index()] = true;
    }
    seen
}

/// Which nodes leads can reach without passing any of `avoid`.
fn reachable_avoiding(graph: &StepGraph<'_>, avoid: &[NodeIndex]) -> Vec<bool> {
    let mut seen = vec![false; graph.graph.node_count()];
    let mut queue = VecDeque::from([graph.entry]);
    seen[graph.entry.index()] = true;
    while let Some(node) = queue.pop_front() {
        for next in graph.graph.neighbors(node) {
            if !seen[next.index()] && !avoid.contains(&next) {
                seen[next.index()] = true;
                queue.push_back(next);
            }
        }
    }
    seen
}

/// For each extracted field, the nodes where its extraction has succeeded.
fn producers<'a>(graph: &StepGraph<'a>) -> HashMap<&'a str, Vec<NodeIndex>> {
    let mut producers: HashMap<&str, Vec<NodeIndex>> = HashMap::default();
    for entry in &graph.steps {
        let (StepKind::Effect(effect), Some(&done)) =
            (&entry.step.kind, graph.extracted.get(&entry.node))
        else {
            continue;
        };
        for option in &effect.options {
            if let OptionKind::Extract(extractions) = &option.kind {
                for extraction in extractions {
                    producers
                        .entry(extraction.name.name.as_str())
                        .or_default()
                        .push(done);
                }
            }
        }
    }
    producers
}

/// The dominator tree numbered in pre- and post-order, for constant-time
/// "does A dominate B" questions.
struct DominatorTree {
    pre: Vec<usize>,
    post: Vec<usize>,
}

impl DominatorTree {
    fn new(dominators: &Dominators<NodeIndex>, count: usize) -> Self {
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); count];
        for node in 0..count {
            if let Some(parent) = dominators.immediate_dominator(NodeIndex::new(node)) {
                children[parent.index()].push(node);
            }
        }
        let root = dominators.root().index();
        let mut pre = vec![usize::MAX; count];
        let mut post = vec![0; count];
        let mut clock = 0;
        let mut stack = vec![(root, false)];
        while let Some((node, done)) = stack.pop() {
            if done {
                post[node] = clock;
                clock += 1;
                continue;
            }
            pre[node] = clock;
            clock += 1;
            stack.push((node, true));
            stack.extend(children[node].iter().map(|&child| (child, false)));
        }
        DominatorTree { pre, post }
    }

    /// Whether every path from the entry to `b` passes `a`.
    fn dominates(&self, a: NodeIndex, b: NodeIndex) -> bool {
        let (a, b) = (a.index(), b.index());
        self.pre[a] != usize::MAX
            && self.pre[b] != usize::MAX
            && self.pre[a] <= self.pre[b]
            && self.post[b] <= self.post[a]
    }
}

/// Fields that must be present for `expr` to be true (a missing value
/// makes every comparison false, except `is not set`).
fn present_if_true(expr: &Expr) -> HashSet<&str> {
    match expr {
        Expr::Compare(comparison) if comparison.test != Test::IsNotSet => {
            std::iter::once(&comparison.field)
                .chain(comparison.test.fields())
                .filter(|field| !field.event)
                .map(|field| field.name.as_str())
                .collect()
        }
        Expr::Compare(_) | Expr::Not(..) | Expr::WindowOpen { .. } => HashSet::default(),
        Expr::Logic {
            op: LogicOp::And,
            operands,
            ..
        } => operands.iter().flat_map(present_if_true).collect(),
        Expr::Logic {
            op: LogicOp::Or,
            operands,
            ..
        } => {
            let mut sets = operands.iter().map(present_if_true);
            let first = sets.next().unwrap_or_default();
            sets.fold(first, |common, set| {
                common.intersection(&set).copied().collect()
            })
        }
    }
}

/// Whether two branches are `F is set` and `F is not set` alone: every
/// lead matches one of them, so the condition needs no `else`.
fn presence_pair(condition: &Condition) -> bool {
    let tests: Vec<(&FieldRef, &Test)> = condition
        .arms
        .iter()
        .filter_map(|arm| match &arm.test {
            ArmTest::When {
                criteria: Expr::Compare(comparison),
                ..
            } => Some((&comparison.field, &comparison.test)),
            _ => None,
        })
        .collect();
    tests.iter().any(|(field, test)| {
        **test == Test::IsSet
            && tests
                .iter()
                .any(|(other, test)| same_field(other, field) && **test == Test::IsNotSet)
    })
}

/// Whether two references name one field (wherever they are written).
fn same_field(a: &FieldRef, b: &FieldRef) -> bool {
    a.name == b.name && a.event == b.event
}

/// Every comparison in an expression.
fn comparisons_of(expr: &Expr) -> Vec<&Comparison> {
    match expr {
        Expr::Compare(comparison) => vec![comparison],
        Expr::Not(inner, _) => comparisons_of(inner),
        Expr::Logic { operands, .. } => operands.iter().flat_map(comparisons_of).collect(),
        Expr::WindowOpen { .. } => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use crate::check::check_source;

    /// The codes `check` reports for a workflow with these steps.
    fn codes(steps: &str) -> Vec<String> {
        let source = format!(
            "workflow demo\n  fields\n    plan optional text\n  trigger when email is set\n  steps\n{steps}"
        );
        check_source(&source, None, None)
            .iter()
            .map(|diagnostic| diagnostic.code())
            .collect()
    }

    #[test]
    fn an_exhaustive_presence_pair_needs_no_else() {
        let pair = "    condition\n      branch has when plan is set\n        wait 1 day\n      branch lacks when plan is not set\n        wait 2 days\n    end\n";
        assert_eq!(codes(pair), Vec::<String>::new());
        let one = "    condition\n      branch has when plan is set\n        wait 1 day\n    end\n";
        assert_eq!(codes(one), ["W0001"]);
    }

    #[test]
    fn a_bounded_loop_must_still_wait_and_may_go_on() {
        let instant = "    label top\n    goto top up to 3 times\n";
        assert_eq!(codes(instant), ["E0502"]);
        // Past its limit the lead reaches the next step: it is reachable.
        let waiting = "    label top\n    wait 1 day\n    goto top up to 3 times\n    exit\n";
        assert_eq!(codes(waiting), Vec::<String>::new());
        let unbounded = "    label top\n    wait 1 day\n    goto top\n    exit\n";
        assert_eq!(codes(unbounded), ["E0501"]);
    }

    #[test]
    fn an_else_catches_leads_without_the_field() {
        let with_else = "    condition\n      branch pro when plan is \"pro\"\n        wait 1 day\n      else\n        wait 2 days\n    end\n";
        assert_eq!(codes(with_else), Vec::<String>::new());
        let without =
            "    condition\n      branch pro when plan is \"pro\"\n        wait 1 day\n    end\n";
        assert_eq!(codes(without), ["W0001", "W0002"]);
    }
}
