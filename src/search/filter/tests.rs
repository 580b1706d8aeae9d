//! Tests of the `_filter` parser.
use super::*;

fn ok(input: &str) -> FilterExpr {
    match parse_filter(input, FilterLimits::default()) {
        Ok(expr) => expr,
        Err(err) => panic!("{input:?} should parse, got: {err}"),
    }
}

fn err(input: &str) -> FilterError {
    match parse_filter(input, FilterLimits::default()) {
        Ok(expr) => panic!("{input:?} should fail, got: {expr:?}"),
        Err(err) => err,
    }
}

/// Asserts that `input` fails at `position` with a message containing `needle`.
fn fails(input: &str, position: usize, needle: &str) {
    let e = err(input);
    assert!(e.message.contains(needle), "{input:?}: message {:?} lacks {needle:?}", e.message);
    assert_eq!(e.position, position, "{input:?}: {e}");
}

fn t(param: &str, op: FilterOp, value: &str) -> FilterExpr {
    FilterExpr::Test { param: param.to_owned(), op, value: value.to_owned() }
}

fn eq(param: &str, value: &str) -> FilterExpr {
    t(param, FilterOp::Eq, value)
}

/// Writes `expr` back, fully parenthesised, values as JSON strings.
fn render(expr: &FilterExpr) -> String {
    let join = |items: &[FilterExpr], sep: &str| {
        let parts: Vec<String> = items
            .iter()
            .map(|e| match e {
                FilterExpr::And(_) | FilterExpr::Or(_) => format!("({})", render(e)),
                _ => render(e),
            })
            .collect();
        parts.join(sep)
    };
    match expr {
        FilterExpr::And(items) => join(items, " and "),
        FilterExpr::Or(items) => join(items, " or "),
        FilterExpr::Not(inner) => format!("not ({})", render(inner)),
        FilterExpr::Test { param, op, value } => {
            let mut quoted = String::new();
            for c in value.chars() {
                match c {
                    '"' => quoted.push_str("\\\""),
                    '\\' => quoted.push_str("\\\\"),
                    c if c < ' ' => quoted.push_str(&format!("\\u{:04x}", u32::from(c))),
                    c => quoted.push(c),
                }
            }
            format!("{param} {} \"{quoted}\"", op.as_str())
        }
    }
}

#[test]
fn every_operator_is_parsed_and_named() {
    assert_eq!(FilterOp::ALL.len(), 19);
    for op in FilterOp::ALL {
        assert_eq!(op.as_str(), format!("{op:?}").to_lowercase());
        assert_eq!(FilterOp::parse(op.as_str()), Some(op));
        assert_eq!(FilterOp::parse(&op.as_str().to_uppercase()), None);
        assert_eq!(ok(&format!("code {} x", op.as_str())), t("code", op, "x"));
    }
    assert_eq!(FilterOp::parse("eqq"), None);
    assert_eq!(FilterOp::parse(""), None);
}

#[test]
fn spec_examples() {
    assert_eq!(ok("name co \"pet\""), t("name", FilterOp::Co, "pet"));
    let both = ok("given eq \"peter\" and birthdate ge 2014-10-10");
    assert_eq!(both, FilterExpr::And(vec![eq("given", "peter"), t("birthdate", FilterOp::Ge, "2014-10-10")]));
    assert_eq!(ok("code eq http://loinc.org|1234-5"), eq("code", "http://loinc.org|1234-5"));
    assert_eq!(ok("subject.name co \"pet\""), t("subject.name", FilterOp::Co, "pet"));
}

