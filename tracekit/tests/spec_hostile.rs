//! Spec files that are unusual or hostile: time limits, JSON with duplicate
//! keys or the wrong root, byte-order marks, step names that cannot be file
//! names, typos of required keys.

use std::time::Duration;

use tracekit::spec;

/// The message of a spec that does not load (with its line, when known).
fn refused(text: &str) -> String {
    spec::load(text).unwrap_err().to_string()
}

#[test]
fn stage_timeout_loads_and_round_trips() {
    let p = spec::load("stage_timeout = 2.5\n[[steps]]\nname = \"g\"\nkind = \"scale\"\n").unwrap();
    assert_eq!(p.stage_timeout(), Some(Duration::from_millis(2500)));
    let again = spec::load(&p.to_spec()).unwrap();
    assert_eq!(again.stage_timeout(), Some(Duration::from_millis(2500)));
    let json = r#"{"stage_timeout": 3, "steps": [{"name": "g", "kind": "scale"}]}"#;
    assert_eq!(
        spec::load(json).unwrap().stage_timeout(),
        Some(Duration::from_secs(3))
    );
    for bad in ["0", "-1.0", "\"soon\"", "1e300"] {
        let e = refused(&format!(
            "stage_timeout = {bad}\n[[steps]]\nname = \"g\"\nkind = \"scale\"\n"
        ));
        assert!(
            e.contains("'stage_timeout' must be a positive number of seconds"),
            "{bad}: {e}"
        );
        assert!(e.contains("line 1"), "{bad}: {e}");
    }
}

#[test]
fn json_is_chosen_by_content_and_checked_like_toml() {
    let e = refused(r#"{"steps": [{"name": "a", "kind": "scale", "factor": 1, "factor": 2}]}"#);
    assert!(e.contains("duplicate key 'factor'"), "{e}");
    let e = refused(r#"[{"name": "a", "kind": "scale"}]"#);
    assert!(
        e.contains("must be a JSON object") && e.contains("an array"),
        "{e}"
    );
    // A byte-order mark before either format is ignored.
    let p = spec::load("\u{feff}{\"steps\": [{\"name\": \"a\", \"kind\": \"scale\"}]}").unwrap();
    assert_eq!(p.step_names(), vec!["a"]);
    let p = spec::load("\u{feff}[[steps]]\nname = \"a\"\nkind = \"scale\"\n").unwrap();
    assert_eq!(p.step_names(), vec!["a"]);
}

#[test]
fn step_names_that_cannot_be_file_names_are_refused_at_load() {
    for (name, why) in [("a/b", "'/'"), ("..", "'..'"), ("tab\\t", "control")] {
        let e = refused(&format!("[[steps]]\nname = \"{name}\"\nkind = \"scale\"\n"));
        assert!(
            e.contains(why) && e.contains("output file names"),
            "{name}: {e}"
        );
        assert!(e.contains("line 2"), "{name}: {e}");
    }
}

#[test]
fn a_typo_of_a_required_key_is_named() {
    let e = refused("[[steps]]\nname = \"lp\"\nkind = \"lowpass\"\ncutof = 1000.0\n");
    assert!(
        e.contains("unknown parameter 'cutof'; did you mean 'cutoff'?"),
        "{e}"
    );
}
