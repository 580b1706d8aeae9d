//! The configuration file (`--config FILE`, TOML). Each key is a long option of `serve` or a
//! global option, without its dashes (`pool-size = 8`, `read-database-url = ["postgres://…"]`,
//! `demo = true`). A file's values become the options' defaults, so an option given on the command
//! line, then one from the environment, wins over the file, which wins over the built-in default.
//! Unknown keys, values of the wrong kind and values the option refuses are reported with the
//! file's name and the key, before anything starts.
//!
//! The same description of the options prints the settings in force ([`describe`]), as a file
//! that can be read back, each value with where it came from.

use std::collections::BTreeSet;
use std::path::Path;

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command};

/// The subcommand whose options a file sets (the global options are set too).
pub const SUBCOMMAND: &str = "serve";

/// Options that are not settings: they say what to do this once.
const NOT_SETTINGS: &[&str] = &["config", "print-config", "help", "version"];

/// Why a configuration file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    /// The file could not be read.
    #[error("{file}: cannot read: {source}")]
    Read {
        /// The file.
        file: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The file is not TOML.
    #[error("{file}: not valid TOML: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// The parser's message (with the line).
        message: String,
    },
    /// A key is unknown, or its value cannot be used.
    #[error("{file}: {message}")]
    Setting {
        /// The file.
        file: String,
        /// What is wrong, naming the key.
        message: String,
    },
}

/// The options a file may set: the root's and [`SUBCOMMAND`]'s visible long options (true for a
/// global one), in the order `--help` lists them.
pub fn settings(cmd: &Command) -> Vec<(bool, &Arg)> {
    let is_setting =
        |a: &&Arg| !a.is_hide_set() && !a.is_positional() && a.get_long().is_some_and(|l| !NOT_SETTINGS.contains(&l));
    let root = cmd.get_arguments().filter(is_setting).map(|a| (true, a));
    let sub = cmd.find_subcommand(SUBCOMMAND).into_iter().flat_map(|s| s.get_arguments().filter(is_setting));
    root.chain(sub.map(|a| (false, a))).collect()
}

/// Reads `path` and makes its values the defaults of `cmd`'s options; returns the command and the
/// keys the file set.
pub fn apply(cmd: Command, path: &Path) -> Result<(Command, BTreeSet<String>), ConfigFileError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigFileError::Read { file: file.clone(), source })?;
    apply_text(cmd, &file, &text)
}

/// [`apply`] on the text of a file named `file`.
pub fn apply_text(mut cmd: Command, file: &str, text: &str) -> Result<(Command, BTreeSet<String>), ConfigFileError> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigFileError::Syntax { file: file.to_owned(), message: e.to_string() })?;
    let refuse = |message: String| ConfigFileError::Setting { file: file.to_owned(), message };
    let mut keys = BTreeSet::new();
    for (key, value) in &table {
        let found = settings(&cmd).into_iter().find(|(_, a)| a.get_long() == Some(key.as_str()));
        let Some((global, arg)) = found else { return Err(refuse(unknown(&cmd, key))) };
        let values = values_of(arg, value).map_err(|m| refuse(format!("{key}: {m}")))?;
        check(arg, &values).map_err(|m| refuse(format!("{key}: {m}")))?;
        let id = arg.get_id().to_string();
        let set = move |a: Arg| {
            if values.len() == 1 && !is_list(&a) {
                a.default_value(values[0].clone())
            } else {
                a.default_values(values)
            }
        };
        cmd = if global { cmd.mut_arg(&id, set) } else { cmd.mut_subcommand(SUBCOMMAND, |s| s.mut_arg(&id, set)) };
        keys.insert(key.clone());
    }
    Ok((cmd, keys))
}

fn is_list(arg: &Arg) -> bool {
    matches!(arg.get_action(), ArgAction::Append)
}

fn unknown(cmd: &Command, key: &str) -> String {
    let dashed = key.replace('_', "-");
    let hint = if settings(cmd).iter().any(|(_, a)| a.get_long() == Some(dashed.as_str())) {
        format!(" (did you mean {dashed:?}? keys are the options' names)")
    } else {
        format!(" (`ror-capacity {SUBCOMMAND} --print-config` lists the keys)")
    };
    format!("unknown key {key:?}{hint}")
}

