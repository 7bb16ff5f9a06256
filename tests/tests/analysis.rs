//! Property 3: the dependency analysis, against a reference on random wirings.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use tracekit_conformance::{Op, TestStage};
use tracekit_core::{Error, INPUT, Pipeline, Step};

/// A random wiring: step `i` reads the listed names (any step, or the input).
fn wiring() -> impl Strategy<Value = Vec<Vec<Option<usize>>>> {
    (1usize..25).prop_flat_map(|n| {
        proptest::collection::vec(
            proptest::collection::vec(proptest::option::weighted(0.85, 0..n), 1..4),
            n,
        )
    })
}

fn build(wiring: &[Vec<Option<usize>>]) -> Result<Pipeline, Error> {
    Pipeline::new(wiring.iter().enumerate().map(|(i, ins)| {
        let names: Vec<String> = ins
            .iter()
            .map(|s| s.map_or_else(|| INPUT.to_string(), |j| format!("n{j}")))
            .collect();
        Step::new(
            format!("n{i}"),
            TestStage {
                op: Op::Sum,
                k: 0.0,
            },
        )
        .inputs(names)
    }))
}

/// Reference: the generation of each node (longest path from a source), or None on a cycle.
fn reference_generations(wiring: &[Vec<Option<usize>>]) -> Option<Vec<usize>> {
    let n = wiring.len();
    let mut generation = vec![None; n];
    // Bellman-Ford style relaxation; more than n rounds means a cycle.
    for _ in 0..=n {
        let mut changed = false;
        for i in 0..n {
            let g = wiring[i]
                .iter()
                .flatten()
                .map(|&d| generation[d].map(|g: usize| g + 1))
                .try_fold(0usize, |acc, g| g.map(|g| acc.max(g)));
            if g.is_some() && g != generation[i] {
                generation[i] = g;
                changed = true;
            }
        }
        if !changed {
            return generation.into_iter().collect();
        }
    }
    None
}

proptest! {
    #[test]
    fn analysis_matches_reference(w in wiring()) {
        let reference = reference_generations(&w);
        match (build(&w), reference) {
            (Ok(p), Some(generation)) => {
                let order = p.get_execution_order();
                // Generations partition the steps.
                let flat: Vec<&String> = order.iter().flatten().collect();
                prop_assert_eq!(flat.len(), w.len());
                prop_assert_eq!(flat.iter().collect::<BTreeSet<_>>().len(), w.len());
                for (g, layer) in order.iter().enumerate() {
                    // Declaration order within a generation.
                    let idx: Vec<usize> = layer.iter().map(|s| s[1..].parse().unwrap()).collect();
                    prop_assert!(idx.windows(2).all(|p| p[0] < p[1]));
                    for i in idx {
                        // Earliest allowed generation = longest path, and inputs strictly earlier.
                        prop_assert_eq!(generation[i], g);
                        for d in w[i].iter().flatten() {
                            prop_assert!(generation[*d] < g);
                        }
                    }
                }
                // The dependency graph lists exactly the distinct step inputs.
                let graph = p.get_dependency_graph();
                for (i, ins) in w.iter().enumerate() {
                    let expect: BTreeSet<String> = ins.iter().flatten().map(|j| format!("n{j}")).collect();
                    let got: BTreeSet<String> = graph[&format!("n{i}")].iter().cloned().collect();
                    prop_assert_eq!(got, expect);
                }
            }
            (Err(Error::Cycle { path }), None) => {
                // The reported cycle exists: each step reads the one before it.
                prop_assert!(path.len() >= 2);
                prop_assert_eq!(path.first(), path.last());
                let reads: BTreeMap<String, BTreeSet<String>> = w
                    .iter()
                    .enumerate()
                    .map(|(i, ins)| (format!("n{i}"), ins.iter().flatten().map(|j| format!("n{j}")).collect()))
                    .collect();
                for pair in path.windows(2) {
                    prop_assert!(reads[&pair[1]].contains(&pair[0]), "{} does not read {}", pair[1], pair[0]);
                }
                let message = Error::Cycle { path: path.clone() }.to_string();
                prop_assert!(message.starts_with("Circular dependency detected in pipeline: "));
            }
            (got, expected) => {
                prop_assert!(false, "analysis gave {:?}, reference acyclic = {}", got.map(|_| ()), expected.is_some());
            }
        }
    }
}