#[test]
fn quoted_strings_unescape() {
    assert_eq!(ok(r#"name eq "a b (c) ]d [e""#), eq("name", "a b (c) ]d [e"));
    assert_eq!(ok(r#"name eq "say \"hi\" \\ a\/b""#), eq("name", r#"say "hi" \ a/b"#));
    assert_eq!(ok(r#"name eq "\b\f\n\r\t""#), eq("name", "\u{8}\u{c}\n\r\t"));
    assert_eq!(ok(r#"name eq "\u00e9t\u00C9 \ud83d\ude00""#), eq("name", "étÉ 😀"));
    assert_eq!(ok(r#"name eq """#), eq("name", ""));
    assert_eq!(ok(r#"name eq "and" or "or""#), FilterExpr::Or(vec![eq("name", "and"), eq("name", "or")]));
    assert_eq!(ok(r#"(name eq "x)")"#), eq("name", "x)"));
    assert_eq!(ok("name eq \"Saint-Étienne\""), eq("name", "Saint-Étienne"));
}

#[test]
fn tokens_keep_their_text() {
    assert_eq!(ok("identifier eq http://x|01"), eq("identifier", "http://x|01"));
    assert_eq!(ok("_id eq 52/192675"), eq("_id", "52/192675"));
    assert_eq!(ok("_lastUpdated ge 2026-01-01T10:00:00Z"), t("_lastUpdated", FilterOp::Ge, "2026-01-01T10:00:00Z"));
    assert_eq!(
        ok("_lastUpdated ge 2026-01-01T10:00:00+02:00"),
        t("_lastUpdated", FilterOp::Ge, "2026-01-01T10:00:00+02:00")
    );
    assert_eq!(ok("x eq a(b"), eq("x", "a(b"));
    assert_eq!(ok("x eq a\"b"), eq("x", "a\"b"));
    assert_eq!(ok("(x eq -1.5e3)"), eq("x", "-1.5e3"));
    assert_eq!(ok("location.capacity-type eq 1"), eq("location.capacity-type", "1"));
    assert_eq!(ok("x pr true"), t("x", FilterOp::Pr, "true"));
}

#[test]
fn whitespace_is_flexible() {
    let expected = FilterExpr::And(vec![eq("a", "1"), eq("b", "2")]);
    assert_eq!(ok("  a eq 1 and b eq 2  "), expected);
    assert_eq!(ok("a   eq\t1\nand  b eq   2"), expected);
    assert_eq!(ok("(  a eq 1  )and(b eq 2 )"), expected);
    assert_eq!(ok("a eq 1 and(b eq 2)"), expected);
    // `+` is not a space: the caller URL-decodes first.
    fails("a+eq+1", 1, "unexpected \"+\"");
}

#[test]
fn no_precedence_between_and_and_or() {
    let (a, b, c) = (eq("a", "1"), eq("b", "2"), eq("c", "3"));
    let or_then_and = FilterExpr::And(vec![FilterExpr::Or(vec![a.clone(), b.clone()]), c.clone()]);
    assert_eq!(ok("a eq 1 or b eq 2 and c eq 3"), or_then_and);
    let and_then_or = FilterExpr::Or(vec![FilterExpr::And(vec![a.clone(), b.clone()]), c.clone()]);
    assert_eq!(ok("a eq 1 and b eq 2 or c eq 3"), and_then_or);
    let grouped = FilterExpr::And(vec![a.clone(), FilterExpr::Or(vec![b.clone(), c.clone()])]);
    assert_eq!(ok("a eq 1 and (b eq 2 or c eq 3)"), grouped);
}

#[test]
fn same_kind_nodes_are_flattened() {
    let tests: Vec<FilterExpr> = ["a", "b", "c", "d"].iter().map(|p| eq(p, "1")).collect();
    assert_eq!(ok("a eq 1 and b eq 1 and c eq 1"), FilterExpr::And(tests[..3].to_vec()));
    assert_eq!(ok("(a eq 1 and b eq 1) and (c eq 1 and d eq 1)"), FilterExpr::And(tests.clone()));
    assert_eq!(ok("a eq 1 or (b eq 1 or (c eq 1 or d eq 1))"), FilterExpr::Or(tests.clone()));
    let mixed = ok("(a eq 1 or b eq 1) and (c eq 1 or d eq 1)");
    let expected = FilterExpr::And(vec![FilterExpr::Or(tests[..2].to_vec()), FilterExpr::Or(tests[2..].to_vec())]);
    assert_eq!(mixed, expected);
}

#[test]
fn not_and_nested_parentheses() {
    let a = eq("a", "1");
    let not_a = FilterExpr::Not(Box::new(a.clone()));
    assert_eq!(ok("not(a eq 1)"), not_a);
    assert_eq!(ok("not (a eq 1)"), not_a);
    assert_eq!(ok("not  ( a eq 1 )"), not_a);
    assert_eq!(ok("not(not(a eq 1))"), FilterExpr::Not(Box::new(not_a.clone())));
    let b = eq("b", "2");
    let not_or = FilterExpr::Not(Box::new(FilterExpr::Or(vec![a.clone(), b.clone()])));
    assert_eq!(ok("not (a eq 1 or b eq 2) and c eq 3"), FilterExpr::And(vec![not_or, eq("c", "3")]));
    assert_eq!(ok("b eq 2 and not(a eq 1)"), FilterExpr::And(vec![b.clone(), not_a]));
    assert_eq!(ok("((a eq 1))"), a);
    assert_eq!(ok("(((a eq 1) or (b eq 2)))"), FilterExpr::Or(vec![a.clone(), b.clone()]));
    // `not` without a parenthesis is a parameter name.
    assert_eq!(ok("not eq 1"), eq("not", "1"));
    assert_eq!(ok("note eq 1"), eq("note", "1"));
}

#[test]
fn ror_shorthand_repeats_the_previous_test() {
    assert_eq!(ok("(_id eq 140 or 141)"), FilterExpr::Or(vec![eq("_id", "140"), eq("_id", "141")]));
    let postal = FilterExpr::Or(vec![eq("address-postalcode", "22"), eq("address-postalcode", "29")]);
    assert_eq!(ok("(address-postalcode eq \"22\" or \"29\")"), postal);
    let three = FilterExpr::Or(vec![t("x", FilterOp::Sw, "1"), t("x", FilterOp::Sw, "2"), t("x", FilterOp::Sw, "3")]);
    assert_eq!(ok("x sw 1 or 2 or 3"), three);
    assert_eq!(ok("a ne 1 and 2"), FilterExpr::And(vec![t("a", FilterOp::Ne, "1"), t("a", FilterOp::Ne, "2")]));
    assert_eq!(
        ok("status eq active or inactive"),
        FilterExpr::Or(vec![eq("status", "active"), eq("status", "inactive")])
    );
    let word_then_and = ok("status eq active or inactive and b eq 2");
    let or = FilterExpr::Or(vec![eq("status", "active"), eq("status", "inactive")]);
    assert_eq!(word_then_and, FilterExpr::And(vec![or, eq("b", "2")]));
    assert_eq!(ok("a eq 1 or http://x|2"), FilterExpr::Or(vec![eq("a", "1"), eq("a", "http://x|2")]));
    assert_eq!(ok("a eq 1 or b eq 2 or 3"), FilterExpr::Or(vec![eq("a", "1"), eq("b", "2"), eq("b", "3")]));
    assert_eq!(ok("(a eq 1) or 2"), FilterExpr::Or(vec![eq("a", "1"), eq("a", "2")]));
}

#[test]
fn bare_value_needs_a_test_before_it() {
    fails("141", 0, "expected a parameter name, found \"141\"");
    fails("\"22\" or \"29\"", 0, "expected a parameter name");
    fails("(141 or _id eq 2)", 1, "parameter name");
    fails("not(a eq 1) or 2", 15, "bare value");
    fails("(a eq 1 or b eq 2) or 3", 22, "bare value");
}

#[test]
fn structural_errors() {
    fails("", 0, "empty filter");
    fails("   \t ", 0, "empty filter");
    fails("(a eq 1", 0, "missing \")\"");
    fails("((a eq 1)", 0, "missing \")\"");
    fails("(a eq 1 or (b eq 2)", 0, "unbalanced");
    fails("a eq 1)", 6, "unexpected \")\"");
    fails("(a eq 1))", 8, "unbalanced");
    fails("()", 0, "empty parentheses");
    fails("not()", 3, "empty parentheses");
    fails("a eq 1 and", 10, "missing test after \"and\"");
    fails("(a eq 1 or )", 11, "missing test after \"or\"");
    fails("a eq 1 b eq 2", 7, "expected \"and\", \"or\" or the end");
    fails("(a eq 1 b eq 2)", 8, "\"and\", \"or\" or \")\"");
    fails("a eq 1 AND b eq 2", 7, "lower case");
    fails("a eq 1 andb eq 2", 7, "found \"andb\"");
    fails("a eq 1 ]", 7, "found \"]\"");
}

#[test]
fn test_errors() {
    fails("a eqq 1", 2, "unknown operator \"eqq\"");
    fails("a EQ 1", 2, "lower case");
    fails("a = 1", 2, "unknown operator \"=\"");
    fails("a", 1, "missing operator");
    fails("(a)", 2, "missing operator");
    fails("a eq", 4, "missing value");
    fails("a eq   ", 7, "missing value");
    fails("(a eq )", 6, "missing value");
    fails("a eq(1)", 4, "space after operator");
    fails("a eq \"x\"y", 8, "space after the closing quote");
    fails("a eq ]", 5, "expected a value");
    fails("1a eq 1", 0, "parameter name");
    fails("a..b eq 1", 2, "parameter name");
    fails("a. eq 1", 2, "parameter name");
    fails("a/b eq 1", 1, "unexpected \"/\"");
    fails("identifier[system eq x].value eq 1", 10, "sub-filters");
    fails("a eq 1 or identifier[system eq x].value eq 1", 20, "sub-filters");
    fails("name:exact eq x", 4, "modifiers");
}

#[test]
fn string_errors() {
    fails("a eq \"abc", 5, "unterminated string");
    fails("a eq \"abc\\", 5, "unterminated string");
    fails("a eq \"abc\\\"", 5, "unterminated string");
    fails("a eq \"a\\xb\"", 7, "invalid escape \"\\x\"");
    fails("a eq \"\\u12\"", 6, "invalid \\u escape");
    fails("a eq \"\\u12g4\"", 6, "invalid \\u escape");
    fails("a eq \"\\ud800\"", 6, "invalid \\u escape");
    fails("a eq \"\\ud800\\u0041\"", 6, "invalid \\u escape");
    fails("a eq \"\\udc00\"", 6, "invalid \\u escape");
    fails("a eq \"a\tb\"", 7, "control character");
}

#[test]
fn positions_are_character_offsets() {
    fails("a eq \"éé", 5, "unterminated");
    fails("a eq ééé xx", 9, "found \"xx\"");
    assert_eq!(ok("a eq é or è"), FilterExpr::Or(vec![eq("a", "é"), eq("a", "è")]));
}

#[test]
fn messages_quote_little_of_the_input() {
    let long_op = "x".repeat(1000);
    let e = err(&format!("a {long_op} 1"));
    assert!(e.message.starts_with("unknown operator \""), "{e}");
    assert!(e.message.chars().count() < 80, "{e}");
    let e = err(&format!("a eq 1 {long_op}"));
    assert!(e.message.chars().count() < 100, "{e}");
    assert_eq!(e.to_string(), format!("{} (at character 7)", e.message));
}

fn nested(depth: usize) -> String {
    format!("{}a eq 1{}", "(".repeat(depth), ")".repeat(depth))
}

#[test]
fn depth_is_limited() {
    assert_eq!(ok(&nested(8)), eq("a", "1"));
    fails(&nested(9), 8, "nested deeper than 8");
    let none = FilterLimits { max_depth: 0, ..FilterLimits::default() };
    assert!(parse_filter("a eq 1 or b eq 2", none).is_ok());
    assert_eq!(parse_filter("(a eq 1)", none).map_err(|e| e.position), Err(0));
    assert_eq!(parse_filter("not(a eq 1)", none).map_err(|e| e.position), Err(3));
    let not_nested = format!("{}a eq 1{}", "not(".repeat(9), ")".repeat(9));
    fails(&not_nested, 35, "nested deeper");
    // A huge max_depth still stops at the ceiling, before the stack could run out.
    let huge = FilterLimits { max_depth: usize::MAX, max_tests: 32 };
    let e = parse_filter(&nested(2000), huge).map_err(|e| e.position);
    assert_eq!(e, Err(MAX_DEPTH_CEILING));
    assert!(parse_filter(&nested(MAX_DEPTH_CEILING), huge).is_ok());
}

#[test]
fn deep_or_long_input_fails_fast() {
    let started = std::time::Instant::now();
    let e = err(&"(".repeat(100_000));
    assert_eq!(e.position, MAX_FILTER_CHARS);
    assert!(e.message.contains("longer than"));
    fails(&"(".repeat(4000), 8, "nested deeper");
    fails(&"not(".repeat(1000), 35, "nested deeper");
    let many = vec!["a eq 1"; 700].join(" or ");
    fails(&many, MAX_FILTER_CHARS, "longer than");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    // Exactly at the cap is accepted (then parsed).
    let at_cap = format!("a eq {}", "x".repeat(MAX_FILTER_CHARS - 5));
    assert!(parse_filter(&at_cap, FilterLimits::default()).is_ok());
}

#[test]
fn test_count_is_limited() {
    let tests_of = |n: usize| (0..n).map(|i| format!("a{i} eq {i}")).collect::<Vec<_>>().join(" or ");
    assert!(matches!(ok(&tests_of(32)), FilterExpr::Or(items) if items.len() == 32));
    let over = tests_of(33);
    let last = over.rfind("a32").map(|byte| over[..byte].chars().count());
    let e = err(&over);
    assert!(e.message.contains("more than 32 tests"), "{e}");
    assert_eq!(Some(e.position), last);
    let shorthand = format!("_id eq 0 {}", (1..40).map(|i| format!("or {i}")).collect::<Vec<_>>().join(" "));
    assert!(err(&shorthand).message.contains("more than 32 tests"));
    let two = FilterLimits { max_depth: 8, max_tests: 2 };
    assert!(parse_filter("a eq 1 or 2", two).is_ok());
    assert!(parse_filter("a eq 1 or 2 or 3", two).is_err());
}

/// xorshift64: deterministic pseudo-random numbers without a crate.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

/// The invariants of a parsed tree: And/Or have two or more children, none of their own kind.
fn well_formed(expr: &FilterExpr) -> bool {
    match expr {
        FilterExpr::And(items) => {
            items.len() >= 2 && items.iter().all(|e| !matches!(e, FilterExpr::And(_)) && well_formed(e))
        }
        FilterExpr::Or(items) => {
            items.len() >= 2 && items.iter().all(|e| !matches!(e, FilterExpr::Or(_)) && well_formed(e))
        }
        FilterExpr::Not(inner) => well_formed(inner),
        FilterExpr::Test { param, .. } => !param.is_empty(),
    }
}

/// Parses `input`; checks no panic, the error position, and (when it parses) the tree's shape and
/// that its rendering parses back to the same tree. Returns whether it parsed.
fn check(input: &str) -> bool {
    match parse_filter(input, FilterLimits::default()) {
        Ok(expr) => {
            assert!(well_formed(&expr), "{input:?} gave {expr:?}");
            let roomy = FilterLimits { max_depth: MAX_DEPTH_CEILING, max_tests: 1000 };
            assert_eq!(parse_filter(&render(&expr), roomy).as_ref(), Ok(&expr), "{input:?} round trip");
            true
        }
        Err(e) => {
            assert!(e.position <= input.chars().count(), "{input:?}: {e}");
            assert!(!e.message.is_empty() && e.message.chars().count() < 120, "{input:?}: {e}");
            false
        }
    }
}

#[test]
fn random_characters_never_panic() {
    let alphabet = ['(', ')', 'a', 'n', 'd', 'o', 'r', 'e', 'q', '"', 'x', '1', ' ', '\\', 'é'];
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for _ in 0..5000 {
        let len = (rng.next() % 40) as usize;
        let input: String = (0..len).map(|_| *rng.pick(&alphabet)).collect();
        check(&input);
    }
}

#[test]
fn random_words_never_panic_and_often_parse() {
    let words = [
        "a", "eq", "and", "or", "not", "(", ")", "not(", "\"x y\"", "1", "x", "co", "_id", "b.c", "\"", "EQ", "[", "]",
    ];
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    let mut parsed = 0;
    for _ in 0..5000 {
        let len = 1 + (rng.next() % 16) as usize;
        let input: Vec<&str> = (0..len).map(|_| *rng.pick(&words)).collect();
        parsed += usize::from(check(&input.join(" ")));
        // Templates that are valid more often: `p op v (conn p op v | conn v)*`.
        let mut text = String::from("a eq 1");
        for _ in 0..(rng.next() % 6) {
            let tail =
                *rng.pick(&["or 2", "and b co \"y\"", "or (c ne 3)", "and not(d eq 4)", "or x", "and (e eq 5 or 6)"]);
            text = if rng.next().is_multiple_of(3) { format!("({text}) {tail}") } else { format!("{text} {tail}") };
        }
        parsed += usize::from(check(&text));
    }
    assert!(parsed > 3000, "only {parsed} inputs parsed");
}
