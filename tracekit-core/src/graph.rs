//! Dependency analysis: from declared inputs to a checked DAG with generations.
//!
//! Everything here is O(V + E) in the number of steps and edges.

use std::collections::{HashMap, HashSet};

use crate::{Error, INPUT, Step, Trace};

/// The longest step name accepted, in bytes.
pub const MAX_STEP_NAME_LEN: usize = 1024;

/// Where one input of a stage comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// The pipeline's input trace.
    Input,
    /// The output of the stage with this index (declaration order).
    Stage(usize),
}

/// Step names in declaration order, with an index for lookups.
#[derive(Debug)]
pub(crate) struct StepNames {
    names: Vec<String>,
    index: HashMap<String, usize>,
}

impl StepNames {
    pub(crate) fn get(&self, i: usize) -> &str {
        &self.names[i]
    }

    pub(crate) fn position(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }
}

/// The checked dependency graph of a pipeline.
#[derive(Debug, Clone)]
pub(crate) struct Graph {
    pub(crate) names: std::sync::Arc<StepNames>,
    /// Resolved inputs of each stage, in declaration order of the inputs.
    pub(crate) inputs: Vec<Vec<Source>>,
    /// For each stage, the distinct stages that read it, ascending.
    pub(crate) readers: Vec<Vec<usize>>,
    /// For each stage, the distinct stages it reads, in order of first mention.
    pub(crate) deps: Vec<Vec<usize>>,
    /// Kahn layers; each in declaration order.
    pub(crate) generations: Vec<Vec<usize>>,
    /// The sequential order: the generations one after another.
    pub(crate) order: Vec<usize>,
    /// Each stage's position in `order`.
    pub(crate) rank: Vec<u32>,
}

/// A name as it appears in messages: at most 64 characters, then an ellipsis.
fn shorten(name: &str) -> String {
    match name.char_indices().nth(64) {
        Some((cut, _)) => format!("{}...", &name[..cut]),
        None => name.to_owned(),
    }
}

/// Checks a step name on its own: the checks that no other step can make
/// pass (empty, the reserved [`INPUT`], longer than [`MAX_STEP_NAME_LEN`],
/// control characters). [`Pipeline::new`](crate::Pipeline::new) makes them
/// for every step; this is for front ends that take steps one at a time.
///
/// ```
/// use tracekit_core::{check_step_name, Error};
///
/// assert!(check_step_name("lowpass").is_ok());
/// assert!(matches!(check_step_name(""), Err(Error::EmptyStepName)));
/// assert!(check_step_name("input").unwrap_err().to_string().contains("reserved"));
/// ```
pub fn check_step_name(name: &str) -> Result<(), Error> {
    let short = || shorten(name);
    if name.is_empty() {
        return Err(Error::EmptyStepName);
    }
    if name == INPUT {
        return Err(Error::ReservedStepName {
            name: name.to_owned(),
        });
    }
    if name.len() > MAX_STEP_NAME_LEN {
        return Err(Error::InvalidStepName {
            name: short(),
            reason: format!(
                "it is {} bytes long; the limit is {MAX_STEP_NAME_LEN}",
                name.len()
            ),
        });
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(Error::InvalidStepName {
            name: short(),
            reason: format!("it contains the control character {c:?}"),
        });
    }
    Ok(())
}

