//! The recursive-descent parser of `_filter` expressions (see the parent module for the grammar).

use super::{FilterError, FilterExpr, FilterLimits, FilterOp, QUOTE_LIMIT, error, too_costly};

/// The parameter and operator a bare value after `expr` would take (ROR shorthand).
fn shorthand_key(expr: &FilterExpr) -> Option<(String, FilterOp)> {
    match expr {
        FilterExpr::Test { param, op, .. } => Some((param.clone(), *op)),
        _ => None,
    }
}

/// A logical connective.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Logic {
    And,
    Or,
}

/// `left logic right`, flattening same-kind nodes on either side.
fn combine(logic: Logic, left: FilterExpr, right: FilterExpr) -> FilterExpr {
    let mut items = match (logic, left) {
        (Logic::And, FilterExpr::And(items)) | (Logic::Or, FilterExpr::Or(items)) => items,
        (_, other) => vec![other],
    };
    match (logic, right) {
        (Logic::And, FilterExpr::And(more)) | (Logic::Or, FilterExpr::Or(more)) => items.extend(more),
        (_, other) => items.push(other),
    }
    match logic {
        Logic::And => FilterExpr::And(items),
        Logic::Or => FilterExpr::Or(items),
    }
}

/// `s` in double quotes, cut to [`QUOTE_LIMIT`] characters.
fn quote(s: &str) -> String {
    let mut out: String = s.chars().take(QUOTE_LIMIT).collect();
    if s.chars().nth(QUOTE_LIMIT).is_some() {
        out.push('…');
    }
    format!("\"{out}\"")
}

/// Whether `c` may continue a parameter name (`nameChar`).
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// A hint for a keyword or operator written in another case than lower case.
fn case_hint(word: &str, lower_forms: &[&str]) -> &'static str {
    if word != word.to_ascii_lowercase() && lower_forms.contains(&word.to_ascii_lowercase().as_str()) {
        " (write it in lower case)"
    } else {
        ""
    }
}

/// Recursive-descent parser over the input's characters (positions are character offsets).
pub(super) struct Parser {
    pub(super) chars: Vec<char>,
    pub(super) pos: usize,
    /// With `max_depth` already capped at [`super::MAX_DEPTH_CEILING`].
    pub(super) limits: FilterLimits,
    pub(super) tests: usize,
}

impl Parser {
    /// `operand (("and" / "or") operand)*`, left to right; stops at the end or at a `)`.
    pub(super) fn parse_chain(&mut self, depth: usize) -> Result<FilterExpr, FilterError> {
        let mut acc = self.parse_operand(depth, None, None)?;
        let mut last = shorthand_key(&acc);
        loop {
            self.skip_ws();
            if matches!(self.peek(), None | Some(')')) {
                return Ok(acc);
            }
            let logic = self.parse_connective(depth)?;
            self.skip_ws();
            let operand = self.parse_operand(depth, Some(logic), last.as_ref())?;
            last = shorthand_key(&operand);
            acc = combine(logic, acc, operand);
        }
    }

    /// A group, a `not(...)`, a test, or (after a connective following a test) a bare value.
    fn parse_operand(
        &mut self,
        depth: usize,
        after: Option<Logic>,
        last: Option<&(String, FilterOp)>,
    ) -> Result<FilterExpr, FilterError> {
        let start = self.pos;
        match self.peek() {
            None | Some(')') => {
                let message = match after {
                    Some(Logic::And) => "missing test after \"and\"",
                    Some(Logic::Or) => "missing test after \"or\"",
                    None => "missing test",
                };
                return Err(error(start, message));
            }
            Some('(') => return self.parse_group(depth),
            Some(_) => {}
        }
        if let Some(open) = self.not_keyword() {
            self.pos = open;
            return Ok(FilterExpr::Not(Box::new(self.parse_group(depth)?)));
        }
        if after.is_none() || !self.looks_like_bare_value() {
            return self.parse_test();
        }
        let Some((param, op)) = last else {
            let found = self.quote_word(start);
            return Err(error(start, format!("expected \"param op value\", found the bare value {found}")));
        };
        let value = self.parse_value()?;
        self.count_test(start)?;
        Ok(FilterExpr::Test { param: param.clone(), op: *op, value })
    }

