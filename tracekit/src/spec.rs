//! Pipeline spec files: a pipeline of built-in stages written as TOML or JSON.
//!
//! ```toml
//! executor = "thread"      # optional: sequential | thread | process
//! max_workers = 4          # optional; default auto
//! output = "merge"         # optional; default the last step
//! stage_timeout = 30.0     # optional, seconds; default none
//!
//! [[steps]]
//! name = "lowpass"
//! kind = "lowpass"
//! inputs = ["input"]       # optional; default the previous step
//! cutoff = 50000.0
//! order = 4
//! ```
//!
//! JSON files have the same structure (`{"executor": "thread", "steps": [{...}]}`).
//! Every key of a step other than `name`, `kind` and `inputs` is a parameter
//! of its kind (see [`crate::dsp`]). Errors name the step and the key, with the
//! line number in TOML files.
//!
//! ```
//! use tracekit::{spec, ExecutorKind};
//!
//! let p = spec::load(r#"
//!     executor = "sequential"
//!     [[steps]]
//!     name = "gain"
//!     kind = "scale"
//!     factor = 2.0
//! "#)?;
//! assert_eq!(p.executor_type(), ExecutorKind::Sequential);
//! assert_eq!(p.step_names(), vec!["gain"]);
//! let again = spec::load(&p.to_spec())?;
//! assert_eq!(again.get_params(), p.get_params());
//! # Ok::<(), tracekit::Error>(())
//! ```

use std::{fmt::Write as _, path::Path, time::Duration};

use tracekit_core::{ParamValue, Params, Pipeline, Step};

use crate::{Error, ExecutorKind, ParallelPipeline};

/// The fan-out pipeline of `tracekit demo` and of the `parallel_pipeline`
/// example, defined once as a spec (`examples/pipelines/fanout.toml`):
/// three Butterworth filters, an FFT and the spectral metrics read the input,
/// and `merge` averages the three filters.
///
/// ```
/// let p = tracekit::spec::load(tracekit::spec::FAN_OUT)?;
/// assert_eq!(
///     p.get_execution_order(),
///     vec![vec!["lowpass", "highpass", "bandpass", "fft", "metrics"], vec!["merge"]]
/// );
/// # Ok::<(), tracekit::Error>(())
/// ```
pub const FAN_OUT: &str = include_str!("../examples/pipelines/fanout.toml");

/// A value as read from a spec file, with the line it came from (TOML only).
struct Entry {
    key: String,
    value: Value,
}

enum Value {
    Param(ParamValue),
    List(Vec<String>),
    Other(&'static str),
}

struct StepSpec {
    index: usize,
    entries: Vec<Entry>,
}

struct SpecFile {
    top: Vec<Entry>,
    steps: Vec<StepSpec>,
}

/// Line numbers of keys in a TOML text, found by reading the text itself,
/// once: `(table, key) -> line`, where the table is `None` at the top level
/// or the index of a `[[steps]]` table, and the key `""` stands for the
/// table's header.
struct Lines {
    lines: std::collections::HashMap<(Option<usize>, String), usize>,
}

impl Lines {
    /// The key lines of `text` (none for JSON, which is `None`).
    fn of(text: Option<&str>) -> Lines {
        let mut lines = std::collections::HashMap::new();
        let Some(text) = text else {
            return Lines { lines };
        };
        let mut table: Option<usize> = None;
        let mut tables_seen = 0;
        let mut other_table = false;
        for (n, line) in text.lines().enumerate() {
            let trimmed = line.trim();
            if trimmed.starts_with("[[")
                && trimmed.trim_start_matches('[').trim().starts_with("steps")
            {
                table = Some(tables_seen);
                tables_seen += 1;
                other_table = false;
                lines.entry((table, String::new())).or_insert(n + 1);
                continue;
            }
            if trimmed.starts_with('[') {
                other_table = true;
                continue;
            }
            if other_table || !trimmed.contains('=') {
                continue;
            }
            let key = trimmed
                .split('=')
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches('"');
            lines.entry((table, key.to_owned())).or_insert(n + 1);
        }
        Lines { lines }
    }

    /// The line of `key` at the top level (`step == None`) or in the
    /// `[[steps]]` table `step`; `key == ""` gives the table's header line.
    fn find(&self, step: Option<usize>, key: &str) -> Option<usize> {
        self.lines.get(&(step, key.to_owned())).copied()
    }
}

fn spec_error(message: impl Into<String>, line: Option<usize>) -> Error {
    Error::Spec {
        message: message.into(),
        line,
    }
}

fn parse_toml(text: &str) -> Result<SpecFile, Error> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
        spec_error(e.message().to_owned(), line)
    })?;
    from_table(&table)
}

