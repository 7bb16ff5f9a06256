//! DHO800 / DHO1000 WFM (`ksy/rigol_dho800_1000_wfm`, RigolWFM `dho`):
//! a proprietary layout, reverse-engineered by RigolWFM from DHO1074 and
//! DHO824 captures. What this reader knows is what that work found:
//!
//! - a 24-byte file header (opaque), then metadata blocks, each a 12-byte
//!   header (`block_id`, `block_type`, `decomp_size`, `comp_size`,
//!   `len_content_raw`, `reserved`, all u16) and `len_content_raw` bytes of
//!   content whose first `comp_size` are a zlib stream (or, where they are
//!   not one, the content itself); a block with `len_content_raw` and
//!   `comp_size` both 0 ends them;
//! - zero padding, then the data section: a 40-byte header (u64 total
//!   samples at 0, u32 interval in ADC ticks at 16, u32 points per channel at
//!   24) and the channels' u16 codes interleaved.
//!
//! Calibration: a DHO800 file has channel blocks of type 5 (`block_id` 1..4;
//! `scale = i64 at 1 / 7.5e12`, `v_center = -(i32 at 38) / 1e9`,
//! `offset = v_center - scale * 32768`); a DHO1000 one has them of type 9
//! (`scale = i64 at 1 / 7.5e11`, `v_center = i64 at 38 / 1e8`,
//! `offset = -v_center - scale * 32768`). Volts are
//! `scale * code + offset`, rounded to f32 as RigolWFM stores them. The tick
//! is 0.8 ns on a DHO800 (its 1.25 GSa/s clock), 10 ns on a DHO1000.
//!
//! What cannot be known:
//!
//! - **The start time.** The file does not store the time of its first
//!   sample. This reader assumes, as RigolWFM does, the scope's default of
//!   a trigger at the centre of the record: `start = -(points / 2) *
//!   interval`. Every trace says so in its attribute `start_assumed`.
//! - **Which channels.** The data section says how many channels it holds,
//!   not which: they are named `CH1`.. in order, and channel `n` takes the
//!   calibration of block `n` (or of the first block there is).
//! - The model, where no block holds a `DHO…`/`MSO…` text: then it is the
//!   family, `DHO800` or `DHO1000`.
//!
//! Each block's content is inflated with a cap of 65535 bytes, the most its
//! u16 `decomp_size` can declare, and all of them under the sample limit
//! (`ReadOptions::max_samples`, in bytes); beyond either is an error. Blocks
//! are read one at a time: only the head of the channel blocks is kept.

use tracekit_core::Trace;

use super::{
    common::{Channel, traces},
    inflate::zlib_or_raw,
};
use crate::{
    bytes::{Bytes, Order, sample_block},
    convert::{ByteOrder, SampleType, decode},
    error::{Result, bail},
    registry::Input,
};

/// The opaque file header before the first block.
const FILE_HEADER: usize = 24;
/// Size of a block header.
const BLOCK_HEADER: usize = 12;
/// The most a block may inflate to: the largest `decomp_size` (u16).
const BLOCK_LIMIT: usize = u16::MAX as usize;
/// Size of the data section's header.
const DATA_HEADER: usize = 40;
/// The ADC's mid-code.
const ADC_MIDPOINT: f64 = 32768.0;
/// Seconds per interval tick on a DHO800.
const DHO800_TICK_S: f64 = 8e-10;
/// Seconds per interval tick on a DHO1000.
const DHO1000_TICK_S: f64 = 1e-8;
/// `block_type` of a DHO800 channel block (`dho800_channel_params`).
const DHO800_CHANNEL_PARAMS: u16 = 5;
/// `block_type` of a DHO1000 channel block (`channel_params`).
const CHANNEL_PARAMS: u16 = 9;
/// What the attribute `start_assumed` says.
const START_ASSUMED: &str = "trigger at the record's centre; the file does not store the start";

/// A channel block (type 5 or 9, id 1..4): enough of it for its calibration.
struct Block {
    /// `block_id`: the channel, 1 to 4.
    block_id: u16,
    /// `block_type`: 5 (DHO800) or 9 (DHO1000).
    block_type: u16,
    /// The inflated content's first [`CALIBRATION_BYTES`] bytes.
    head: Vec<u8>,
    /// The inflated content's length.
    len: usize,
}

