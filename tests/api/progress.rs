//! Progress (issue 15): `generate` and `import` draw a bar on a terminal (here a pseudo-terminal
//! made by util-linux's `script`), and write none of it when their output is not a terminal.

use std::process::Command;

use crate::helpers::scratch_dir;

fn on_a_terminal(command: &str) -> Option<String> {
    let out = Command::new("script").args(["-qec", command, "/dev/null"]).output().ok()?;
    assert!(out.status.success(), "{command}: {}", String::from_utf8_lossy(&out.stdout));
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn a_bar_on_a_terminal_and_none_elsewhere() {
    let bin = env!("CARGO_BIN_EXE_ror-capacity");
    let dir = scratch_dir("progress");
    let (data, db) = (dir.join("places.ndjson"), dir.join("places.db"));
    let generate = format!("{bin} generate --locations 4000 --output {}", data.display());
    let Some(drawn) = on_a_terminal(&generate) else {
        eprintln!("util-linux's script is not installed: the terminal is not tried");
        return;
    };
    assert!(drawn.contains("generate [") && drawn.contains("places ("), "{drawn}");
    let import = format!("{bin} --database-url sqlite://{} import {}", db.display(), data.display());
    let drawn = on_a_terminal(&import).unwrap();
    let name = data.display().to_string();
    assert!(drawn.contains(&format!("{name} [")) && drawn.contains("resources ("), "{drawn}");
    assert!(drawn.contains("MiB"), "bytes read: {drawn}");

    // Not on a terminal: log lines only, no bar.
    let out = Command::new(bin)
        .args(["generate", "--locations", "500", "--output"])
        .arg(dir.join("x.ndjson"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains('\u{1b}') && !stderr.contains("generate ["), "{stderr}");
    assert!(stderr.contains("generated"), "{stderr}");
}
