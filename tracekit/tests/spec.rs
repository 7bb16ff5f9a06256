//! Spec files: loading, round trips, and errors that name the step, key and line.

use tracekit::{Error, ExecutorKind, Trace, spec};

const FAN_OUT: &str = r#"
executor = "thread"
max_workers = 2
output = "sum"

[[steps]]
name = "lp"
kind = "lowpass"
inputs = ["input"]
cutoff = 50000.0
order = 4

[[steps]]
name = "hp"
kind = "highpass"
inputs = ["input"]
cutoff = 1000.0

[[steps]]
name = "sum"
kind = "merge"
inputs = ["lp", "hp"]
op = "sum"

[[steps]]
name = "spectrum"
kind = "fft"
inputs = ["input"]
"#;

fn capture() -> Trace {
    let fs = 1.0e6;
    let x = (0..4096)
        .map(|i| (2.0 * std::f64::consts::PI * 1.0e4 * i as f64 / fs).sin())
        .collect();
    Trace::new(x, fs).unwrap()
}

fn spec_error(text: &str) -> (String, Option<usize>) {
    match spec::load(text).unwrap_err() {
        Error::Spec { message, line } => (message, line),
        other => panic!("expected a spec error, got {other}"),
    }
}

#[test]
fn loads_the_documented_example() {
    let p = spec::load(FAN_OUT).unwrap();
    assert_eq!(p.executor_type(), ExecutorKind::Thread);
    assert_eq!(p.max_workers(), Some(2));
    assert_eq!(p.step_names(), vec!["lp", "hp", "sum", "spectrum"]);
    assert_eq!(p.output_step(), "sum");
    assert_eq!(
        p.get_execution_order(),
        vec![vec!["lp", "hp", "spectrum"], vec!["sum"]]
    );
    assert_eq!(p.named_step("lp").unwrap().kind(), "lowpass");
}

#[test]
fn round_trip_gives_identical_results() {
    let p = spec::load(FAN_OUT).unwrap();
    let text = p.to_spec();
    let q = spec::load(&text).unwrap();
    assert_eq!(q.to_spec(), text);
    assert_eq!(q.get_params(), p.get_params());
    assert_eq!(q.executor_type(), p.executor_type());
    assert_eq!(q.max_workers(), p.max_workers());
    let (a, b) = (p.run(&capture()).unwrap(), q.run(&capture()).unwrap());
    for name in p.step_names() {
        assert!(a.get(name).unwrap().bit_eq(b.get(name).unwrap()), "{name}");
    }
}

#[test]
fn json_has_the_same_structure() {
    let json = r#"{"executor": "sequential", "steps": [
        {"name": "g", "kind": "scale", "factor": 3},
        {"name": "o", "kind": "offset", "value": 0.5}
    ]}"#;
    let p = spec::load(json).unwrap();
    assert_eq!(p.executor_type(), ExecutorKind::Sequential);
    let out = p.run(&Trace::new(vec![1.0, 2.0], 1.0).unwrap()).unwrap();
    assert_eq!(out.output().samples(), &[3.5, 6.5]);
    let (message, _) = spec_error(r#"{"steps": [{"name": "g", "kind": "scale", "factor": null}]}"#);
    assert!(message.contains("null"), "{message}");
    let (message, line) = spec_error("{\"steps\": [ {\"name\": 1,, } ]}");
    assert!(!message.is_empty());
    assert_eq!(line, Some(1));
}

#[test]
fn unknown_parameter_names_step_key_and_line() {
    let text = FAN_OUT.replace("order = 4", "ordr = 4");
    let (message, line) = spec_error(&text);
    assert!(message.contains("step 'lp'"), "{message}");
    assert!(message.contains("ordr"), "{message}");
    let expected = text.lines().position(|l| l.starts_with("ordr =")).unwrap() + 1;
    assert_eq!(line, Some(expected));
    let shown = spec::load(&text).unwrap_err().to_string();
    assert!(shown.contains(&format!("line {expected}")), "{shown}");

    // A misspelt required parameter: the message names the step and the key.
    let (message, _) = spec_error(&FAN_OUT.replace("cutoff = 1000.0", "cutof = 1000.0"));
    assert!(
        message.contains("step 'hp'") && message.contains("cutof"),
        "{message}"
    );
}

#[test]
fn wrong_value_types_and_missing_keys() {
    let (message, line) = spec_error(&FAN_OUT.replace("order = 4", "order = \"four\""));
    assert!(
        message.contains("step 'lp'") && message.contains("order"),
        "{message}"
    );
    assert_eq!(line, Some(11));

    let (message, _) = spec_error("[[steps]]\nkind = \"scale\"\n");
    assert!(message.contains("missing key 'name'"), "{message}");
    let (message, line) = spec_error("[[steps]]\nname = \"a\"\n");
    assert!(
        message.contains("step 'a': missing key 'kind'"),
        "{message}"
    );
    assert_eq!(line, Some(1));
    let (message, line) = spec_error("[[steps]]\nname = \"a\"\nkind = \"nope\"\n");
    assert!(
        message.contains("unknown transformer kind 'nope'"),
        "{message}"
    );
    assert_eq!(line, Some(3));
    let (message, line) =
        spec_error("[[steps]]\nname = \"a\"\nkind = \"scale\"\nfactor = [1, 2]\n");
    assert!(message.contains("parameter 'factor'"), "{message}");
    assert_eq!(line, Some(4));
}

#[test]
fn top_level_errors() {
    let (message, line) =
        spec_error(&FAN_OUT.replace("executor = \"thread\"", "executor = \"gpu\""));
    assert!(
        message.contains("executor_type must be 'thread', 'process' or 'sequential', got 'gpu'"),
        "{message}"
    );
    assert_eq!(line, Some(2));
    let (message, line) = spec_error(&FAN_OUT.replace("max_workers = 2", "max_workers = -1"));
    assert!(message.contains("max_workers"), "{message}");
    assert_eq!(line, Some(3));
    let (message, _) = spec_error(&FAN_OUT.replace("output = \"sum\"", "output = \"nowhere\""));
    assert!(
        message.contains("Step 'nowhere' not found in pipeline"),
        "{message}"
    );
    let (message, line) =
        spec_error("colour = \"blue\"\n[[steps]]\nname = \"a\"\nkind = \"scale\"\n");
    assert!(message.contains("unknown key 'colour'"), "{message}");
    assert_eq!(line, Some(1));
    let (message, _) = spec_error("executor = \"thread\"\n");
    assert!(
        message.contains("Pipeline steps cannot be empty"),
        "{message}"
    );
}

#[test]
fn wiring_errors_come_from_the_analysis() {
    let cyclic = "[[steps]]\nname = \"a\"\nkind = \"scale\"\ninputs = [\"b\"]\n\n[[steps]]\nname = \"b\"\nkind = \"scale\"\ninputs = [\"a\"]\n";
    let (message, _) = spec_error(cyclic);
    assert!(
        message.contains("Circular dependency detected in pipeline: a -> b -> a"),
        "{message}"
    );
    let (message, line) = spec_error("x = = 1");
    assert!(!message.is_empty());
    assert_eq!(line, Some(1));
}
