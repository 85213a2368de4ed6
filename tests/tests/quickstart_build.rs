//! The README's run command builds only what the quickstart uses: `cargo run -p examples
//! --example quickstart` resolves the features of the `examples` package alone, so the
//! Delta, Kafka and test packages of the workspace do not switch stream-core's `delta`
//! and `kafka` features on for it (as a run from the workspace root without `-p` did).

use std::path::Path;
use std::process::Command;

/// The crates `cargo tree` lists for the quickstart's build: the `examples` package's
/// normal and build dependencies with the features that command resolves.
fn quickstart_tree() -> String {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(env!("CARGO"))
        .current_dir(&workspace)
        .args([
            "tree",
            "-p",
            "examples",
            "-e",
            "normal,build",
            "--prefix",
            "none",
            "--offline",
        ])
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("cargo tree prints UTF-8")
}

#[test]
fn the_quickstart_builds_without_delta_kafka_or_an_http_client() {
    let tree = quickstart_tree();
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert!(crates.contains(&"stream-core"), "{tree}");
    assert!(
        crates.contains(&"arrow-json"),
        "the quickstart reads JSON: {tree}"
    );
    for heavy in [
        "deltalake-core",
        "object_store",
        "rdkafka",
        "rdkafka-sys",
        "reqwest",
        "hyper",
        // the live page's server: the examples' `ui` feature, which the quickstart
        // does not ask for
        "axum",
        "prometheus-client",
        // the disk state store: a feature the quickstart does not ask for
        "fjall",
    ] {
        assert!(
            !crates.contains(&heavy),
            "`{heavy}` is in the quickstart's build:\n{tree}"
        );
    }
}