impl Graph {
    pub(crate) fn build(steps: &[Step]) -> Result<Graph, Error> {
        if steps.is_empty() {
            return Err(Error::EmptyPipeline);
        }
        for step in steps {
            check_step_name(&step.name)?;
        }
        let mut index = HashMap::with_capacity(steps.len());
        let mut duplicates = Vec::new();
        let mut reported = HashSet::new();
        for (i, step) in steps.iter().enumerate() {
            if index.insert(step.name.clone(), i).is_some() && reported.insert(step.name.as_str()) {
                duplicates.push(step.name.clone());
            }
        }
        if !duplicates.is_empty() {
            return Err(Error::DuplicateStepNames { names: duplicates });
        }
        let names = StepNames {
            names: steps.iter().map(|s| s.name.clone()).collect(),
            index,
        };

        let n = steps.len();
        let mut inputs = Vec::with_capacity(n);
        for (i, step) in steps.iter().enumerate() {
            let resolved = match &step.inputs {
                None if i == 0 => vec![Source::Input],
                None => vec![Source::Stage(i - 1)],
                Some(declared) => declared
                    .iter()
                    .map(|name| {
                        if name == INPUT {
                            Ok(Source::Input)
                        } else {
                            names.position(name).map(Source::Stage).ok_or_else(|| {
                                Error::UnknownInput {
                                    step: step.name.clone(),
                                    input: shorten(name),
                                }
                            })
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            };
            inputs.push(resolved);
        }

        // Distinct edges: dependency -> reader.
        let mut readers = vec![Vec::new(); n];
        let mut deps = vec![Vec::new(); n];
        let mut seen = vec![usize::MAX; n];
        for (reader, sources) in inputs.iter().enumerate() {
            for source in sources {
                if let Source::Stage(dep) = *source {
                    if seen[dep] != reader {
                        seen[dep] = reader;
                        readers[dep].push(reader);
                        deps[reader].push(dep);
                    }
                }
            }
        }

        // Kahn layers: a stage's generation is one more than its latest dependency's.
        let mut remaining: Vec<u32> = deps.iter().map(|d| d.len() as u32).collect();
        let mut generations = Vec::new();
        let mut layer: Vec<usize> = (0..n).filter(|&i| remaining[i] == 0).collect();
        let mut placed = 0;
        while !layer.is_empty() {
            placed += layer.len();
            let mut next = Vec::new();
            for &s in &layer {
                for &r in &readers[s] {
                    remaining[r] -= 1;
                    if remaining[r] == 0 {
                        next.push(r);
                    }
                }
            }
            next.sort_unstable();
            generations.push(std::mem::replace(&mut layer, next));
        }
        if placed < n {
            return Err(Error::Cycle {
                path: find_cycle(&names, &inputs, &remaining),
            });
        }

        let order: Vec<usize> = generations.concat();
        let mut rank = vec![0; n];
        for (position, &stage) in order.iter().enumerate() {
            rank[stage] = position as u32;
        }
        Ok(Graph {
            names: std::sync::Arc::new(names),
            inputs,
            readers,
            deps,
            generations,
            order,
            rank,
        })
    }
}

impl Graph {
    /// The input traces of stage `i`: the pipeline input, or what `output`
    /// gives for the stages it reads; `None` if one is missing.
    pub(crate) fn gather<'t>(
        &self,
        i: usize,
        input: &'t Trace,
        output: impl Fn(usize) -> Option<&'t Trace>,
    ) -> Option<Vec<&'t Trace>> {
        self.inputs[i]
            .iter()
            .map(|source| match *source {
                Source::Input => Some(input),
                Source::Stage(d) => output(d),
            })
            .collect()
    }
}

/// A cycle among the stages that Kahn's algorithm could not place (those with
/// `remaining > 0`), in data-flow order: `a -> b` means `b` reads `a`.
fn find_cycle(names: &StepNames, inputs: &[Vec<Source>], remaining: &[u32]) -> Vec<String> {
    let stuck = |i: usize| remaining[i] > 0;
    // Every stuck stage reads at least one stuck stage, so walking backwards
    // along such inputs must revisit a stage: that closes a cycle.
    let start = (0..remaining.len())
        .find(|&i| stuck(i))
        .expect("a stuck stage exists");
    let mut visited_at = HashMap::new();
    let mut walk = Vec::new();
    let mut current = start;
    while let std::collections::hash_map::Entry::Vacant(e) = visited_at.entry(current) {
        e.insert(walk.len());
        walk.push(current);
        current = inputs[current]
            .iter()
            .find_map(|s| match *s {
                Source::Stage(d) if stuck(d) => Some(d),
                _ => None,
            })
            .expect("a stuck stage reads a stuck stage");
    }
    let mut cycle: Vec<usize> = walk[visited_at[&current]..].to_vec();
    cycle.reverse(); // walking went reader -> dependency; show data flow
    let lowest = (0..cycle.len()).min_by_key(|&k| cycle[k]).unwrap_or(0);
    cycle.rotate_left(lowest);
    let first = cycle[0];
    cycle.push(first);
    cycle.into_iter().map(|i| names.get(i).to_owned()).collect()
}