/// A JSON value read with duplicate keys refused, as TOML refuses them
/// (serde_json would keep the last one silently).
struct Unique(serde_json::Value);

impl<'de> serde::Deserialize<'de> for Unique {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Unique, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Unique;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Unique, E> {
                Ok(Unique(v.into()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Unique, E> {
                Ok(Unique(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Unique, E> {
                Ok(Unique(v.into()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Unique, E> {
                Ok(Unique(
                    serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, Into::into),
                ))
            }
            fn visit_str<E>(self, v: &str) -> Result<Unique, E> {
                Ok(Unique(v.into()))
            }
            fn visit_unit<E>(self) -> Result<Unique, E> {
                Ok(Unique(serde_json::Value::Null))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Unique, A::Error> {
                let mut items = Vec::new();
                while let Some(Unique(v)) = seq.next_element()? {
                    items.push(v);
                }
                Ok(Unique(items.into()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Unique, A::Error> {
                let mut out = serde_json::Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    if out.contains_key(&key) {
                        return Err(serde::de::Error::custom(format!("duplicate key '{key}'")));
                    }
                    let Unique(v) = map.next_value()?;
                    out.insert(key, v);
                }
                Ok(Unique(out.into()))
            }
        }
        d.deserialize_any(Visit)
    }
}

/// JSON is read into the same tree as TOML, so that one reader serves both.
fn parse_json(text: &str) -> Result<SpecFile, Error> {
    let Unique(root) = serde_json::from_str(text)
        .map_err(|e| spec_error(e.to_string(), Some(e.line()).filter(|l| *l > 0)))?;
    match json_to_toml(&root)? {
        toml::Value::Table(table) => from_table(&table),
        _ => Err(spec_error(
            format!(
                "the spec must be a JSON object with a \"steps\" list, got {}",
                match root {
                    serde_json::Value::Array(_) => "an array",
                    _ => "a single value",
                }
            ),
            Some(1),
        )),
    }
}

/// A JSON value as a TOML value; `null`, which TOML lacks, is an error.
fn json_to_toml(v: &serde_json::Value) -> Result<toml::Value, Error> {
    Ok(match v {
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) if !n.is_f64() => toml::Value::Integer(i),
            _ => toml::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::Bool(b) => toml::Value::Boolean(*b),
        serde_json::Value::String(s) => toml::Value::String(s.clone()),
        serde_json::Value::Array(a) => {
            toml::Value::Array(a.iter().map(json_to_toml).collect::<Result<_, _>>()?)
        }
        serde_json::Value::Object(o) => toml::Value::Table(
            o.iter()
                .map(|(k, v)| Ok((k.clone(), json_to_toml(v)?)))
                .collect::<Result<_, Error>>()?,
        ),
        serde_json::Value::Null => {
            return Err(spec_error(
                "null is not a value here: use a number, a boolean, a string or a list",
                None,
            ));
        }
    })
}

fn from_table(table: &toml::Table) -> Result<SpecFile, Error> {
    let convert = |v: &toml::Value| -> Value {
        match v {
            toml::Value::Float(x) => Value::Param(ParamValue::Float(*x)),
            toml::Value::Integer(i) => Value::Param(ParamValue::Int(*i)),
            toml::Value::Boolean(b) => Value::Param(ParamValue::Bool(*b)),
            toml::Value::String(s) => Value::Param(ParamValue::Text(s.clone())),
            toml::Value::Array(a) => a
                .iter()
                .map(|x| x.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .map_or(Value::Other("an array of non-strings"), Value::List),
            toml::Value::Datetime(d) if d.date.is_none() && d.time.is_none() => {
                Value::Other("null")
            }
            toml::Value::Datetime(_) => Value::Other("a date"),
            toml::Value::Table(_) => Value::Other("a table"),
        }
    };
    let mut file = SpecFile {
        top: Vec::new(),
        steps: Vec::new(),
    };
    for (key, value) in table {
        if key == "steps" {
            let steps = value.as_array().ok_or_else(|| {
                spec_error("'steps' must be an array of tables ([[steps]])", None)
            })?;
            for (index, step) in steps.iter().enumerate() {
                let t = step.as_table().ok_or_else(|| {
                    spec_error(
                        format!("step {}: each step must be a table", index + 1),
                        None,
                    )
                })?;
                let entries = t
                    .iter()
                    .map(|(k, v)| Entry {
                        key: k.clone(),
                        value: convert(v),
                    })
                    .collect();
                file.steps.push(StepSpec { index, entries });
            }
        } else {
            file.top.push(Entry {
                key: key.clone(),
                value: convert(value),
            });
        }
    }
    Ok(file)
}

/// Builds a pipeline from a spec text, TOML or JSON (a text starting with `{` is JSON).
pub fn load(text: &str) -> Result<ParallelPipeline, Error> {
    // A byte-order mark, which some editors write, is not part of the spec.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Chosen by content: JSON starts with an object; text that starts with
    // `[` is a TOML table header unless it is a JSON array as a whole.
    let start = text.trim_start();
    let is_json = start.starts_with('{')
        || (start.starts_with('[') && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok());
    let file = if is_json {
        parse_json(text)?
    } else {
        parse_toml(text)?
    };
    let lines = Lines::of((!is_json).then_some(text));

    let mut kind = ExecutorKind::Thread;
    let mut workers = None;
    let mut output = None;
    let mut stage_timeout = None;
    for entry in &file.top {
        let line = lines.find(None, &entry.key);
        let text_of = |what: &str| match &entry.value {
            Value::Param(ParamValue::Text(s)) => Ok(s.clone()),
            _ => Err(spec_error(format!("'{}' must be {what}", entry.key), line)),
        };
        match entry.key.as_str() {
            "executor" => {
                kind = text_of("a string")?
                    .parse()
                    .map_err(|e: Error| spec_error(e.to_string(), line))?;
            }
            "max_workers" => match &entry.value {
                Value::Param(ParamValue::Int(n)) if *n > 0 => workers = Some(*n as usize),
                Value::Param(ParamValue::Int(0)) => {}
                _ => {
                    return Err(spec_error(
                        "'max_workers' must be a positive integer (or 0 for auto)",
                        line,
                    ));
                }
            },
            "output" => output = Some((text_of("a step name")?, line)),
            "stage_timeout" => {
                let seconds = match &entry.value {
                    Value::Param(v) => v.as_f64(),
                    _ => None,
                };
                stage_timeout = Some(
                    seconds
                        .and_then(|s| Duration::try_from_secs_f64(s).ok())
                        .filter(|d| !d.is_zero())
                        .ok_or_else(|| {
                            spec_error("'stage_timeout' must be a positive number of seconds", line)
                        })?,
                );
            }
            other => {
                return Err(spec_error(
                    format!(
                        "unknown key '{other}'; the top level takes executor, max_workers, output, \
                         stage_timeout and steps"
                    ),
                    line,
                ));
            }
        }
    }
    if file.steps.is_empty() {
        return Err(spec_error(
            "Pipeline steps cannot be empty: add at least one [[steps]] table",
            None,
        ));
    }

    let mut steps = Vec::with_capacity(file.steps.len());
    for spec in &file.steps {
        let ordinal = spec.index + 1;
        let header = lines.find(Some(spec.index), "");
        let get = |key: &str| spec.entries.iter().find(|e| e.key == key);
        let name = match get("name").map(|e| &e.value) {
            Some(Value::Param(ParamValue::Text(s))) => s.clone(),
            Some(_) => {
                return Err(spec_error(
                    format!("step {ordinal}: 'name' must be a string"),
                    lines.find(Some(spec.index), "name"),
                ));
            }
            None => {
                return Err(spec_error(
                    format!("step {ordinal}: missing key 'name'"),
                    header,
                ));
            }
        };
        let line_of = |key: &str| lines.find(Some(spec.index), key).or(header);
        let kind_name = match get("kind").map(|e| &e.value) {
            Some(Value::Param(ParamValue::Text(s))) => s.clone(),
            Some(_) => {
                return Err(spec_error(
                    format!("step '{name}': 'kind' must be a string"),
                    line_of("kind"),
                ));
            }
            None => {
                return Err(spec_error(
                    format!("step '{name}': missing key 'kind'"),
                    header,
                ));
            }
        };
        let mut params = Params::new();
        let mut inputs = None;
        for entry in &spec.entries {
            match (entry.key.as_str(), &entry.value) {
                ("name" | "kind", _) => {}
                ("inputs", Value::List(list)) => inputs = Some(list.clone()),
                ("inputs", Value::Param(ParamValue::Text(one))) => inputs = Some(vec![one.clone()]),
                ("inputs", _) => {
                    return Err(spec_error(
                        format!("step '{name}': 'inputs' must be a list of step names"),
                        line_of("inputs"),
                    ));
                }
                (key, Value::Param(v)) => {
                    params.insert(key.to_owned(), v.clone());
                }
                (key, other) => {
                    let got = match other {
                        Value::Other(what) => what,
                        _ => "a list",
                    };
                    return Err(spec_error(
                        format!(
                            "step '{name}': parameter '{key}' must be a number, a boolean or a string, got {got}"
                        ),
                        line_of(key),
                    ));
                }
            }
        }
        let transformer = tracekit_dsp::build(&kind_name, &params).map_err(|e| {
            let message = e.to_string();
            let key = params
                .keys()
                .find(|k| message.contains(&format!("'{k}'")))
                .cloned();
            let line = key.as_deref().map_or_else(|| line_of("kind"), line_of);
            spec_error(format!("step '{name}': {message}"), line)
        })?;
        if let Some(why) = unusable_in_file_names(&name) {
            return Err(spec_error(
                format!("step '{name}': {why}; step names are parts of output file names"),
                lines.find(Some(spec.index), "name").or(header),
            ));
        }
        let step = Step::boxed(name, transformer);
        steps.push(match inputs {
            Some(list) => step.inputs(list),
            None => step,
        });
    }

    let mut pipeline = Pipeline::new(steps).map_err(|e| spec_error(e.to_string(), None))?;
    if let Some((name, line)) = output {
        pipeline = pipeline
            .with_output(&name)
            .map_err(|e| spec_error(format!("output: {e}"), line))?;
    }
    pipeline.set_stage_timeout(stage_timeout);
    Ok(ParallelPipeline::from_pipeline(pipeline, kind, workers))
}

/// Why `name` cannot be part of a file name (`<input>.<step>.npy`), if it cannot.
fn unusable_in_file_names(name: &str) -> Option<&'static str> {
    if name.contains(['/', '\\']) {
        Some("a name cannot hold '/' or '\\'")
    } else if name.contains(|c: char| c.is_control()) {
        Some("a name cannot hold control characters")
    } else if name == "." || name == ".." {
        Some("a name cannot be '.' or '..'")
    } else {
        None
    }
}

/// Reads and loads a spec file; see [`load`].
pub fn load_file(path: &Path) -> Result<ParallelPipeline, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::SpecFile {
        path: path.display().to_string(),
        source,
    })?;
    load(&text).map_err(|e| match e {
        Error::Spec { message, line } => Error::Spec {
            message: format!("{}: {message}", path.display()),
            line,
        },
        other => other,
    })
}

fn toml_value(v: &ParamValue) -> String {
    match v {
        ParamValue::Float(x) => toml::Value::Float(*x).to_string(),
        ParamValue::Int(i) => toml::Value::Integer(*i).to_string(),
        ParamValue::Bool(b) => toml::Value::Boolean(*b).to_string(),
        ParamValue::Text(s) => toml::Value::String(s.clone()).to_string(),
    }
}

/// Writes a pipeline as a TOML spec: [`load`] of the text gives the same
/// pipeline when every stage is a built-in kind.
pub fn to_toml(pipeline: &Pipeline, kind: ExecutorKind, max_workers: Option<usize>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "executor = {}",
        toml_value(&ParamValue::Text(kind.to_string()))
    );
    if let Some(n) = max_workers {
        let _ = writeln!(out, "max_workers = {n}");
    }
    let _ = writeln!(
        out,
        "output = {}",
        toml_value(&ParamValue::Text(pipeline.output_step().to_owned()))
    );
    if let Some(limit) = pipeline.stage_timeout() {
        let _ = writeln!(out, "stage_timeout = {:?}", limit.as_secs_f64());
    }
    for step in pipeline.steps() {
        let t = step.transformer();
        out.push_str("\n[[steps]]\n");
        let _ = writeln!(
            out,
            "name = {}",
            toml_value(&ParamValue::Text(step.name().to_owned()))
        );
        let _ = writeln!(
            out,
            "kind = {}",
            toml_value(&ParamValue::Text(t.kind().to_owned()))
        );
        if let Some(inputs) = step.declared_inputs() {
            let list: Vec<String> = inputs
                .iter()
                .map(|i| toml_value(&ParamValue::Text(i.clone())))
                .collect();
            let _ = writeln!(out, "inputs = [{}]", list.join(", "));
        }
        for (k, v) in t.get_params() {
            let key = if k
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                k
            } else {
                toml_value(&ParamValue::Text(k))
            };
            let _ = writeln!(out, "{key} = {}", toml_value(&v));
        }
    }
    out
}

impl ParallelPipeline {
    /// This pipeline as a TOML spec (see [`crate::spec`]); loading it gives the
    /// same pipeline, executor settings included, for built-in kinds.
    pub fn to_spec(&self) -> String {
        to_toml(self.as_pipeline(), self.executor_type(), self.max_workers())
    }
}
