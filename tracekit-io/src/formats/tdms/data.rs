//! The raw data of the segments decoded into samples (NI "TDMS File Format
//! Internal Structure", Binary Layout: Raw Data): contiguous chunks (each
//! object's values one after the other, the chunk repeated to fill the
//! segment) and interleaved ones (one value of each object in turn), as
//! npTDMS's `ContiguousDataReader` and `InterleavedDataReader` read them.

use super::{
    scaling::Scaling,
    segment::{Block, RawIndex, Tdms},
};
use crate::{
    bytes::Bytes,
    convert::{SampleType, decode_append},
    error::Result,
};

/// A numeric channel being read.
#[derive(Debug)]
pub(super) struct Channel {
    /// Index of its object in [`Tdms::objects`].
    pub(super) object: usize,
    /// Type of its raw values.
    pub(super) ty: SampleType,
    /// The NI scaling applied to its raw values, if any.
    pub(super) scaling: Option<Scaling>,
    /// The samples so far (reserved for all of them).
    pub(super) samples: Vec<f64>,
}

impl Channel {
    /// Decodes `raw` (whole values) onto the samples.
    fn push(&mut self, raw: &[u8], order: crate::bytes::Order) {
        let single = self.ty == SampleType::F32;
        match &self.scaling {
            Some(scaling) => decode_append(raw, self.ty, order, &mut self.samples, |x| {
                scaling.apply(x, single)
            }),
            None => decode_append(raw, self.ty, order, &mut self.samples, |x| x),
        }
    }
}

/// Decodes every block of `tdms` into `channels`.
pub(super) fn read(data: &[u8], tdms: &Tdms, channels: &mut [Channel]) -> Result<()> {
    let mut of_object: Vec<Option<usize>> = vec![None; tdms.objects.len()];
    for (i, channel) in channels.iter().enumerate() {
        of_object[channel.object] = Some(i);
    }
    let mut scratch = Vec::new();
    for block in &tdms.blocks {
        let bytes = Bytes::new(data, block.order);
        let entries: Vec<(Option<usize>, RawIndex)> = block
            .layout
            .data_entries()
            .map(|(object, index)| (of_object[object], index))
            .collect();
        if block.interleaved {
            interleaved(&bytes, block, &entries, channels, &mut scratch)?;
        } else {
            contiguous(&bytes, block, &entries, channels)?;
        }
    }
    Ok(())
}

/// Contiguous chunks: in each, every object's values in turn.
fn contiguous(
    bytes: &Bytes<'_>,
    block: &Block,
    entries: &[(Option<usize>, RawIndex)],
    channels: &mut [Channel],
) -> Result<()> {
    let mut at = block.at;
    let mut take = |at: &mut usize, channel: Option<usize>, len: u64| -> Result<()> {
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let raw = bytes.slice(*at, len)?;
        if let Some(c) = channel {
            channels[c].push(raw, block.order);
        }
        *at += len;
        Ok(())
    };
    for _ in 0..block.chunks {
        for &(channel, index) in entries {
            take(&mut at, channel, index.size)?;
        }
    }
    if let Some(partial) = &block.partial {
        for (&(channel, index), &values) in entries.iter().zip(partial) {
            let width = index.data_type.size().unwrap_or(0) as u64;
            take(&mut at, channel, values.saturating_mul(width))?;
        }
    }
    Ok(())
}

/// Interleaved rows: one value of each object per row, as many rows as
/// values per chunk times chunks (plus the rows of a partial chunk).
fn interleaved(
    bytes: &Bytes<'_>,
    block: &Block,
    entries: &[(Option<usize>, RawIndex)],
    channels: &mut [Channel],
    scratch: &mut Vec<u8>,
) -> Result<()> {
    let width: usize = entries
        .iter()
        .map(|(_, i)| i.data_type.size().unwrap_or(0))
        .sum();
    let per_chunk = entries.first().map_or(0, |(_, i)| i.values);
    let extra = block
        .partial
        .as_ref()
        .and_then(|p| p.first())
        .copied()
        .unwrap_or(0);
    if width == 0 {
        return Ok(());
    }
    let rows = per_chunk.saturating_mul(block.chunks).saturating_add(extra);
    let rows = usize::try_from(rows).unwrap_or(usize::MAX);
    let region = bytes.slice(block.at, rows.saturating_mul(width))?;
    let mut column = 0;
    for &(channel, index) in entries {
        let size = index.data_type.size().unwrap_or(0);
        if let Some(c) = channel {
            scratch.clear();
            scratch.reserve(rows.saturating_mul(size));
            for row in region.chunks_exact(width) {
                scratch.extend_from_slice(&row[column..column + size]);
            }
            channels[c].push(scratch, block.order);
        }
        column += size;
    }
    Ok(())
}
