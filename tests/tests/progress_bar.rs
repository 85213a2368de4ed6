//! The progress bar of a bounded run, in a real pseudo-terminal (`script` of
//! util-linux): an `available_now` query over three files, one per batch, draws
//! `3/3 files` and rows per second on a terminal, and nothing when standard error is
//! piped; `STREAM_PROGRESS` turns it off on a terminal and on without one.

use std::path::Path;
use std::process::{Command, Output};

const FILES: usize = 3;
const LINES_PER_FILE: usize = 40;

/// Three text files of `LINES_PER_FILE` lines in a new folder.
fn landing() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..FILES {
        let text: String = (0..LINES_PER_FILE).map(|n| format!("line {n}\n")).collect();
        std::fs::write(dir.path().join(format!("{i}.txt")), text).unwrap();
    }
    dir
}

fn child(landing: &Path, checkpoint: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_progress_child"));
    cmd.arg(landing)
        .arg(checkpoint)
        .env_remove("STREAM_PROGRESS");
    cmd
}

fn quoted(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

/// Runs the child under a pseudo-terminal: stdout and stderr both go to the terminal,
/// whose output `script` copies to its own stdout.
fn in_terminal(landing: &Path, checkpoint: &Path, env: Option<&str>) -> String {
    let command = format!(
        "{} {} {}",
        quoted(Path::new(env!("CARGO_BIN_EXE_progress_child"))),
        quoted(landing),
        quoted(checkpoint)
    );
    let mut script = Command::new("script");
    script
        .args(["-qfec", &command, "/dev/null"])
        .env("TERM", "xterm-256color")
        .env_remove("STREAM_PROGRESS");
    if let Some(value) = env {
        script.env("STREAM_PROGRESS", value);
    }
    let out = script.output().expect("`script` (util-linux) runs");
    assert!(out.status.success(), "{}", text(&out));
    // the terminal turns each newline into a carriage return and a newline
    String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n")
}

fn text(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn rows_line() -> String {
    format!("rows read: {}", FILES * LINES_PER_FILE)
}

/// What the bar draws, none of which the query prints otherwise.
fn assert_no_bar(stderr: &str) {
    assert!(!stderr.contains('\r'), "{stderr:?}");
    assert!(!stderr.contains('\x1b'), "{stderr:?}");
    for bar_text in ["files", "rows/s", "batch", "rows,"] {
        assert!(!stderr.contains(bar_text), "{bar_text} in {stderr:?}");
    }
}

#[test]
fn a_terminal_shows_the_bar_with_files_done_of_total_and_rows_per_second() {
    let landing = landing();
    let checkpoint = tempfile::tempdir().unwrap();
    let screen = in_terminal(landing.path(), checkpoint.path(), None);
    // the bar ends its line: what the program prints next starts a line of its own
    assert!(screen.lines().any(|l| l == rows_line()), "{screen:?}");
    let done = format!("{FILES}/{FILES} files");
    assert!(screen.contains(&done), "no `{done}` in {screen:?}");
    assert!(screen.contains("rows/s"), "{screen:?}");
    // the last line names the batches of the run and its rows
    let total = format!("{FILES} batches: {} rows", FILES * LINES_PER_FILE);
    assert!(screen.contains(&total), "no `{total}` in {screen:?}");
    // redrawn in place, with ANSI erase codes
    assert!(screen.contains("\x1b["), "{screen:?}");
}

#[test]
fn piped_stderr_gets_no_bar() {
    let landing = landing();
    let checkpoint = tempfile::tempdir().unwrap();
    let out = child(landing.path(), checkpoint.path()).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        rows_line(),
        "{}",
        text(&out)
    );
    assert_no_bar(&String::from_utf8_lossy(&out.stderr));
}

#[test]
fn stream_progress_off_hides_the_bar_on_a_terminal() {
    let landing = landing();
    let checkpoint = tempfile::tempdir().unwrap();
    let screen = in_terminal(landing.path(), checkpoint.path(), Some("off"));
    assert_eq!(screen.trim_end(), rows_line(), "{screen:?}");
    assert_no_bar(&screen);
}

#[test]
fn stream_progress_on_draws_the_bar_without_a_terminal() {
    let landing = landing();
    let checkpoint = tempfile::tempdir().unwrap();
    let out = child(landing.path(), checkpoint.path())
        .env("STREAM_PROGRESS", "on")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let done = format!("{FILES}/{FILES} files");
    assert!(stderr.contains(&done), "no `{done}` in {stderr:?}");
    assert!(stderr.contains("rows/s"), "{stderr:?}");
}