    /// `"(" chain ")"` at the current `(`; the depth is checked before descending.
    fn parse_group(&mut self, depth: usize) -> Result<FilterExpr, FilterError> {
        let open = self.pos;
        if depth >= self.limits.max_depth {
            return Err(too_costly(open, format!("filter nested deeper than {} levels", self.limits.max_depth)));
        }
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(')') {
            return Err(error(open, "empty parentheses"));
        }
        let inner = self.parse_chain(depth + 1)?;
        if self.peek() != Some(')') {
            return Err(error(open, "unbalanced parentheses: missing \")\" for this \"(\""));
        }
        self.pos += 1;
        Ok(inner)
    }

    /// `paramPath SP compareOp SP compValue`.
    fn parse_test(&mut self) -> Result<FilterExpr, FilterError> {
        let start = self.pos;
        let param = self.parse_path()?;
        if matches!(self.peek(), None | Some(')')) {
            return Err(error(self.pos, format!("missing operator after {}", quote(&param))));
        }
        self.skip_ws();
        let op = self.parse_operator()?;
        let op_end = self.pos;
        self.skip_ws();
        if matches!(self.peek(), None | Some(')')) {
            return Err(error(self.pos, format!("missing value after operator \"{}\"", op.as_str())));
        }
        if self.pos == op_end {
            return Err(error(self.pos, format!("expected a space after operator \"{}\"", op.as_str())));
        }
        let value = self.parse_value()?;
        self.count_test(start)?;
        Ok(FilterExpr::Test { param, op, value })
    }

    /// Counts one more test, starting at `start`, against the limit.
    fn count_test(&mut self, start: usize) -> Result<(), FilterError> {
        self.tests += 1;
        if self.tests > self.limits.max_tests {
            return Err(too_costly(start, format!("filter has more than {} tests", self.limits.max_tests)));
        }
        Ok(())
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    pub(super) fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// End of the run of characters from `from` that satisfy `keep`.
    fn run_end(&self, from: usize, keep: impl Fn(char) -> bool) -> usize {
        let mut end = from;
        while self.chars.get(end).copied().is_some_and(&keep) {
            end += 1;
        }
        end
    }

    fn text(&self, from: usize, to: usize) -> String {
        self.chars.get(from..to).map(|s| s.iter().collect()).unwrap_or_default()
    }

    /// The non-whitespace text from `start` (at least one character), quoted for a message.
    fn quote_word(&self, start: usize) -> String {
        if start >= self.chars.len() {
            return "the end".to_owned();
        }
        let end = self.run_end(start, |c| !c.is_whitespace()).max(start + 1);
        quote(&self.text(start, end.min(start + QUOTE_LIMIT + 1)))
    }

    /// If the `not` keyword starts here, followed by a `(` (spaces allowed), that `(`'s position.
    fn not_keyword(&self) -> Option<usize> {
        let word_end = self.run_end(self.pos, |c| c.is_ascii_alphabetic());
        if self.text(self.pos, word_end) != "not" {
            return None;
        }
        let open = self.run_end(word_end, char::is_whitespace);
        (self.chars.get(open) == Some(&'(')).then_some(open)
    }

    /// Whether the operand here is a bare value (ROR shorthand) rather than a test: a string, a
    /// word that cannot start a parameter path, or one followed by the end, `)`, `and` or `or`.
    fn looks_like_bare_value(&self) -> bool {
        match self.peek() {
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
            _ => return true,
        }
        let name_end = self.run_end(self.pos, |c| is_name_char(c) || c == '.');
        match self.chars.get(name_end) {
            None | Some(')') => return true,
            Some('[') => return false,
            Some(c) if !c.is_whitespace() => return true,
            Some(_) => {}
        }
        let next = self.run_end(name_end, char::is_whitespace);
        if matches!(self.chars.get(next), None | Some(')')) {
            return true;
        }
        self.connective_at(next).is_some()
    }

    /// The `and` / `or` keyword at `at` (followed by whitespace, `(` or the end), and its end.
    fn connective_at(&self, at: usize) -> Option<(Logic, usize)> {
        let end = self.run_end(at, |c| c.is_ascii_alphabetic());
        let logic = match self.text(at, end).as_str() {
            "and" => Logic::And,
            "or" => Logic::Or,
            _ => return None,
        };
        self.chars.get(end).is_none_or(|c| c.is_whitespace() || *c == '(').then_some((logic, end))
    }

    /// `and` or `or`, after an operand.
    fn parse_connective(&mut self, depth: usize) -> Result<Logic, FilterError> {
        let start = self.pos;
        if let Some((logic, end)) = self.connective_at(start) {
            self.pos = end;
            return Ok(logic);
        }
        let expected = if depth > 0 { "\"and\", \"or\" or \")\"" } else { "\"and\", \"or\" or the end" };
        let found = self.quote_word(start);
        let word = self.text(start, self.run_end(start, |c| c.is_ascii_alphabetic()));
        let hint = case_hint(&word, &["and", "or"]);
        Err(error(start, format!("expected {expected}, found {found}{hint}")))
    }

    /// `paramName ("." paramName)*`; stops before whitespace, `)` or the end.
    fn parse_path(&mut self) -> Result<String, FilterError> {
        let start = self.pos;
        loop {
            if !self.peek().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') {
                let found = self.quote_word(self.pos);
                return Err(error(self.pos, format!("expected a parameter name, found {found}")));
            }
            self.pos = self.run_end(self.pos, is_name_char);
            match self.peek() {
                Some('.') => self.pos += 1,
                Some('[') => return Err(error(self.pos, "sub-filters (\"[...]\") are not supported")),
                Some(':') => return Err(error(self.pos, "modifiers (\":\") are not supported in _filter")),
                Some(c) if !c.is_whitespace() && c != ')' => {
                    let found = quote(&c.to_string());
                    return Err(error(self.pos, format!("unexpected {found} in a parameter name")));
                }
                _ => return Ok(self.text(start, self.pos)),
            }
        }
    }

