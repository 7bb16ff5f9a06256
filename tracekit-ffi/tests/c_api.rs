//! Compiles the C and C++ tests of `c-tests/` against `include/tracekit.h`,
//! links each one both to the shared library (`libtracekit.so`) and to the
//! static one (`libtracekit.a`), runs them and asserts that they pass.
//!
//! The binaries stay in `<target>/<profile>/c-tests/`, where `.ci/c-tests`
//! runs them again under valgrind. `CC` and `CXX` choose the compilers.

use std::{
    env,
    path::{Path, PathBuf},
    process::Command,
};

/// `target/<profile>`: the test executable lives in its `deps/` folder.
fn profile_dir() -> PathBuf {
    let exe = env::current_exe().expect("the test knows its own path");
    let deps = exe.parent().expect("the test executable is in a folder");
    deps.parent()
        .expect("the deps folder is in the profile folder")
        .to_path_buf()
}

/// Builds `libtracekit.so` and `libtracekit.a` for this profile: `cargo test`
/// compiles the crate's test harness but not its cdylib and staticlib.
fn build_libraries() {
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(|| {
        let dir = profile_dir();
        let target = dir
            .parent()
            .expect("the profile folder is in the target folder");
        let mut cargo = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cargo.args([
            "build",
            "--quiet",
            "-p",
            "tracekit-ffi",
            "--lib",
            "--target-dir",
        ]);
        cargo.arg(target);
        if dir.file_name().is_some_and(|n| n == "release") {
            cargo.arg("--release");
        }
        run(&mut cargo);
    });
}

/// The library file `name` built for this test run.
fn library(name: &str) -> PathBuf {
    build_libraries();
    let dir = profile_dir();
    // Cargo builds the lib's crate types into deps/ and copies them up one level.
    [dir.join("deps").join(name), dir.join(name)]
        .into_iter()
        .filter(|p| p.exists())
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
        .unwrap_or_else(|| panic!("{name} was not built under {}", dir.display()))
}

struct Source {
    file: &'static str,
    cpp: bool,
}

const SOURCES: &[Source] = &[
    Source {
        file: "test_api.c",
        cpp: false,
    },
    Source {
        file: "test_threads.c",
        cpp: false,
    },
    Source {
        file: "test_capture.c",
        cpp: false,
    },
    Source {
        file: "test_workers.c",
        cpp: false,
    },
    Source {
        file: "test_raii.cpp",
        cpp: true,
    },
];

fn run(cmd: &mut Command) {
    let shown = format!("{cmd:?}");
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot start {shown}: {e}"));
    assert!(
        out.status.success(),
        "{shown} failed with {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Compiles `source` linked to the shared or the static library.
fn compile(source: &Source, shared: bool, out_dir: &Path) -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let stem = source.file.split('.').next().unwrap_or(source.file);
    let binary = out_dir.join(format!(
        "{stem}-{}",
        if shared { "shared" } else { "static" }
    ));
    let (compiler, std) = if source.cpp {
        (
            env::var("CXX").unwrap_or_else(|_| "c++".into()),
            "-std=c++17",
        )
    } else {
        (env::var("CC").unwrap_or_else(|_| "cc".into()), "-std=c11")
    };
    let mut cmd = Command::new(compiler);
    cmd.args([std, "-Wall", "-Wextra", "-Werror", "-pedantic", "-g", "-O1"])
        .arg("-I")
        .arg(crate_dir.join("../include"))
        .arg(crate_dir.join("c-tests").join(source.file))
        .arg("-o")
        .arg(&binary);
    if shared {
        let so = library("libtracekit.so");
        let dir = so.parent().expect("the library is in a folder");
        cmd.arg(&so).arg(format!("-Wl,-rpath,{}", dir.display()));
    } else {
        cmd.arg(library("libtracekit.a")).args([
            "-lpthread",
            "-ldl",
            "-lm",
            "-lrt",
            "-lutil",
            "-lgcc_s",
        ]);
    }
    cmd.args(["-lpthread", "-lm"]);
    run(&mut cmd);
    binary
}

/// The `n`-th (from 0) C code block of the project README.
fn readme_c_block(n: usize) -> &'static str {
    let readme = include_str!("../../README.md");
    let mut rest = readme;
    for _ in 0..n {
        let start = rest
            .find("```c\n")
            .expect("the README has that many C blocks");
        rest = &rest[start + "```c\n".len()..];
    }
    let start = rest
        .find("```c\n")
        .expect("the README has that many C blocks")
        + "```c\n".len();
    let len = rest[start..].find("```").expect("the C block ends");
    &rest[start..start + len]
}

/// Writes `program` as `name.c`, compiles it as C11 with warnings as errors
/// against the shared library, runs it and returns its output (which must
/// be a success).
fn compile_and_run(name: &str, program: &str) -> std::process::Output {
    let out_dir = profile_dir().join("c-tests");
    std::fs::create_dir_all(&out_dir).expect("the c-tests folder can be made");
    let source = out_dir.join(format!("{name}.c"));
    std::fs::write(&source, program).expect("the program can be written");
    let binary = out_dir.join(name);
    let so = library("libtracekit.so");
    let dir = so.parent().expect("the library is in a folder");
    run(Command::new(env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"])
        .arg("-I")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../include"))
        .arg(&source)
        .arg("-o")
        .arg(&binary)
        .arg(&so)
        .arg(format!("-Wl,-rpath,{}", dir.display()))
        .arg("-lm"));
    let out = Command::new(&binary).output().expect("the program runs");
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The README's second C block (reading a capture), a fragment: compiled
/// inside a `main` of its own. The file it names does not exist here, so it
/// runs through the error path.
#[test]
fn readme_capture_fragment_compiles_and_runs() {
    let program = format!(
        "#include <stdio.h>\n#include \"tracekit.h\"\nint main(void) {{\n{}return 0;\n}}\n",
        readme_c_block(1)
    );
    compile_and_run("readme_capture", &program);
}

/// The README's C example, as written there.
#[test]
fn readme_example_compiles_and_runs() {
    let out = compile_and_run("test_readme_example", readme_c_block(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("1000 samples, first "));
}

#[test]
fn c_and_cpp_tests_pass_with_shared_and_static_library() {
    let out_dir = profile_dir().join("c-tests");
    std::fs::create_dir_all(&out_dir).expect("the c-tests folder can be made");
    for source in SOURCES {
        for shared in [true, false] {
            let binary = compile(source, shared, &out_dir);
            run(&mut Command::new(&binary));
        }
    }
}
