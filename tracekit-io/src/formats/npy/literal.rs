//! The Python literals an NPY header is written in: a small parser of what
//! `ast.literal_eval` reads there (dicts, tuples, lists, strings, integers,
//! `True`, `False`, `None`), tolerant of spacing, newlines, comments and
//! trailing commas. Nesting is bounded, so no header can exhaust the stack.

use crate::error::{Result, bail};

/// Deepest nesting of brackets accepted (a structured dtype of nested
/// fields is a few levels deep).
const MAX_DEPTH: usize = 32;

/// A Python literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Literal {
    /// `'...'` or `"..."`.
    Str(String),
    /// An integer; Python's are unbounded, these hold any that fits in 128 bits.
    Int(i128),
    /// `True` or `False`.
    Bool(bool),
    /// `None`.
    None,
    /// `(a, b)`, `(a,)` or `()`.
    Tuple(Vec<Literal>),
    /// `[a, b]`.
    List(Vec<Literal>),
    /// `{k: v, ...}`, in the order written.
    Dict(Vec<(Literal, Literal)>),
}

impl std::fmt::Display for Literal {
    /// As Python prints it (`(3,)`, `'<f8'`, `True`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let items = |f: &mut std::fmt::Formatter<'_>, items: &[Literal]| {
            for (k, item) in items.iter().enumerate() {
                if k > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{item}")?;
            }
            Ok(())
        };
        match self {
            Literal::Str(s) => write!(f, "'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
            Literal::Int(n) => write!(f, "{n}"),
            Literal::Bool(true) => f.write_str("True"),
            Literal::Bool(false) => f.write_str("False"),
            Literal::None => f.write_str("None"),
            Literal::Tuple(t) => {
                f.write_str("(")?;
                items(f, t)?;
                f.write_str(if t.len() == 1 { ",)" } else { ")" })
            }
            Literal::List(l) => {
                f.write_str("[")?;
                items(f, l)?;
                f.write_str("]")
            }
            Literal::Dict(d) => {
                f.write_str("{")?;
                for (k, (key, value)) in d.iter().enumerate() {
                    if k > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{key}: {value}")?;
                }
                f.write_str("}")
            }
        }
    }
}

/// Parses `text`, which must hold one literal and nothing else but spaces
/// and comments. `long_ints` accepts Python 2's `3L` (NumPy filters those
/// out of format 1.0 and 2.0 headers, not 3.0).
pub(super) fn parse(text: &str, long_ints: bool) -> Result<Literal> {
    let mut parser = Parser {
        text: text.as_bytes(),
        pos: 0,
        long_ints,
    };
    let value = parser.value(0)?;
    parser.space();
    if parser.pos < parser.text.len() {
        bail!("{} after the header's literal", parser.what());
    }
    Ok(value)
}

