//! The process's log: text lines (env_logger's layout), or one JSON object per line
//! (`--log-format json`) holding the time, level, target, message and the record's fields (the
//! access and audit lines carry theirs: request id, consumer, profile, status…; the application's
//! lines the request id or export id they are about).
//!
//! In text, a record's fields follow its message as `key=value`, except on the access and audit
//! lines, whose message already is their fields.

use std::io::Write;

use serde_json::{Map, Value};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `[time LEVEL target] message`.
    Text,
    /// One JSON object per line.
    Json,
}

/// Starts the log (filter from `RUST_LOG`, `info` by default).
pub fn init(format: LogFormat) {
    let mut builder = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    match format {
        LogFormat::Json => {
            builder.format(|buf, record| writeln!(buf, "{}", json_line(record, crate::base::clock::now_us())))
        }
        LogFormat::Text => builder.format(|buf, record| {
            let style = buf.default_level_style(record.level());
            let head = format!("[{} {style}{:<5}{style:#} {}] ", buf.timestamp(), record.level(), record.target());
            writeln!(buf, "{head}{}", text_line(record))
        }),
    };
    builder.init();
}

/// A record's message, then its fields as ` key=value` (not on access and audit lines, whose
/// message holds them already).
pub fn text_line(record: &log::Record<'_>) -> String {
    let mut line = record.args().to_string();
    if !matches!(record.target(), "access" | "audit") {
        let _ = record.key_values().visit(&mut TextFields(&mut line));
    }
    line
}

struct TextFields<'a>(&'a mut String);

impl<'kvs> log::kv::VisitSource<'kvs> for TextFields<'_> {
    fn visit_pair(&mut self, key: log::kv::Key<'kvs>, value: log::kv::Value<'kvs>) -> Result<(), log::kv::Error> {
        let v = value.to_string();
        if v.is_empty() || v.contains(|c: char| c.is_whitespace() || c == '"' || c == '=') {
            self.0.push_str(&format!(" {key}={v:?}"));
        } else {
            self.0.push_str(&format!(" {key}={v}"));
        }
        Ok(())
    }
}

/// One record as a JSON object: `time`, `level`, `target`, `message`, then its fields (a field
/// named like one of those four is written with a `field.` prefix).
pub fn json_line(record: &log::Record<'_>, now_us: i64) -> Value {
    let mut obj = Map::new();
    obj.insert("time".into(), Value::String(crate::base::instant::format_instant(now_us)));
    obj.insert("level".into(), Value::String(record.level().as_str().to_owned()));
    obj.insert("target".into(), Value::String(record.target().to_owned()));
    obj.insert("message".into(), Value::String(record.args().to_string()));
    let mut fields = Fields(&mut obj);
    // Visiting never fails (`Fields` accepts every pair).
    let _ = record.key_values().visit(&mut fields);
    Value::Object(obj)
}

struct Fields<'a>(&'a mut Map<String, Value>);

impl<'kvs> log::kv::VisitSource<'kvs> for Fields<'_> {
    fn visit_pair(&mut self, key: log::kv::Key<'kvs>, value: log::kv::Value<'kvs>) -> Result<(), log::kv::Error> {
        let v = if let Some(n) = value.to_u64() {
            Value::from(n)
        } else if let Some(n) = value.to_i64() {
            Value::from(n)
        } else if let Some(b) = value.to_bool() {
            Value::from(b)
        } else {
            Value::String(value.to_string())
        };
        let key = key.as_str();
        let key = if matches!(key, "time" | "level" | "target" | "message") {
            format!("field.{key}")
        } else {
            key.to_owned()
        };
        self.0.insert(key, v);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_one_json_object_with_its_fields() {
        let kvs: &[(&str, log::kv::Value<'_>)] = &[
            ("request_id", log::kv::Value::from("ab12")),
            ("status", log::kv::Value::from(200u64)),
            ("message", log::kv::Value::from("shadowed")),
        ];
        let args = format_args!("a \"quoted\" line\nand another");
        let record = log::Record::builder().args(args).level(log::Level::Info).target("audit").key_values(&kvs).build();
        let v = json_line(&record, 0);
        assert_eq!(v["time"], "1970-01-01T00:00:00Z");
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["target"], "audit");
        assert_eq!(v["message"], "a \"quoted\" line\nand another");
        assert_eq!(v["request_id"], "ab12");
        assert_eq!(v["status"], 200);
        assert_eq!(v["field.message"], "shadowed");
        let line = v.to_string();
        assert!(!line.contains('\n'), "one line: {line}");
    }

    #[test]
    fn text_lines_end_with_their_fields_except_access_and_audit_lines() {
        let kvs: &[(&str, log::kv::Value<'_>)] =
            &[("request_id", log::kv::Value::from("ab12")), ("why", log::kv::Value::from("two words"))];
        let line = |target: &str| {
            let args = format_args!("database error");
            text_line(&log::Record::builder().args(args).target(target).key_values(&kvs).build())
        };
        assert_eq!(line("ror_capacity::http"), "database error request_id=ab12 why=\"two words\"");
        assert_eq!(line("audit"), "database error");
        assert_eq!(line("access"), "database error");
    }
}
