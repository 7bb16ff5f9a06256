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

const LINE: i32 = 18;
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
        let lines = 1 + i32::from(!table.note.is_empty()) + table.rows.len() as i32;
        let room = (h - y - 12) / LINE;
        if room < 2 {
            left_out += tables[k..].iter().map(|t| t.rows.len().max(1)).sum::<usize>();
            break;
        }
        let top = y;
        y += 6;
        area.draw(&Text::new(shorten(&table.title, 26), (LEFT - 6, y), heading.clone()))?;
        y += LINE + 2;
        if !table.note.is_empty() {
            area.draw(&Text::new(shorten(&table.note, 34), (LEFT - 6, y), note_style.clone()))?;
            y += LINE;
        }
        let fits = if lines > room {
            // The heading, the note and the "… and N more" line take room too.
            (room - 2 - i32::from(!table.note.is_empty())).max(0) as usize
        } else {
            table.rows.len()
        };
        for (name, value) in table.rows.iter().take(fits) {
            area.draw(&Text::new(shorten(name, 20), (LEFT, y), name_style.clone()))?;
            area.draw(&Text::new(axis::number(*value), (right, y), value_style.clone()))?;
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
