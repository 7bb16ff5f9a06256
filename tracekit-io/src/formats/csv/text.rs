//! Tokenising: lines, fields and numbers of delimited text, straight from
//! the file's bytes (no copy of the file, no `String` per line).
//!
//! Lines end at `\n` (a `\r` before it is dropped), or at `\r` alone in a
//! file that holds no `\n`. Fields are split at one separator byte (`,`,
//! `;` or tab) or at runs of blanks; a field may be quoted (`"1.5"`, with
//! `""` for a quote inside). Numbers take a decimal point or a decimal
//! comma (`1,5`, with `;` or tab separators, or quoted).

/// Longest text read as a number; a longer field is not one (a 10 MB run of
/// digits is damage, not a sample).
const MAX_NUMBER_LEN: usize = 64;

/// Longest label or header value kept; longer text is cut.
const MAX_TEXT_LEN: usize = 200;

/// The UTF-8 byte order mark.
pub(super) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// How fields are separated on a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sep {
    /// One byte: `,`, `;` or `\t`.
    Byte(u8),
    /// Runs of spaces and tabs.
    Blanks,
}

impl Sep {
    /// The separators tried when the file does not name its own, in the
    /// order that wins a tie.
    pub(super) const CANDIDATES: [Sep; 4] = [
        Sep::Byte(b','),
        Sep::Byte(b'\t'),
        Sep::Byte(b';'),
        Sep::Blanks,
    ];
}

/// The file's bytes after a UTF-8 byte order mark, cut into lines.
#[derive(Debug, Clone)]
pub(super) struct Lines<'a> {
    data: &'a [u8],
    pos: usize,
    number: usize,
    end: u8,
}

impl<'a> Lines<'a> {
    /// The lines of `data` (a leading byte order mark skipped), numbered from 1.
    pub(super) fn new(data: &'a [u8]) -> Lines<'a> {
        let data = data.strip_prefix(BOM).unwrap_or(data);
        let end = if !data.contains(&b'\n') && data.contains(&b'\r') {
            b'\r'
        } else {
            b'\n'
        };
        Lines {
            data,
            pos: 0,
            number: 0,
            end,
        }
    }

    /// At most how many rows of `width` fields are left: each takes a byte
    /// and a separator per field, so the bytes left bound them as much as
    /// the line ends do.
    pub(super) fn rows_left(&self, width: usize) -> usize {
        let rest = &self.data[self.pos.min(self.data.len())..];
        let lines = rest.iter().filter(|&&b| b == self.end).count() + 1;
        lines.min(rest.len() / width.max(1).saturating_mul(2) + 1)
    }
}

impl<'a> Iterator for Lines<'a> {
    /// The line's number (1-based) and its bytes without the line end.
    type Item = (usize, &'a [u8]);

    fn next(&mut self) -> Option<(usize, &'a [u8])> {
        if self.pos >= self.data.len() {
            return None;
        }
        let rest = &self.data[self.pos..];
        let len = rest.iter().position(|&b| b == self.end);
        let mut line = &rest[..len.unwrap_or(rest.len())];
        self.pos += len.map_or(rest.len(), |n| n + 1);
        if let Some(stripped) = line.strip_suffix(b"\r") {
            line = stripped;
        }
        self.number += 1;
        Some((self.number, line))
    }
}

/// One field of a line: its bytes, blanks and surrounding quotes removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Field<'a> {
    /// The content (inside the quotes, where quoted).
    pub(super) bytes: &'a [u8],
    /// Whether the field was quoted (its `""` stand for `"`).
    pub(super) quoted: bool,
}

impl Field<'_> {
    /// Whether the field holds nothing.
    pub(super) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The field as a number, if it is one (see [`number`]).
    pub(super) fn number(&self) -> Option<f64> {
        number(self.bytes)
    }

    /// The field as text (see [`text`]).
    pub(super) fn text(&self) -> String {
        let text = text(self.bytes);
        if self.quoted && text.contains("\"\"") {
            text.replace("\"\"", "\"")
        } else {
            text
        }
    }

    /// The field as messages quote it: cut to 40 characters.
    pub(super) fn shown(&self) -> String {
        let text = text(self.bytes);
        match text.char_indices().nth(40) {
            Some((at, _)) => format!("{}... ({} bytes)", &text[..at], self.bytes.len()),
            None => text,
        }
    }
}

/// Whether `b` is a space or a tab.
fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `bytes` without leading and trailing spaces and tabs.
fn trim(mut bytes: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = bytes {
        if !is_blank(*first) {
            break;
        }
        bytes = rest;
    }
    while let [rest @ .., last] = bytes {
        if !is_blank(*last) {
            break;
        }
        bytes = rest;
    }
    bytes
}

/// Splits `line` into `out` (cleared first), dropping trailing empty fields:
/// `1,2,` and `1,2, ` give two fields, `,,` none.
pub(super) fn split<'a>(line: &'a [u8], sep: Sep, out: &mut Vec<Field<'a>>) {
    out.clear();
    match sep {
        Sep::Byte(sep) => split_at(line, sep, out),
        Sep::Blanks => out.extend(
            line.split(|&b| is_blank(b))
                .filter(|f| !f.is_empty())
                .map(unquote),
        ),
    }
    while out.last().is_some_and(Field::is_empty) {
        out.pop();
    }
}

/// A blank-separated field, its surrounding quotes removed.
fn unquote(field: &[u8]) -> Field<'_> {
    match field {
        [b'"', inner @ .., b'"'] => Field {
            bytes: trim(inner),
            quoted: true,
        },
        _ => Field {
            bytes: field,
            quoted: false,
        },
    }
}