/// The most of a channel block's content a calibration reads.
const CALIBRATION_BYTES: usize = 46;

/// A channel's calibration: `(scale, v_center, offset)`.
type Calibration = (f64, f64, f64);

/// What the metadata blocks say, read block by block (no block's content is
/// kept but the head of the channel blocks).
struct Metadata {
    /// How many blocks precede the end marker.
    blocks: usize,
    /// The channel blocks, in file order.
    channel_blocks: Vec<Block>,
    /// The first model text found.
    model: Option<String>,
    /// Offset of the block that ends them.
    end: usize,
}

/// Reads the metadata blocks, inflating each under [`BLOCK_LIMIT`] and all
/// of them under `total_limit` bytes.
fn metadata(bytes: &Bytes<'_>, total_limit: u64) -> Result<Metadata> {
    let mut meta = Metadata {
        blocks: 0,
        channel_blocks: Vec::new(),
        model: None,
        end: FILE_HEADER,
    };
    let mut inflated = 0u64;
    loop {
        let offset = meta.end;
        let comp_size = usize::from(bytes.u16(offset + 6)?);
        let len = usize::from(bytes.u16(offset + 8)?);
        if len == 0 && comp_size == 0 {
            return Ok(meta);
        }
        let content_raw = bytes.slice(offset + BLOCK_HEADER, len)?;
        let content = zlib_or_raw(&content_raw[..comp_size.min(len)], BLOCK_LIMIT)?;
        inflated += content.len() as u64;
        if inflated > total_limit {
            bail!(
                "the metadata blocks inflate to more than {total_limit} bytes \
                 (the sample limit, ReadOptions::max_samples)"
            );
        }
        let (block_id, block_type) = (bytes.u16(offset)?, bytes.u16(offset + 2)?);
        if matches!(block_type, DHO800_CHANNEL_PARAMS | CHANNEL_PARAMS)
            && (1..=4).contains(&block_id)
        {
            meta.channel_blocks.push(Block {
                block_id,
                block_type,
                head: content[..content.len().min(CALIBRATION_BYTES)].to_vec(),
                len: content.len(),
            });
        }
        if meta.model.is_none() {
            meta.model = model(&content);
        }
        meta.blocks += 1;
        meta.end = offset + BLOCK_HEADER + len;
    }
}

/// The calibration of channel block `block`, of a DHO800 or a DHO1000.
fn calibration(block: &Block, dho800: bool) -> Result<Calibration> {
    let content = Bytes::new(&block.head, Order::Little);
    let short = |_| {
        format!(
            "channel block {} holds {} bytes, too few for its calibration",
            block.block_id, block.len
        )
    };
    let numerator = content.i64(1).map_err(short)? as f64;
    Ok(if dho800 {
        let scale = numerator / 7_500_000_000_000.0;
        let v_center = -f64::from(content.i32(38).map_err(short)?) / 1.0e9;
        (scale, v_center, v_center - scale * ADC_MIDPOINT)
    } else {
        let scale = numerator / 750_000_000_000.0;
        let v_center = content.i64(38).map_err(short)? as f64 / 1.0e8;
        (scale, v_center, -v_center - scale * ADC_MIDPOINT)
    })
}

/// The first `DHO…` or `MSO…` text of a block (RigolWFM `_parse_model`:
/// non-ASCII bytes dropped, then printable characters, at most 20).
fn model(content: &[u8]) -> Option<String> {
    let text: Vec<u8> = content.iter().copied().filter(u8::is_ascii).collect();
    [b"DHO", b"MSO"].iter().find_map(|prefix| {
        let at = text.windows(3).position(|w| w == *prefix)?;
        let run: String = text[at..]
            .iter()
            .take(20)
            .take_while(|&&b| (0x20..0x7F).contains(&b))
            .map(|&b| char::from(b))
            .collect();
        Some(run)
    })
}

