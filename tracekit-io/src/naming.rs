//! The names traces go by in outputs: `<stem>`, `<stem>.ch1`, `<stem>.ch0`.

use std::{collections::BTreeSet, path::Path};

use tracekit_core::Trace;

/// A trace read from a file, with the name it goes by in outputs.
#[derive(Debug, Clone)]
pub struct NamedTrace {
    /// `<stem>` for a file of one trace; otherwise `<stem>.ch1` for a scope's
    /// channel `CH1`, `C1` or `CH 1`, `<stem>.<label>` lower-cased for other
    /// labels (`<stem>.d0`), and `<stem>.ch<k>` (k from 0) for unnamed channels.
    pub name: String,
    /// The trace; its `channel` is the label the file gives, or `name` where
    /// the file gives none.
    pub trace: Trace,
}

/// The stem of `path`: its file name without the last extension.
pub(crate) fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "trace".into())
}

/// The suffix a channel label gives: `CH1`, `C1`, `CH 1`, `Channel 1` ->
/// `ch1`; other labels lower-cased, with characters that do not belong in a
/// file name replaced by `_`.
fn suffix(label: &str) -> String {
    let lower = label.trim().to_ascii_lowercase();
    let digits_after = |prefix: &str| {
        lower
            .strip_prefix(prefix)
            .map(str::trim_start)
            .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    };
    if let Some(n) = ["channel", "chan", "ch", "c"]
        .iter()
        .find_map(|p| digits_after(p))
    {
        return format!("ch{n}");
    }
    lower
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Names the traces read from `path` (section "channel naming" of the CLI docs).
pub(crate) fn name_traces(path: &Path, traces: Vec<Trace>) -> Vec<NamedTrace> {
    let stem = stem(path);
    let single = traces.len() == 1;
    let mut taken = BTreeSet::new();
    traces
        .into_iter()
        .enumerate()
        .map(|(k, mut trace)| {
            let label = trace.meta().channel.clone();
            let mut name = match (single, suffix(&label)) {
                (true, _) => stem.clone(),
                (false, s) if s.is_empty() => format!("{stem}.ch{k}"),
                (false, s) => format!("{stem}.{s}"),
            };
            if !taken.insert(name.clone()) {
                name = format!("{name}-{k}");
                taken.insert(name.clone());
            }
            if label.is_empty() {
                trace.meta_mut().channel = name.clone();
            }
            NamedTrace { name, trace }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labelled(labels: &[&str]) -> Vec<String> {
        let traces = labels
            .iter()
            .map(|l| {
                let mut t = Trace::new(vec![], 1.0).unwrap();
                t.meta_mut().channel = (*l).into();
                t
            })
            .collect();
        name_traces(Path::new("dir/cap.wfm"), traces)
            .into_iter()
            .map(|n| n.name)
            .collect()
    }

    #[test]
    fn scope_channels_keep_their_number() {
        assert_eq!(
            labelled(&["CH1", "C2", "CH 3", "Channel 4"]),
            ["cap.ch1", "cap.ch2", "cap.ch3", "cap.ch4"]
        );
        assert_eq!(
            labelled(&["I", "Q", "D0", "Math 1"]),
            ["cap.i", "cap.q", "cap.d0", "cap.math_1"]
        );
        assert_eq!(labelled(&["", ""]), ["cap.ch0", "cap.ch1"]);
        assert_eq!(labelled(&["CH2"]), ["cap"]);
        assert_eq!(labelled(&["CH1", "ch1"]), ["cap.ch1", "cap.ch1-1"]);
    }
}