struct Parser<'a> {
    text: &'a [u8],
    pos: usize,
    long_ints: bool,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    /// What is at the position, for errors.
    fn what(&self) -> String {
        match self.peek() {
            None => "end of header".to_owned(),
            Some(_) => {
                let rest = String::from_utf8_lossy(&self.text[self.pos..]);
                let near: String = rest.chars().take(12).collect();
                format!("unexpected {near:?} at character {}", self.pos)
            }
        }
    }

    /// Skips spaces, newlines and `#` comments.
    fn space(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\n' | b'\r' | 0x0c => self.pos += 1,
                b'#' => {
                    while self.peek().is_some_and(|b| b != b'\n') {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
    }

    /// Skips space, then `byte` if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        self.space();
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Literal> {
        if depth > MAX_DEPTH {
            bail!("header nests more than {MAX_DEPTH} levels deep");
        }
        self.space();
        let Some(b) = self.peek() else {
            bail!("header ends where a value should be");
        };
        match b {
            b'{' => {
                self.pos += 1;
                let mut entries = Vec::new();
                loop {
                    if self.eat(b'}') {
                        break;
                    }
                    let key = self.value(depth + 1)?;
                    if !self.eat(b':') {
                        bail!("{} where the header's dict needs ':'", self.what());
                    }
                    entries.push((key, self.value(depth + 1)?));
                    if self.eat(b',') {
                        continue;
                    }
                    if self.eat(b'}') {
                        break;
                    }
                    bail!("{} where the header's dict needs ',' or '}}'", self.what());
                }
                Ok(Literal::Dict(entries))
            }
            b'(' | b'[' => {
                self.pos += 1;
                let close = if b == b'(' { b')' } else { b']' };
                let mut items = Vec::new();
                let mut comma = false;
                loop {
                    if self.eat(close) {
                        break;
                    }
                    items.push(self.value(depth + 1)?);
                    if self.eat(b',') {
                        comma = true;
                        continue;
                    }
                    if self.eat(close) {
                        break;
                    }
                    bail!("{} where ',' or '{}' should be", self.what(), close as char);
                }
                Ok(match (b, items.len(), comma) {
                    // `(x)` is x itself, not a tuple.
                    (b'(', 1, false) => items.pop().unwrap_or(Literal::None),
                    (b'(', ..) => Literal::Tuple(items),
                    _ => Literal::List(items),
                })
            }
            b'\'' | b'"' => self.string(),
            b'u' | b'U' if matches!(self.text.get(self.pos + 1), Some(b'\'' | b'"')) => {
                self.pos += 1;
                self.string()
            }
            b'-' | b'+' | b'0'..=b'9' => self.int(),
            _ => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
                {
                    self.pos += 1;
                }
                match &self.text[start..self.pos] {
                    b"True" => Ok(Literal::Bool(true)),
                    b"False" => Ok(Literal::Bool(false)),
                    b"None" => Ok(Literal::None),
                    _ => {
                        self.pos = start;
                        bail!("{} in the header: not a Python literal", self.what())
                    }
                }
            }
        }
    }

    /// A quoted string, the position at its opening quote.
    fn string(&mut self) -> Result<Literal> {
        let quote = self.text[self.pos];
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None | Some(b'\n') => {
                    self.pos = start;
                    bail!("{}: the string is not closed", self.what());
                }
                Some(b) if b == quote => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    let escaped = self.text.get(self.pos + 1).copied();
                    match escaped {
                        Some(e @ (b'\\' | b'\'' | b'"')) => out.push(e),
                        Some(b'n') => out.push(b'\n'),
                        Some(b't') => out.push(b'\t'),
                        // Python keeps the backslash of an escape it does not know.
                        Some(e) => out.extend([b'\\', e]),
                        None => out.push(b'\\'),
                    }
                    self.pos += 2;
                }
                Some(b) => {
                    out.push(b);
                    self.pos += 1;
                }
            }
        }
        Ok(Literal::Str(String::from_utf8_lossy(&out).into_owned()))
    }

    /// An integer, with an optional sign (and Python 2's `L` where allowed).
    fn int(&mut self) -> Result<Literal> {
        let start = self.pos;
        let negative = match self.peek() {
            Some(b'-') => {
                self.pos += 1;
                true
            }
            Some(b'+') => {
                self.pos += 1;
                false
            }
            _ => false,
        };
        self.space();
        // Digits, single underscores between them (`1_000`), and no leading
        // zero unless every digit is one (`00` is 0, `03` is not Python).
        let mut digits = String::new();
        while let Some(b) = self.peek() {
            match b {
                b'0'..=b'9' => digits.push(char::from(b)),
                b'_' if !digits.is_empty()
                    && self.text.get(self.pos + 1).is_some_and(u8::is_ascii_digit) => {}
                _ => break,
            }
            self.pos += 1;
        }
        if digits.is_empty() {
            self.pos = start;
            bail!("{} in the header: not a number", self.what());
        }
        if digits.len() > 1 && digits.starts_with('0') && digits.bytes().any(|b| b != b'0') {
            self.pos = start;
            bail!(
                "{} in the header: a decimal integer with a leading zero",
                self.what()
            );
        }
        if self.long_ints && matches!(self.peek(), Some(b'L' | b'l')) {
            self.pos += 1;
        }
        if self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
        {
            self.pos = start;
            bail!("{} in the header: not an integer", self.what());
        }
        let Ok(magnitude) = digits.parse::<i128>() else {
            bail!("integer {digits} in the header is too large");
        };
        Ok(Literal::Int(if negative { -magnitude } else { magnitude }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Literal {
        parse(text, false).unwrap_or_else(|e| panic!("{text}: {}", e.0))
    }

    #[test]
    fn numpy_headers() {
        let h = p("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }          \n");
        assert_eq!(
            h,
            Literal::Dict(vec![
                (Literal::Str("descr".into()), Literal::Str("<f8".into())),
                (Literal::Str("fortran_order".into()), Literal::Bool(false)),
                (
                    Literal::Str("shape".into()),
                    Literal::Tuple(vec![Literal::Int(3)])
                ),
            ])
        );
        assert_eq!(
            h.to_string(),
            "{'descr': '<f8', 'fortran_order': False, 'shape': (3,)}"
        );
    }

    #[test]
    fn tuples_and_spacing() {
        assert_eq!(p("()"), Literal::Tuple(vec![]));
        assert_eq!(p("( 4 )"), Literal::Int(4));
        assert_eq!(p("(4 , )"), Literal::Tuple(vec![Literal::Int(4)]));
        assert_eq!(
            p("(\n 2,\n 3,\n)"),
            Literal::Tuple(vec![Literal::Int(2), Literal::Int(3)])
        );
        assert_eq!(p("[1, [2,],]").to_string(), "[1, [2]]");
        assert_eq!(p("{ \"a\" :True,}  # note\n").to_string(), "{'a': True}");
        assert_eq!(p("-7"), Literal::Int(-7));
        assert_eq!(p("(1_000, 00, - 2)").to_string(), "(1000, 0, -2)");
        assert_eq!(p("u'x\\'y'"), Literal::Str("x'y".into()));
        assert_eq!(p("{}"), Literal::Dict(vec![]));
        assert_eq!(parse("(3L, 4L)", true).unwrap().to_string(), "(3, 4)");
    }

    #[test]
    fn what_is_not_a_literal() {
        for bad in [
            "",
            "{",
            "{'a' 1}",
            "{'a': 1 'b': 2}",
            "(1 2)",
            "(,)",
            "'open",
            "3L",
            "1.5",
            "03",
            "1__0",
            "1_",
            "_1",
            "{'a': 1} x",
            "nan",
            "0x10",
            "((((((((((((((((((((((((((((((((((((1))))))))))))))))))))))))))))))))))",
        ] {
            assert!(parse(bad, false).is_err(), "{bad:?}");
        }
        let e = parse("99999999999999999999999999999999999999999", false).unwrap_err();
        assert!(e.0.contains("too large"), "{}", e.0);
    }
}