/// Every channel of a DHO800 or DHO1000 WFM file.
pub(super) fn read(input: &Input<'_>) -> Result<Vec<Trace>> {
    let bytes = Bytes::new(input.data, Order::Little);
    let meta = metadata(&bytes, input.options.max_samples)?;
    let blocks_end = meta.end;
    if meta.blocks == 0 {
        bail!("no metadata block before the end marker at offset {blocks_end}");
    }
    let dho800 = meta
        .channel_blocks
        .iter()
        .any(|b| b.block_type == DHO800_CHANNEL_PARAMS);
    let wanted = if dho800 {
        DHO800_CHANNEL_PARAMS
    } else {
        CHANNEL_PARAMS
    };
    // In the order the ids first appear; a later block of the same id wins.
    let mut cal: Vec<(u16, Calibration)> = Vec::new();
    for block in meta
        .channel_blocks
        .iter()
        .filter(|b| b.block_type == wanted)
    {
        let c = calibration(block, dho800)?;
        match cal.iter_mut().find(|(id, _)| *id == block.block_id) {
            Some(slot) => slot.1 = c,
            None => cal.push((block.block_id, c)),
        }
    }
    let Some(&(_, first)) = cal.first() else {
        bail!("no channel calibration block (type {wanted}, id 1 to 4)");
    };
    let cal_of = |id: u16| cal.iter().find(|(i, _)| *i == id).map(|(_, c)| *c);
    let default = cal_of(1).unwrap_or(first);

    // The data section: after the zero padding that follows the blocks.
    let data = bytes.data();
    let offset = data[blocks_end..]
        .iter()
        .position(|&b| b != 0)
        .map_or(data.len(), |p| blocks_end + p);
    if offset + DATA_HEADER >= data.len() {
        bail!(
            "truncated: no data section after the metadata blocks (file holds {} bytes)",
            data.len()
        );
    }
    let total = bytes.u64(offset)?;
    if total == 0 || total > 2_000_000_000 {
        bail!(
            "the data section's sample count {total} at offset {offset} is not between 1 and 2000000000"
        );
    }
    let hint = bytes.u32(offset + 24)?;
    let (points, n_channels) = if hint > 0 {
        (
            u64::from(hint),
            (total as f64 / f64::from(hint)).round_ties_even(),
        )
    } else {
        (total, 1.0)
    };
    if !(1.0..=4.0).contains(&n_channels) {
        bail!(
            "the data section holds {total} samples of {hint} points: {n_channels} channels, not 1 to 4"
        );
    }
    let n_channels = n_channels as usize;
    input.check_samples(points)?;
    let raw = sample_block(&bytes, offset + DATA_HEADER, points * n_channels as u64, 2)?;
    let ticks = match bytes.u32(offset + 16)? {
        0 => 1,
        t if t > 1_000_000_000 => 1,
        t => t,
    };
    let tick = if dho800 {
        DHO800_TICK_S
    } else {
        DHO1000_TICK_S
    };
    let x_increment = f64::from(ticks) * tick;
    let x_origin = -(points as f64 / 2.0) * x_increment;
    let family = if dho800 { "DHO800" } else { "DHO1000" };
    let model = meta.model.unwrap_or_else(|| family.to_owned());

    let mut channels = Vec::new();
    for k in 0..n_channels {
        let (scale, v_center, offset) = cal_of(k as u16 + 1).unwrap_or(default);
        let lane: Vec<u8>;
        let codes = if n_channels == 1 {
            raw
        } else {
            lane = raw
                .chunks_exact(2)
                .skip(k)
                .step_by(n_channels)
                .flatten()
                .copied()
                .collect();
            &lane
        };
        let samples = decode(codes, SampleType::U16, ByteOrder::Little, |code| {
            f64::from((scale * code + offset) as f32)
        });
        channels.push(
            Channel::new(format!("CH{}", k + 1), samples, x_increment, x_origin)
                .with("volts_per_div", (scale * 65536.0 / 8.0).abs())
                .with("vertical_offset", v_center)
                .with("start_assumed", START_ASSUMED),
        );
    }
    traces(channels, &[("model", model), ("family", family.into())])
}
