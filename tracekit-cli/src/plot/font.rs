//! The font bundled for text: PNG output draws with it, and both backends
//! measure text with it to lay out labels.

use std::sync::OnceLock;

use plotters::style::{FontStyle, register_font};

use super::PlotError;

/// DejaVu Sans, cut down to Latin-1 and a few symbols (`assets/subset-font.sh`).
static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/DejaVuSans-subset.ttf");

/// The family every piece of text asks for.
pub(super) const FAMILY: &str = "sans-serif";

/// Registers the bundled font as [`FAMILY`], once per process.
pub(super) fn register() -> Result<(), PlotError> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok());
    if ok {
        Ok(())
    } else {
        Err(PlotError::Draw(
            "the bundled font DejaVuSans-subset.ttf could not be parsed".to_owned(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_font_loads() {
        register().unwrap();
        register().unwrap();
    }
}
