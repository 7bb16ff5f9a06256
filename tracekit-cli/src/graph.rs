//! `tracekit graph`: a spec file's dependency graph and generations, as a
//! table or as Graphviz DOT.

use std::{fmt::Write as _, path::PathBuf};

use clap::Args;
use tracekit::{INPUT, ParallelPipeline, Pipeline, spec};

use crate::{
    failure::Failure,
    plot::{self, PlotFormat},
    table::{Align, Table},
};

const EXAMPLES: &str = "\
Examples:
  tracekit graph fanout.toml              steps, kinds, inputs and generations
  tracekit graph fanout.toml --dot | dot -Tsvg -o fanout.svg
  tracekit graph fanout.toml --svg fanout.svg   the same picture without Graphviz
  tracekit demo --spec > demo.toml && tracekit graph demo.toml

Exit status: 0 on success; 2 when the spec cannot be read or is not a valid
pipeline (unknown kind or parameter, unknown input, cycle...).";

/// Arguments of `tracekit graph`.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct GraphArgs {
    /// Pipeline spec file (TOML, or JSON with the same structure).
    #[arg(value_name = "SPEC")]
    spec: PathBuf,
    /// Print Graphviz DOT instead of a table (render with `dot -Tsvg`).
    #[arg(long)]
    dot: bool,
    /// Also draw the graph, generations as columns, into FILE (.svg or .png);
    /// no Graphviz needed.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
}

/// Runs `tracekit graph`.
pub(crate) fn run(args: &GraphArgs) -> Result<(), Failure> {
    let pipeline = load(&args.spec)?;
    if let Some(path) = &args.svg {
        let format = match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("png") => PlotFormat::Png,
            _ => PlotFormat::Svg,
        };
        plot::write_graph(path, format, pipeline.as_pipeline())
            .map_err(|e| Failure::Failed(e.to_string()))?;
    }
    if args.dot {
        out!("{}", pipeline.to_dot());
        return Ok(());
    }
    let workers = match pipeline.max_workers() {
        Some(n) => n.to_string(),
        None => "auto".to_owned(),
    };
    outln!(
        "{}: {} steps, output '{}', executor {} (workers {workers})",
        args.spec.display(),
        pipeline.len(),
        pipeline.output_step(),
        pipeline.executor_type(),
    );
    outln!();
    out!("{}", describe(pipeline.as_pipeline(), true));
    Ok(())
}

/// Loads a spec file; any error is a configuration error (exit status 2).
pub(crate) fn load(path: &std::path::Path) -> Result<ParallelPipeline, Failure> {
    spec::load_file(path).map_err(|e| Failure::Usage(e.to_string()))
}

/// What each step reads: its declared inputs, or the previous step (the
/// input for the first step).
pub(crate) fn reads(pipeline: &Pipeline) -> Vec<Vec<String>> {
    let steps = pipeline.steps();
    steps
        .iter()
        .enumerate()
        .map(|(k, step)| match step.declared_inputs() {
            Some(inputs) => inputs.to_vec(),
            None if k == 0 => vec![INPUT.to_owned()],
            None => vec![steps[k - 1].name().to_owned()],
        })
        .collect()
}

/// The "Steps" and "Generations" sections: each step with its kind and what
/// it reads (and its parameters when `params`), then the Kahn generations.
pub(crate) fn describe(pipeline: &Pipeline, params: bool) -> String {
    let mut columns = vec![
        ("step", Align::Left),
        ("kind", Align::Left),
        ("reads", Align::Left),
    ];
    if params {
        columns.push(("parameters", Align::Left));
    }
    let mut table = Table::new(&columns);
    for (step, reads) in pipeline.steps().iter().zip(reads(pipeline)) {
        let t = step.transformer();
        let name = if step.name() == pipeline.output_step() {
            format!("{} (output)", step.name())
        } else {
            step.name().to_owned()
        };
        let settings: Vec<String> = t
            .get_params()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        table.row([
            name,
            t.kind().to_owned(),
            elide(&reads, ", "),
            elide(&settings, " "),
        ]);
    }
    let mut out = String::from("Steps\n");
    out.push_str(&table.render(2));
    out.push_str("\nGenerations (the steps of one generation can run at the same time)\n");
    let order = pipeline.get_execution_order();
    let digits = order.len().to_string().len();
    for (k, generation) in order.iter().enumerate() {
        let _ = writeln!(out, "  {:>digits$}  {}", k + 1, elide(generation, ", "));
    }
    out
}

/// Longest joined list shown in one cell or line; the rest is counted, so
/// that a 10,000-wide fan-in does not make every row 10,000 names wide.
const MAX_LIST_CHARS: usize = 160;

/// `items` joined by `sep`, cut after [`MAX_LIST_CHARS`] with a count of
/// what was left out: `a, b, c, ... (9,997 more)`.
fn elide<S: AsRef<str>>(items: &[S], sep: &str) -> String {
    let mut out = String::new();
    for (k, item) in items.iter().enumerate() {
        let item = item.as_ref();
        if k > 0 && out.chars().count() + sep.len() + item.chars().count() > MAX_LIST_CHARS {
            let _ = write!(
                out,
                "{sep}... ({} more)",
                crate::table::grouped(items.len() - k)
            );
            return out;
        }
        if k > 0 {
            out.push_str(sep);
        }
        out.push_str(item);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lists_are_elided_with_a_count() {
        let names: Vec<String> = (0..10_000).map(|k| format!("step{k}")).collect();
        let cell = elide(&names, ", ");
        assert!(cell.chars().count() < MAX_LIST_CHARS + 30, "{cell}");
        assert!(
            cell.starts_with("step0, step1, ") && cell.ends_with(" more)"),
            "{cell}"
        );
        assert_eq!(elide(&["a", "b"], ", "), "a, b");
    }
}
