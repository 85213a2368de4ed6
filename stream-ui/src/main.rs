//! `stream-ui`: the query page of stopped queries, served from their checkpoints.
//!
//! ```text
//! stream-ui <checkpoint>... [--addr 127.0.0.1:4040]
//! ```
//!
//! Spark's Structured Streaming tab dies with the driver. A stream-core checkpoint keeps
//! the progress records of its last 100 batches, the compiled plan and the error of a
//! failed run (`<checkpoint>/progress/`), and this command serves the same page and
//! `/metrics` a running query serves, from them. It reads the checkpoints and writes
//! nothing; it can run while a query does (the page then shows its records as they
//! come). It runs until stopped (Ctrl-C).

use std::path::PathBuf;

use stream_core::ui::UiServer;

const USAGE: &str = "\
usage: stream-ui <checkpoint>... [--addr HOST:PORT]

  serves the query page (/) and /metrics of the queries whose checkpoint folders are
  given, from the progress records each keeps; --addr defaults to 127.0.0.1:4040
  (port 0 picks a free port)
";

#[derive(Debug, PartialEq)]
struct Args {
    checkpoints: Vec<PathBuf>,
    addr: String,
}

fn parse(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        checkpoints: Vec::new(),
        addr: "127.0.0.1:4040".into(),
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => parsed.addr = args.next().ok_or("--addr needs HOST:PORT")?,
            "-h" | "--help" => return Err(String::new()),
            flag if flag.starts_with("--") => return Err(format!("unknown option `{flag}`")),
            dir => parsed.checkpoints.push(PathBuf::from(dir)),
        }
    }
    if parsed.checkpoints.is_empty() {
        return Err("name at least one checkpoint folder".into());
    }
    for dir in &parsed.checkpoints {
        if !dir.join("metadata").is_file() {
            return Err(format!(
                "`{}` is not a query's checkpoint: it has no `metadata` file",
                dir.display()
            ));
        }
    }
    Ok(parsed)
}

fn main() {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("stream-ui: {message}");
            }
            eprint!("{USAGE}");
            std::process::exit(2);
        }
    };
    match UiServer::checkpoints(args.checkpoints, &args.addr) {
        Ok(server) => {
            // the address on stdout, alone, for scripts and tests
            println!("http://{}/", server.address());
            loop {
                std::thread::park();
            }
        }
        Err(e) => {
            eprintln!("stream-ui: {e}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Args, String> {
        parse(list.iter().map(|s| s.to_string()))
    }

    #[test]
    fn a_folder_that_is_not_a_checkpoint_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_str().unwrap();
        let error = args(&[path]).unwrap_err();
        assert!(
            error.contains(path) && error.contains("metadata"),
            "{error}"
        );
        assert_eq!(
            args(&[]).unwrap_err(),
            "name at least one checkpoint folder"
        );
        assert_eq!(
            args(&["--port", "1"]).unwrap_err(),
            "unknown option `--port`"
        );
    }

    #[test]
    fn checkpoints_and_the_address() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("metadata"), "v1\n{}").unwrap();
        let path = dir.path().to_str().unwrap();
        let parsed = args(&[path, "--addr", "0.0.0.0:9"]).unwrap();
        assert_eq!(parsed.checkpoints, [dir.path().to_path_buf()]);
        assert_eq!(parsed.addr, "0.0.0.0:9");
    }
}