/// The option's values from a TOML value: `true`/`false` for a flag, a list (or one value) for a
/// repeatable option, one string or number otherwise.
fn values_of(arg: &Arg, value: &toml::Value) -> Result<Vec<String>, String> {
    use toml::Value as V;
    let scalar = |v: &V| match v {
        V::String(s) => Ok(s.clone()),
        V::Integer(i) => Ok(i.to_string()),
        V::Float(f) => Ok(f.to_string()),
        _ => Err(format!("expects a string or a number, not {}", v.type_str())),
    };
    match (arg.get_action(), value) {
        (ArgAction::SetTrue, V::Boolean(b)) => Ok(vec![b.to_string()]),
        (ArgAction::SetTrue, v) => Err(format!("expects true or false, not {}", v.type_str())),
        (ArgAction::Append, V::Array(items)) => items.iter().map(scalar).collect(),
        (_, V::Array(_)) => Err("expects one value, not a list".into()),
        (_, v) => scalar(v).map(|s| vec![s]),
    }
}

/// Runs the option's own parser on the values (as if given on the command line).
fn check(arg: &Arg, values: &[String]) -> Result<(), String> {
    let (Some(long), false) = (arg.get_long(), matches!(arg.get_action(), ArgAction::SetTrue)) else { return Ok(()) };
    if values.is_empty() {
        return Ok(());
    }
    let probe = Command::new("config")
        .no_binary_name(true)
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(arg.clone().required(false).global(false));
    let argv = values.iter().map(|v| format!("--{long}={v}"));
    probe.try_get_matches_from(argv).map(|_| ()).map_err(|e| {
        let text = e.render().to_string();
        let first = text.lines().next().unwrap_or_default();
        first.strip_prefix("error: ").unwrap_or(first).to_owned()
    })
}

/// The settings in force, as a configuration file: each option's help as a comment, its value, and
/// where the value came from. Secrets are not printed (`<hidden>`; database URLs without their
/// password), and options without a value are commented out.
pub fn describe(cmd: &Command, matches: &ArgMatches, from_file: &BTreeSet<String>, file: Option<&Path>) -> String {
    let mut out = String::from("# ror-capacity settings in force: command line > environment > ");
    out.push_str(&file.map_or_else(|| "(no --config file)".to_owned(), |f| format!("file {}", f.display())));
    out.push_str(" > defaults\n");
    let sub = matches.subcommand_matches(SUBCOMMAND);
    for (global, arg) in settings(cmd) {
        let Some(long) = arg.get_long() else { continue };
        let m = if global { Some(matches) } else { sub };
        let id = arg.get_id().as_str();
        let raw: Option<Vec<String>> =
            m.and_then(|m| m.get_raw(id)).map(|vs| vs.map(|v| v.to_string_lossy().into_owned()).collect());
        if let Some(help) = arg.get_help() {
            out.push_str(&format!("\n# {help}\n"));
        }
        let source = match m.and_then(|m| m.value_source(id)) {
            Some(ValueSource::CommandLine) => "command line".to_owned(),
            Some(ValueSource::EnvVariable) => {
                format!("environment {}", arg.get_env().map(|e| e.to_string_lossy()).unwrap_or_default())
            }
            Some(ValueSource::DefaultValue) if from_file.contains(long) => "file".to_owned(),
            _ => "default".to_owned(),
        };
        match raw {
            None => out.push_str(&format!("# {long} =   (not set)\n")),
            Some(values) => out.push_str(&format!("{long} = {}   # {source}\n", render(arg, long, &values))),
        }
    }
    out
}

fn render(arg: &Arg, long: &str, values: &[String]) -> String {
    let shown = |v: &String| -> String {
        if long.ends_with("database-url") {
            let url = super::database::DbUrl::parse(v).map_or_else(|_| "<hidden>".to_owned(), |u| u.redacted());
            return quoted(&url);
        }
        if arg.is_hide_env_values_set() {
            return quoted("<hidden>");
        }
        match (arg.get_action(), v.parse::<i64>()) {
            (ArgAction::SetTrue, _) => v.clone(),
            (_, Ok(n)) => n.to_string(),
            _ => quoted(v),
        }
    };
    if is_list(arg) {
        format!("[{}]", values.iter().map(shown).collect::<Vec<_>>().join(", "))
    } else {
        values.first().map(shown).unwrap_or_default()
    }
}

/// A TOML basic string (JSON's escapes are all TOML escapes).
fn quoted(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

#[cfg(test)]
mod tests;
