//! `tracekit run --shard I/N` and `tracekit merge`: job arrays without MPI.

mod support;

use std::{collections::BTreeSet, fs};

use support::{TempDir, files, stderr, tracekit, write_inputs};

#[test]
fn shards_are_disjoint_cover_the_inputs_ignore_argument_order_and_merge_to_one_run() {
    let dir = TempDir::new("shard");
    let names = write_inputs(&dir, 13, 4096);
    // The shell's glob order is sorted; give the arguments in another order.
    let mut shuffled = names.clone();
    shuffled
        .sort_by_key(|n| (n.len() * 7919 + n.bytes().map(usize::from).sum::<usize>() * 31) % 17);
    assert_ne!(shuffled, names);
    let run = |out: &str, inputs: &[String], extra: &[&str]| {
        let mut args = vec![
            "run",
            "spec.toml",
            "--sample-rate",
            "1e6",
            "--keep",
            "fft",
            "--out",
            out,
        ];
        args.extend(inputs.iter().map(String::as_str));
        args.extend(extra);
        let o = tracekit(&dir.0, &args);
        assert!(o.status.success(), "{out}: {}", stderr(&o));
    };
    run("one", &names, &[]);
    let one = files(&dir.path("one"));

    for n in 1..=5usize {
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut parts = Vec::new();
        for i in 0..n {
            let shard = format!("{i}/{n}");
            let out = format!("parts{n}/{i}");
            run(&out, &shuffled, &["--shard", &shard]);
            let part = files(&dir.path(&out));
            let outputs: BTreeSet<String> = part
                .keys()
                .filter(|k| k.ends_with(".npy"))
                .cloned()
                .collect();
            assert!(
                seen.is_disjoint(&outputs),
                "{shard} repeats outputs of another part"
            );
            for name in &outputs {
                assert_eq!(
                    part[name], one[name],
                    "{shard}: {name} differs from the one-process run"
                );
            }
            seen.extend(outputs);
            // The same part whatever the argument order.
            let again = format!("again{n}/{i}");
            run(&again, &names, &["--shard", &shard]);
            assert_eq!(
                files(&dir.path(&again)),
                part,
                "{shard} depends on argument order"
            );
            parts.push(out);
        }
        let all: BTreeSet<String> = one
            .keys()
            .filter(|k| k.ends_with(".npy"))
            .cloned()
            .collect();
        assert_eq!(seen, all, "{n} parts do not cover every input");

        let mut args = vec!["merge".to_owned()];
        // Parts given in reverse: merge orders them itself.
        args.extend(parts.iter().rev().cloned());
        args.extend(["--out".to_owned(), format!("merged{n}")]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = tracekit(&dir.0, &args);
        assert!(o.status.success(), "merge of {n}: {}", stderr(&o));
        assert_eq!(
            fs::read_to_string(dir.path(&format!("merged{n}/measurements.csv"))).unwrap(),
            String::from_utf8(one["measurements.csv"].clone()).unwrap(),
            "merging {n} parts differs from the one-process measurements.csv"
        );
    }
}

#[test]
fn bad_shards_and_bad_merges_are_clear_errors() {
    let dir = TempDir::new("shard-errors");
    let names = write_inputs(&dir, 4, 1024);
    for bad in ["2/2", "x/3", "3"] {
        let o = tracekit(&dir.0, &["run", "spec.toml", &names[0], "--shard", bad]);
        assert_eq!(o.status.code(), Some(2), "--shard {bad}");
        assert!(
            stderr(&o).contains("0 <= I < N"),
            "--shard {bad}: {}",
            stderr(&o)
        );
    }
    let mut args = vec![
        "run",
        "spec.toml",
        "--sample-rate",
        "1e6",
        "--out",
        "a",
        "--shard",
        "0/2",
    ];
    args.extend(names.iter().map(String::as_str));
    assert!(tracekit(&dir.0, &args).status.success());
    // The same part twice.
    let o = tracekit(&dir.0, &["merge", "a", "a", "--out", "m"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is in both"), "{}", stderr(&o));
    // A run that never finished.
    fs::create_dir_all(dir.path("empty")).unwrap();
    let o = tracekit(&dir.0, &["merge", "a", "empty", "--out", "m"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("empty/measurements.csv"),
        "{}",
        stderr(&o)
    );
    // A missing part is merged with a warning that names it.
    let o = tracekit(&dir.0, &["merge", "a", "--out", "m"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("lacks part 1/2"), "{}", stderr(&o));
}

#[cfg(not(feature = "mpi"))]
#[test]
fn mpi_in_a_build_without_the_feature_says_how_to_build_with_it() {
    let dir = TempDir::new("no-mpi");
    let names = write_inputs(&dir, 1, 1024);
    let o = tracekit(&dir.0, &["run", "spec.toml", &names[0], "--mpi"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("--features mpi") && err.contains("libmpich-dev"),
        "{err}"
    );
    assert!(!dir.path("tracekit-out/measurements.csv").exists());
}
