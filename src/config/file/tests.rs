use std::collections::BTreeSet;

use clap::{Arg, ArgAction, Command, value_parser};

use super::*;

/// A command shaped like the binary's: global options, `serve` with a number, a list, a flag, an
/// optional value, a secret and a hidden option, and another subcommand.
fn command() -> Command {
    Command::new("ror-capacity")
        .arg(Arg::new("database_url").long("database-url").global(true).default_value("sqlite://x.db"))
        .arg(Arg::new("config").long("config").global(true))
        .subcommand(
            Command::new("serve")
                .arg(Arg::new("pool_size").long("pool-size").value_parser(value_parser!(u32)).default_value("8"))
                .arg(Arg::new("read").long("read-database-url").action(ArgAction::Append))
                .arg(Arg::new("demo").long("demo").action(ArgAction::SetTrue))
                .arg(Arg::new("base_url").long("base-url").help("Public base URL."))
                .arg(Arg::new("secret").long("cursor-secret").hide_env_values(true))
                .arg(Arg::new("ceiling").long("bench-ceiling").hide(true))
                .arg(Arg::new("print").long("print-config").action(ArgAction::SetTrue)),
        )
        .subcommand(Command::new("generate").arg(Arg::new("seed").long("seed")))
}

fn parse(text: &str, argv: &[&str]) -> (clap::ArgMatches, BTreeSet<String>, Command) {
    let (cmd, keys) = apply_text(command(), "test.toml", text).expect("accepted");
    let m = cmd.clone().try_get_matches_from(argv).expect("parses");
    (m, keys, cmd)
}

fn serve_one<'a>(m: &'a clap::ArgMatches, id: &str) -> Option<&'a String> {
    m.subcommand_matches("serve").and_then(|s| s.get_one::<String>(id))
}

#[test]
fn a_file_sets_defaults_and_the_command_line_wins() {
    let text = r#"
        database-url = "postgres://u:pw@h/db"
        pool-size = 3
        read-database-url = ["postgres://r1/db", "postgres://r2/db"]
        demo = true
        base-url = "https://ror.example/fhir"
    "#;
    let (m, keys, _) = parse(text, &["ror-capacity", "serve"]);
    assert_eq!(keys.len(), 5);
    let s = m.subcommand_matches("serve").expect("serve");
    assert_eq!(s.get_one::<u32>("pool_size"), Some(&3));
    assert!(s.get_flag("demo"));
    let reads: Vec<&String> = s.get_many::<String>("read").expect("reads").collect();
    assert_eq!(reads, ["postgres://r1/db", "postgres://r2/db"]);
    assert_eq!(serve_one(&m, "base_url").map(String::as_str), Some("https://ror.example/fhir"));
    assert_eq!(s.get_one::<String>("database_url").map(String::as_str), Some("postgres://u:pw@h/db"));

    let (m, _, _) = parse(text, &["ror-capacity", "serve", "--pool-size", "5", "--database-url", "sqlite://y.db"]);
    let s = m.subcommand_matches("serve").expect("serve");
    assert_eq!(s.get_one::<u32>("pool_size"), Some(&5));
    assert_eq!(s.get_one::<String>("database_url").map(String::as_str), Some("sqlite://y.db"));
}

#[test]
fn unknown_keys_and_wrong_values_are_refused_with_the_key() {
    let refused = |text: &str| match apply_text(command(), "ror.toml", text) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("accepted: {text}"),
    };
    let e = refused("pool_size = 3");
    assert!(e.starts_with("ror.toml: unknown key \"pool_size\""), "{e}");
    assert!(e.contains("did you mean \"pool-size\""), "{e}");
    assert!(refused("poolsize = 3").contains("--print-config"));
    // Not settings: what to do this once, hidden options, another command's options.
    for key in ["config = \"x\"", "print-config = true", "bench-ceiling = 1", "seed = 1"] {
        assert!(refused(key).contains("unknown key"), "{key}");
    }
    let e = refused("pool-size = \"many\"");
    assert!(e.starts_with("ror.toml: pool-size: invalid value 'many' for '--pool-size"), "{e}");
    assert!(refused("pool-size = -1").contains("invalid value '-1'"));
    assert!(refused("demo = \"yes\"").contains("demo: expects true or false, not string"));
    assert!(refused("pool-size = true").contains("pool-size: expects a string or a number, not boolean"));
    assert!(refused("base-url = [\"a\", \"b\"]").contains("base-url: expects one value, not a list"));
    assert!(refused("[serve]\npool-size = 3").contains("unknown key \"serve\""));
    assert!(refused("pool-size = ").starts_with("ror.toml: not valid TOML"));
}

#[test]
fn the_settings_in_force_read_back_as_the_same_settings() {
    let text = "pool-size = 3\nread-database-url = [\"postgres://a:pw@r1/db\"]\nbase-url = \"https://h/fhir\"\n";
    let (m, keys, cmd) = parse(text, &["ror-capacity", "serve", "--demo", "--cursor-secret", "s3cret"]);
    let printed = describe(&cmd, &m, &keys, Some(Path::new("test.toml")));
    assert!(printed.contains("pool-size = 3   # file\n"), "{printed}");
    assert!(printed.contains("demo = true   # command line\n"), "{printed}");
    assert!(printed.contains("database-url = \"sqlite://x.db\"   # default\n"), "{printed}");
    assert!(printed.contains("read-database-url = [\"postgres://a:***@r1/db\"]   # file\n"), "{printed}");
    assert!(printed.contains("cursor-secret = \"<hidden>\"   # command line\n"), "{printed}");
    assert!(printed.contains("# Public base URL.\nbase-url = \"https://h/fhir\"   # file\n"), "{printed}");
    assert!(!printed.contains("s3cret") && !printed.contains(":pw@"), "{printed}");
    assert!(!printed.contains("bench-ceiling") && !printed.contains("print-config ="), "{printed}");

    // Read back (secrets aside), the printed file gives the same values.
    let back: String = printed
        .lines()
        .filter(|l| !l.starts_with("cursor-secret") && !l.starts_with("read-"))
        .map(|l| format!("{l}\n"))
        .collect();
    let (m2, keys2, _) = parse(&back, &["ror-capacity", "serve"]);
    assert!(keys2.contains("demo") && keys2.contains("pool-size") && keys2.contains("database-url"));
    let s2 = m2.subcommand_matches("serve").expect("serve");
    assert_eq!(s2.get_one::<u32>("pool_size"), Some(&3));
    assert!(s2.get_flag("demo"));
    assert_eq!(serve_one(&m2, "base_url").map(String::as_str), Some("https://h/fhir"));
}
