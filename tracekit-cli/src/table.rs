//! Command output: aligned text tables, numbers with units, and writing to
//! stdout.

use std::io::{ErrorKind, Write};

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    /// Text: flush left.
    Left,
    /// Numbers: flush right, so units and decimal points line up.
    Right,
}

#[derive(Debug)]
enum Row {
    Cells(Vec<String>),
    Rule,
}

/// A table with a header row, rendered with two spaces between columns and
/// an indent before each line; trailing blanks are trimmed.
#[derive(Debug)]
pub(crate) struct Table {
    columns: Vec<(String, Align)>,
    rows: Vec<Row>,
}

impl Table {
    /// A table with these column headers and alignments.
    pub(crate) fn new(columns: &[(&str, Align)]) -> Table {
        Table {
            columns: columns.iter().map(|&(h, a)| (h.to_owned(), a)).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are blank, extra cells are ignored.
    pub(crate) fn row<I, S>(&mut self, cells: I) -> &mut Table
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.rows
            .push(Row::Cells(cells.into_iter().map(Into::into).collect()));
        self
    }

    /// Adds a horizontal rule (before a total, say).
    pub(crate) fn rule(&mut self) -> &mut Table {
        self.rows.push(Row::Rule);
        self
    }

    /// The table as text, every line indented by `indent` spaces and ended by a newline.
    pub(crate) fn render(&self, indent: usize) -> String {
        let width = |s: &str| s.chars().count();
        let mut widths: Vec<usize> = self.columns.iter().map(|(h, _)| width(h)).collect();
        for row in &self.rows {
            if let Row::Cells(cells) = row {
                for (w, cell) in widths.iter_mut().zip(cells) {
                    *w = (*w).max(width(cell));
                }
            }
        }
        let pad = " ".repeat(indent);
        let mut out = String::new();
        let line = |cells: &[String]| -> String {
            let mut text = pad.clone();
            for (k, ((_, align), w)) in self.columns.iter().zip(&widths).enumerate() {
                let cell = cells.get(k).map_or("", String::as_str);
                if k > 0 {
                    text.push_str("  ");
                }
                let fill = " ".repeat(w - width(cell));
                match align {
                    Align::Left => {
                        text.push_str(cell);
                        text.push_str(&fill);
                    }
                    Align::Right => {
                        text.push_str(&fill);
                        text.push_str(cell);
                    }
                }
            }
            format!("{}\n", text.trim_end())
        };
        let header: Vec<String> = self.columns.iter().map(|(h, _)| h.clone()).collect();
        out.push_str(&line(&header));
        let total = widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
        for row in &self.rows {
            match row {
                Row::Cells(cells) => out.push_str(&line(cells)),
                Row::Rule => {
                    out.push_str(&format!("{pad}{}\n", "─".repeat(total)));
                }
            }
        }
        out
    }
}

/// Writes command output to stdout (the `out!` and `outln!` macros).
///
/// When stdout is a pipe that closed early (`tracekit graph x.toml | head`),
/// the process ends quietly with status 0, as a C tool killed by SIGPIPE
/// would, instead of panicking like `println!`. Any other write error ends it
/// with status 1 and a message.
pub(crate) fn emit(text: &str) {
    let mut stdout = std::io::stdout().lock();
    if let Err(err) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if err.kind() == ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {err}");
        std::process::exit(i32::from(crate::failure::EXIT_FAILED));
    }
}

/// A duration in milliseconds with two decimals: `12.34 ms`.
pub(crate) fn millis(d: std::time::Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// An integer with thousands separators: `1,048,576`.
pub(crate) fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_and_lines_are_trimmed() {
        let mut t = Table::new(&[("step", Align::Left), ("time", Align::Right)]);
        t.row(["lowpass", "12.50 ms"])
            .row(["fft", "3.00 ms"])
            .rule();
        t.row(["µ", ""]);
        assert_eq!(
            t.render(2),
            "  step         time\n  lowpass  12.50 ms\n  fft       3.00 ms\n  ─────────────────\n  µ\n"
        );
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(grouped(1 << 20), "1,048,576");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(0), "0");
        assert_eq!(millis(std::time::Duration::from_micros(12_346)), "12.35 ms");
    }
}