    /// One of the operator words.
    fn parse_operator(&mut self) -> Result<FilterOp, FilterError> {
        let start = self.pos;
        let end = self.run_end(start, |c| !c.is_whitespace() && !matches!(c, '(' | ')' | '[' | ']' | '"'));
        let word = self.text(start, end);
        if word.is_empty() {
            let found = self.quote_word(start);
            return Err(error(start, format!("expected an operator, found {found}")));
        }
        let Some(op) = FilterOp::parse(&word) else {
            let names: Vec<&str> = FilterOp::ALL.iter().map(|op| op.as_str()).collect();
            let hint = case_hint(&word, &names);
            return Err(error(start, format!("unknown operator {}{hint}", quote(&word))));
        };
        self.pos = end;
        Ok(op)
    }

    /// A JSON string or a token; the caller has checked that a value starts here.
    fn parse_value(&mut self) -> Result<String, FilterError> {
        if self.peek() == Some('"') {
            let value = self.parse_string()?;
            if self.peek().is_some_and(|c| !c.is_whitespace() && c != ')') {
                return Err(error(self.pos, "expected a space after the closing quote"));
            }
            return Ok(value);
        }
        let start = self.pos;
        let end = self.run_end(start, |c| !c.is_whitespace() && c != ')' && c != ']');
        if end == start {
            let found = self.quote_word(start);
            return Err(error(start, format!("expected a value, found {found}")));
        }
        self.pos = end;
        Ok(self.text(start, end))
    }

    /// A JSON string at the current `"`: its unescaped content.
    fn parse_string(&mut self) -> Result<String, FilterError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(error(open, "unterminated string")),
                Some('"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some('\\') => out.push(self.parse_escape(open)?),
                Some(c) if c < ' ' => return Err(error(self.pos, "control character in a string")),
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// The escape at the current `\` of the string opened at `open`.
    fn parse_escape(&mut self, open: usize) -> Result<char, FilterError> {
        let at = self.pos;
        let Some(code) = self.chars.get(at + 1).copied() else {
            return Err(error(open, "unterminated string"));
        };
        self.pos += 2;
        let c = match code {
            '"' | '\\' | '/' => code,
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => return self.parse_unicode_escape(at),
            other => return Err(error(at, format!("invalid escape {} in a string", quote(&format!("\\{other}"))))),
        };
        Ok(c)
    }

    /// The rest of a `\uXXXX` escape that started at `at` (a surrogate pair takes two).
    fn parse_unicode_escape(&mut self, at: usize) -> Result<char, FilterError> {
        let bad = || error(at, "invalid \\u escape in a string");
        let high = self.hex4().ok_or_else(bad)?;
        let code = if (0xD800..0xDC00).contains(&high) {
            if self.text(self.pos, self.pos + 2) != "\\u" {
                return Err(bad());
            }
            self.pos += 2;
            let low = self.hex4().ok_or_else(bad)?;
            if !(0xDC00..0xE000).contains(&low) {
                return Err(bad());
            }
            0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
        } else {
            high
        };
        char::from_u32(code).ok_or_else(bad)
    }

    /// Four hex digits here, as a number.
    fn hex4(&mut self) -> Option<u32> {
        let digits = self.chars.get(self.pos..self.pos + 4)?;
        let mut value = 0;
        for c in digits {
            value = value * 16 + c.to_digit(16)?;
        }
        self.pos += 4;
        Some(value)
    }
}
