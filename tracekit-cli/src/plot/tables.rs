//! Measurements as tables beside the panels: one table per step that
//! measured something, values flush right.

use plotters::{
    coord::Shift,
    prelude::*,
    style::text_anchor::{HPos, Pos, VPos},
};

use super::{
    PlotError, axis,
    font::FAMILY,
    style::{FRAME_COLOR, NOTE_COLOR, shorten},
};

/// Named values drawn as a table: a step's measurements, say.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Table {
    /// The heading: the step's name.
    pub(crate) title: String,
    /// A grey line under the heading (what the step read); none if empty.
    pub(crate) note: String,
    /// Name and value of each row.
    pub(crate) rows: Vec<(String, f64)>,
}

impl Table {
    /// A table of `rows` headed `title`, without a note.
    pub(crate) fn new<S: Into<String>>(
        title: impl Into<String>,
        rows: impl IntoIterator<Item = (S, f64)>,
    ) -> Table {
        Table {
            title: title.into(),
            note: String::new(),
            rows: rows.into_iter().map(|(n, v)| (n.into(), v)).collect(),
        }
    }
}

/// Height of a line of text.
const LINE: i32 = 18;
/// Characters of a note line; longer notes wrap, at most two lines.
const NOTE_CHARS: usize = 36;
/// Where the rows' names start.
const LEFT: i32 = 16;

/// Draws `tables` one under another on `area`, each in a frame; what does
/// not fit the height ends in "… and N more".
pub(super) fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    tables: &[Table],
) -> Result<(), PlotError> {
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let right = w - 22;
    let heading = (FAMILY, 14, FontStyle::Bold).into_font().color(&BLACK);
    let note_style = (FAMILY, 12).into_font().color(&NOTE_COLOR);
    let name_style = (FAMILY, 13).into_font().color(&BLACK);
    let value_style = name_style.clone().pos(Pos::new(HPos::Right, VPos::Top));
    let mut y = 10;
    let mut left_out = 0;
    for (k, table) in tables.iter().enumerate() {
        let notes = wrap(&table.note, NOTE_CHARS).len() as i32;
        let lines = 1 + notes + table.rows.len() as i32;
        let room = (h - y - 12) / LINE;
        if room < 2 {
            left_out += tables[k..]
                .iter()
                .map(|t| t.rows.len().max(1))
                .sum::<usize>();
            break;
        }
        let top = y;
        y += 6;
        area.draw(&Text::new(
            shorten(&table.title, 26),
            (LEFT - 6, y),
            heading.clone(),
        ))?;
        y += LINE + 2;
        let note = wrap(&table.note, NOTE_CHARS);
        for line in &note {
            area.draw(&Text::new(line.as_str(), (LEFT - 6, y), note_style.clone()))?;
            y += LINE - 3;
        }
        if !note.is_empty() {
            y += 3;
        }
        let fits = if lines > room {
            // The heading, the note and the "… and N more" line take room too.
            (room - 2 - notes).max(0) as usize
        } else {
            table.rows.len()
        };
        for (name, value) in table.rows.iter().take(fits) {
            area.draw(&Text::new(shorten(name, 20), (LEFT, y), name_style.clone()))?;
            area.draw(&Text::new(
                axis::number(*value),
                (right, y),
                value_style.clone(),
            ))?;
            y += LINE;
        }
        if fits < table.rows.len() {
            let more = format!("… and {} more", table.rows.len() - fits);
            area.draw(&Text::new(more, (LEFT, y), name_style.clone()))?;
            y += LINE;
        }
        area.draw(&Rectangle::new(
            [(4, top), (w - 10, y + 2)],
            ShapeStyle::from(&FRAME_COLOR).stroke_width(1),
        ))?;
        y += 14;
    }
    if left_out > 0 {
        let more = format!("… and {left_out} more measurements");
        area.draw(&Text::new(more, (LEFT - 6, y.min(h - LINE)), note_style))?;
    }
    Ok(())
}

/// `text` in lines of at most `max` characters, broken at spaces; at most
/// two lines, the second cut with an ellipsis if need be.
fn wrap(text: &str, max: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let fits = line.is_empty() || line.chars().count() + 1 + word.chars().count() <= max;
        if !fits {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    if lines.len() > 2 {
        let rest = lines[1..].join(" ");
        lines.truncate(1);
        lines.push(rest);
    }
    lines.iter().map(|l| shorten(l, max)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_wrap_at_spaces_into_two_lines() {
        assert_eq!(wrap("", 10), Vec::<String>::new());
        assert_eq!(
            wrap("measured decimate; samples unchanged", 20),
            ["measured decimate;", "samples unchanged"]
        );
        let long = wrap("a b c d e f g h i j k l m n o p", 5);
        assert_eq!(long.len(), 2);
        assert_eq!(long[1].chars().count(), 5);
        assert!(long[1].ends_with('…'));
        assert_eq!(wrap("abcdefghijkl", 5), ["abcd…"]);
    }
}