/// Splits at the byte `sep`, outside quotes.
fn split_at<'a>(line: &'a [u8], sep: u8, out: &mut Vec<Field<'a>>) {
    let n = line.len();
    let mut i = 0;
    loop {
        while i < n && line[i] != sep && is_blank(line[i]) {
            i += 1;
        }
        if i < n && line[i] == b'"' {
            let start = i + 1;
            let mut j = start;
            let end = loop {
                match line[j.min(n)..].iter().position(|&b| b == b'"') {
                    None => {
                        i = n;
                        break n;
                    }
                    Some(k) if line.get(j + k + 1) == Some(&b'"') => j += k + 2,
                    Some(k) => {
                        i = j + k + 1;
                        break j + k;
                    }
                }
            };
            out.push(Field {
                bytes: trim(&line[start..end]),
                quoted: true,
            });
            while i < n && line[i] != sep {
                i += 1;
            }
        } else {
            let start = i;
            while i < n && line[i] != sep {
                i += 1;
            }
            out.push(Field {
                bytes: trim(&line[start..i]),
                quoted: false,
            });
        }
        if i >= n {
            return;
        }
        i += 1;
    }
}

/// `field` as a number: a decimal point or one decimal comma, an exponent,
/// `NaN`, `inf`, `infinity` or `∞` with an optional sign; `None` for anything
/// else, and for fields longer than 64 bytes.
pub(super) fn number(field: &[u8]) -> Option<f64> {
    let field = trim(field);
    if field.is_empty() || field.len() > MAX_NUMBER_LEN {
        return None;
    }
    let (sign, digits) = match field {
        [b'-', rest @ ..] => (-1.0, rest),
        [b'+', rest @ ..] => (1.0, rest),
        _ => (1.0, field),
    };
    if digits == "∞".as_bytes() {
        return Some(sign * f64::INFINITY);
    }
    let mut buf = [0u8; MAX_NUMBER_LEN];
    let buf = &mut buf[..field.len()];
    buf.copy_from_slice(field);
    let commas = buf.iter().filter(|&&b| b == b',').count();
    if commas > 0 {
        if commas > 1 || buf.contains(&b'.') {
            return None;
        }
        buf.iter_mut()
            .filter(|b| **b == b',')
            .for_each(|b| *b = b'.');
    }
    std::str::from_utf8(buf).ok()?.parse().ok()
}

/// `bytes` as text: UTF-8 where they are, else Latin-1 (so a `µ` written as
/// the single byte 0xB5 still reads as `µ`), cut to 200 characters.
pub(super) fn text(bytes: &[u8]) -> String {
    let full = match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    };
    match full.char_indices().nth(MAX_TEXT_LEN) {
        Some((at, _)) => full[..at].to_owned(),
        None => full,
    }
}

/// Whether every field is a number (and there is at least one): a data row.
pub(super) fn is_numeric(fields: &[Field<'_>]) -> bool {
    !fields.is_empty() && fields.iter().all(|f| f.is_empty() || f.number().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &str, sep: Sep) -> Vec<String> {
        let mut out = Vec::new();
        split(line.as_bytes(), sep, &mut out);
        out.iter().map(Field::text).collect()
    }

    #[test]
    fn splits_quotes_and_drops_trailing_empties() {
        let comma = Sep::Byte(b',');
        assert_eq!(fields("a, b ,", comma), ["a", "b"]);
        assert_eq!(fields("1,2, ", comma), ["1", "2"]);
        assert!(fields(",,", comma).is_empty());
        assert_eq!(fields(",CH1", comma), ["", "CH1"]);
        assert_eq!(
            fields(r#""Time (s)", "say ""hi""",3"#, comma),
            ["Time (s)", "say \"hi\"", "3"]
        );
        assert_eq!(fields(r#""1,5";"2""#, Sep::Byte(b';')), ["1,5", "2"]);
        assert_eq!(fields("\"open,1", comma), ["open,1"]);
        assert_eq!(fields("  1.5   -2 ", Sep::Blanks), ["1.5", "-2"]);
    }

    #[test]
    fn numbers_take_decimal_commas_and_infinities() {
        assert_eq!(number(b"1,5"), Some(1.5));
        assert_eq!(number(b" -2.5E-3 "), Some(-2.5e-3));
        assert_eq!(number(b"1,5,0"), None);
        assert_eq!(number(b"1,5.0"), None);
        assert_eq!(number("-∞".as_bytes()), Some(f64::NEG_INFINITY));
        assert!(number(b"NaN").unwrap().is_nan());
        assert_eq!(number(b"inf"), Some(f64::INFINITY));
        assert_eq!(number(b"abc"), None);
        assert_eq!(number(b""), None);
        assert_eq!(number(&[b'1'; 65]), None);
    }

    #[test]
    fn lines_end_at_crlf_lf_or_cr() {
        let lines: Vec<_> = Lines::new(b"\xEF\xBB\xBFa\r\nb\n\nc").collect();
        assert_eq!(lines, [(1, &b"a"[..]), (2, b"b"), (3, b""), (4, b"c")]);
        let lines: Vec<_> = Lines::new(b"a\rb\r").map(|l| l.1).collect();
        assert_eq!(lines, [&b"a"[..], b"b"]);
    }

    #[test]
    fn latin1_text_reads() {
        assert_eq!(text(b"(\xb5s)"), "(µs)");
        assert_eq!(text("(µs)".as_bytes()), "(µs)");
    }
}
