//! The segments of a TDMS file: lead in, meta data and where each segment's
//! raw data lies (NI "TDMS File Format Internal Structure", Binary Layout),
//! with the rules npTDMS (`nptdms/reader.py`, `tdms_segment.py`) follows for
//! object lists carried from one segment to the next.
//!
//! Reading is two passes: this one walks the segments and learns every
//! object, its properties and how many values it has; [`super::data`] then
//! decodes the raw data of the [`Block`]s into samples.

use std::{collections::HashMap, rc::Rc};

use super::types::{DataType, Value, read_string, read_value};
use crate::{
    bytes::{Bytes, Order},
    error::{Result, bail},
};

/// ToC "kTocMetaData": the segment has meta data.
const K_TOC_META_DATA: u32 = 1 << 1;
/// ToC "kTocNewObjList": the segment's object list replaces the previous one.
const K_TOC_NEW_OBJ_LIST: u32 = 1 << 2;
/// ToC "kTocInterleavedData": values of the channels alternate.
const K_TOC_INTERLEAVED_DATA: u32 = 1 << 5;
/// ToC "kTocBigEndian": everything after the ToC is big-endian.
const K_TOC_BIG_ENDIAN: u32 = 1 << 6;
/// ToC "kTocDAQmxRawData": the segment holds DAQmx raw data.
const K_TOC_DAQMX_RAW_DATA: u32 = 1 << 7;

/// Bytes of a segment's lead in.
const LEAD_IN_LEN: usize = 28;
/// "Next segment offset" of a segment LabVIEW did not finish writing.
const INCOMPLETE: u64 = u64::MAX;
/// Raw data index: the object has no raw data in this segment.
const NO_RAW_DATA: u32 = 0xFFFF_FFFF;
/// Raw data index: the object's index matches the previous segment's.
const SAME_AS_PREVIOUS: u32 = 0x0000_0000;
/// Raw data indexes of DAQmx data: format changing and digital line scalers.
const DAQMX_INDEXES: [u32; 2] = [0x0000_1269, 0x0000_126A];

/// A raw data index (Meta Data: "Raw data index").
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct RawIndex {
    /// "Data type" (`tdsDataType`).
    pub(super) data_type: DataType,
    /// "Number of values" per chunk.
    pub(super) values: u64,
    /// Bytes per chunk: values times the type's size, or, for strings,
    /// "Total size in bytes".
    pub(super) size: u64,
}

/// One object of a segment's object list.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Entry {
    /// Index into [`Tdms::objects`].
    pub(super) object: usize,
    /// Its raw data index (the last one given for it), if it ever had one.
    pub(super) index: Option<RawIndex>,
    /// Whether it has raw data in this segment.
    pub(super) has_data: bool,
}

/// A segment's object list and the size of one chunk of its raw data.
#[derive(Debug)]
pub(super) struct Layout {
    /// The objects in the order their data is stored.
    pub(super) entries: Vec<Entry>,
    /// Bytes of one chunk: the sizes of the objects with data.
    pub(super) chunk_size: u64,
}

impl Layout {
    /// The objects with data in this segment, with their index.
    pub(super) fn data_entries(&self) -> impl Iterator<Item = (usize, RawIndex)> + '_ {
        self.entries
            .iter()
            .filter(|e| e.has_data)
            .filter_map(|e| Some((e.object, e.index?)))
    }
}

/// The raw data of one segment.
#[derive(Debug)]
pub(super) struct Block {
    /// Offset of the raw data in the file.
    pub(super) at: usize,
    /// The object list.
    pub(super) layout: Rc<Layout>,
    /// Whole chunks.
    pub(super) chunks: u64,
    /// Values of each object (in [`Layout::data_entries`] order) in a
    /// final partial chunk: a segment LabVIEW did not finish writing.
    pub(super) partial: Option<Vec<u64>>,
    /// Byte order of the values.
    pub(super) order: Order,
    /// Whether the values of the objects alternate (interleaved data).
    pub(super) interleaved: bool,
}

/// A TDMS object: the file, a group or a channel.
#[derive(Debug)]
pub(super) struct Object {
    /// Its path: `/`, `/'group'` or `/'group'/'channel'`.
    pub(super) path: String,
    /// Its properties in the order first given; a later value replaces an earlier.
    pub(super) properties: Vec<(String, Value)>,
    /// The type of its raw data, once it has had a raw data index.
    pub(super) data_type: Option<DataType>,
    /// Values in all segments.
    pub(super) values: u64,
    /// Its entry in the last segment that listed it (npTDMS's
    /// "previous segment objects").
    last: Option<Entry>,
}

impl Object {
    /// An object with `properties` and no data yet.
    pub(super) fn new(path: String, properties: Vec<(String, Value)>) -> Object {
        Object {
            path,
            properties,
            data_type: None,
            values: 0,
            last: None,
        }
    }

    /// The property called `name`.
    pub(super) fn property(&self, name: &str) -> Option<&Value> {
        self.properties
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    fn set_property(&mut self, name: String, value: Value) {
        match self.properties.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.properties.push((name, value)),
        }
    }
}

/// Everything the meta data of a file says, and where its raw data lies.
#[derive(Debug, Default)]
pub(super) struct Tdms {
    /// Every object, in the order first seen.
    pub(super) objects: Vec<Object>,
    /// The raw data of the segments that have any.
    pub(super) blocks: Vec<Block>,
    /// Index of each object by path.
    by_path: HashMap<String, usize>,
}

/// Walks every segment of a TDMS file (`data` starts with `TDSm`).
pub(super) fn parse(data: &[u8]) -> Result<Tdms> {
    let mut tdms = Tdms::default();
    let mut previous: Option<Rc<Layout>> = None;
    let mut at = 0;
    while at < data.len() {
        let (layout, end) = tdms.segment(data, at, previous.as_ref())?;
        previous = Some(layout);
        at = end;
    }
    Ok(tdms)
}

impl Tdms {
    /// Reads the segment at `at`: its layout and where the next segment starts.
    fn segment(
        &mut self,
        data: &[u8],
        at: usize,
        previous: Option<&Rc<Layout>>,
    ) -> Result<(Rc<Layout>, usize)> {
        let len = data.len();
        if len - at < LEAD_IN_LEN {
            bail!(
                "truncated: the segment at offset {at} has {} of its {LEAD_IN_LEN} lead-in bytes",
                len - at
            );
        }
        // Lead in: "TDSm", the ToC (always little-endian), then version and
        // offsets in the segment's byte order.
        match &data[at..at + 4] {
            b"TDSm" => {}
            b"TDSh" if at == 0 => bail!(
                "this is a TDMS index file (TDSh), which holds no samples: read the .tdms file it indexes"
            ),
            tag => bail!(
                "no segment at offset {at}: found {:?} where 'TDSm' starts a segment",
                String::from_utf8_lossy(tag)
            ),
        }
        let toc = Bytes::new(data, Order::Little).u32(at + 4)?;
        let order = if toc & K_TOC_BIG_ENDIAN != 0 {
            Order::Big
        } else {
            Order::Little
        };
        let bytes = Bytes::new(data, order);
        let version = bytes.u32(at + 8)?;
        if version != 4712 && version != 4713 {
            bail!(
                "unknown TDMS version {version} in the segment at offset {at} (tracekit reads 4712 and 4713)"
            );
        }
        if toc & K_TOC_DAQMX_RAW_DATA != 0 {
            bail!("the segment at offset {at} holds DAQmx raw data, which tracekit does not read");
        }
        let next_segment_offset = bytes.u64(at + 12)?;
        let raw_data_offset = bytes.u64(at + 20)?;
        let lead_end = at + LEAD_IN_LEN;
        let end = if next_segment_offset == INCOMPLETE {
            len
        } else {
            match usize::try_from(next_segment_offset)
                .ok()
                .and_then(|n| lead_end.checked_add(n))
            {
                Some(end) if end <= len => end,
                _ => bail!(
                    "truncated: the segment at offset {at} says the next starts {next_segment_offset} bytes \
                     after its lead in (at {}), the file holds {len} bytes",
                    lead_end as u128 + u128::from(next_segment_offset)
                ),
            }
        };
        let data_at = match usize::try_from(raw_data_offset)
            .ok()
            .and_then(|n| lead_end.checked_add(n))
        {
            Some(data_at) if data_at <= end => data_at,
            _ => bail!(
                "the segment at offset {at} says its raw data starts {raw_data_offset} bytes after its lead in, \
                 past the segment's end at {end}"
            ),
        };
        let layout = if toc & K_TOC_META_DATA != 0 {
            let new_list = toc & K_TOC_NEW_OBJ_LIST != 0;
            let base = previous.filter(|_| !new_list).map(|p| p.entries.clone());
            Rc::new(self.meta_data(&bytes, lead_end, data_at, base)?)
        } else {
            match previous {
                Some(previous) => Rc::clone(previous),
                None => bail!("the first segment has no meta data (kTocMetaData is not set)"),
            }
        };
        // The ToC of this segment says how its data lies, even where the
        // object list is the previous segment's.
        let toc_interleaved = toc & K_TOC_INTERLEAVED_DATA != 0;
        let interleaved = interleaved(&layout, toc_interleaved, &self.objects)?;
        let block = Block {
            at: data_at,
            layout: Rc::clone(&layout),
            chunks: 0,
            partial: None,
            order,
            interleaved,
        };
        self.count_values(
            at,
            block,
            end,
            next_segment_offset == INCOMPLETE,
            toc_interleaved,
        )?;
        Ok((layout, end))
    }

    /// Reads the meta data between `from` and `to`: the segment's object
    /// list, starting from `base` (the previous list) unless it is new.
    fn meta_data(
        &mut self,
        bytes: &Bytes<'_>,
        from: usize,
        to: usize,
        base: Option<Vec<Entry>>,
    ) -> Result<Layout> {
        let mut entries = base.unwrap_or_default();
        let mut position: HashMap<usize, usize> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.object, i))
            .collect();
        let count = bytes.u32(from)?;
        let mut at = from + 4;
        for _ in 0..count {
            if at >= to {
                bail!(
                    "the meta data at offset {from} lists {count} objects, more than fit before its raw data at {to}"
                );
            }
            let (path, next) = read_string(bytes, at)?;
            let header = bytes.u32(next)?;
            at = next + 4;
            let object = self.object(&path);
            let new_index = match header {
                NO_RAW_DATA | SAME_AS_PREVIOUS => None,
                h if DAQMX_INDEXES.contains(&h) => {
                    bail!("object {path} holds DAQmx raw data, which tracekit does not read")
                }
                _ => {
                    let (index, next) = read_raw_index(bytes, at, &path)?;
                    at = next;
                    Some(index)
                }
            };
            let known = position
                .get(&object)
                .map(|&i| entries[i])
                .or(self.objects[object].last);
            let entry = match (header, known) {
                (NO_RAW_DATA, Some(known)) => Entry {
                    has_data: false,
                    ..known
                },
                (NO_RAW_DATA, None) => Entry {
                    object,
                    index: None,
                    has_data: false,
                },
                (SAME_AS_PREVIOUS, Some(known)) if known.index.is_some() => Entry {
                    has_data: true,
                    ..known
                },
                (SAME_AS_PREVIOUS, _) => bail!(
                    "object {path} says its raw data index is the same as before, but it has none before"
                ),
                _ => Entry {
                    object,
                    index: new_index,
                    has_data: true,
                },
            };
            match position.get(&object) {
                Some(&i) => entries[i] = entry,
                None => {
                    position.insert(object, entries.len());
                    entries.push(entry);
                }
            }
            let properties = bytes.u32(at)?;
            at += 4;
            for _ in 0..properties {
                if at >= to {
                    bail!(
                        "the properties of {path} run past the segment's raw data at offset {to}"
                    );
                }
                let (name, next) = read_string(bytes, at)?;
                let ty = DataType(bytes.u32(next)?);
                let (value, next) = read_value(bytes, next + 4, ty)
                    .map_err(|e| format!("property '{name}' of {path}: {}", e.0))?;
                self.objects[object].set_property(name, value);
                at = next;
            }
        }
        if at > to {
            bail!(
                "the meta data at offset {from} runs to offset {at}, past the segment's raw data at {to}"
            );
        }
        let chunk_size = entries
            .iter()
            .filter(|e| e.has_data)
            .filter_map(|e| e.index)
            .try_fold(0u64, |sum, index| sum.checked_add(index.size))
            .ok_or("a segment's chunk is more than 2^64 bytes")?;
        Ok(Layout {
            entries,
            chunk_size,
        })
    }

    /// The index of the object at `path`, created if new.
    fn object(&mut self, path: &str) -> usize {
        if let Some(&i) = self.by_path.get(path) {
            return i;
        }
        self.objects.push(Object::new(path.to_owned(), Vec::new()));
        self.by_path.insert(path.to_owned(), self.objects.len() - 1);
        self.objects.len() - 1
    }

    /// Counts the chunks of the block's raw data (up to `end`) and adds
    /// each object's values, as npTDMS does after reading a segment.
    fn count_values(
        &mut self,
        at: usize,
        mut block: Block,
        end: usize,
        incomplete: bool,
        toc_interleaved: bool,
    ) -> Result<()> {
        let layout = Rc::clone(&block.layout);
        let region = (end - block.at) as u64;
        let chunk = layout.chunk_size;
        let (chunks, partial) = match (chunk, region % chunk.max(1)) {
            (0, _) if region == 0 => (0, None),
            (0, _) => bail!(
                "the segment at offset {at} has {region} bytes of raw data but its objects have none"
            ),
            (_, 0) => (region / chunk, None),
            (_, rest) if incomplete => (
                region / chunk,
                Some(partial_chunk(&layout, rest, toc_interleaved)),
            ),
            (_, rest) => bail!(
                "the segment at offset {at} holds {region} bytes of raw data, not a whole number of \
                 {chunk}-byte chunks ({rest} bytes left over)"
            ),
        };
        let mut partial_values = partial.iter().flatten();
        for entry in &layout.entries {
            let object = &mut self.objects[entry.object];
            object.last = Some(*entry);
            let Some(index) = entry.index else { continue };
            if let Some(known) = object.data_type.filter(|&t| t != index.data_type) {
                bail!(
                    "object {} changes its data type from {known} to {} at the segment at offset {at}",
                    object.path,
                    index.data_type
                );
            }
            object.data_type = Some(index.data_type);
            if entry.has_data {
                let extra = partial_values.next().copied().unwrap_or(0);
                object.values = index
                    .values
                    .checked_mul(chunks)
                    .and_then(|n| n.checked_add(object.values))
                    .and_then(|n| n.checked_add(extra))
                    .ok_or_else(|| format!("object {} has more than 2^64 values", object.path))?;
            }
        }
        if chunks > 0 || partial.is_some() {
            block.chunks = chunks;
            block.partial = partial;
            self.blocks.push(block);
        }
        Ok(())
    }
}

/// A raw data index (type, dimension, number of values, and for strings
/// the total size) at `at`, and the offset after it.
fn read_raw_index(bytes: &Bytes<'_>, at: usize, path: &str) -> Result<(RawIndex, usize)> {
    let data_type = DataType(bytes.u32(at)?);
    let dimension = bytes.u32(at + 4)?;
    let values = bytes.u64(at + 8)?;
    if dimension != 1 {
        bail!("object {path} has array dimension {dimension}; TDMS 2.0 allows only 1");
    }
    if !data_type.is_readable() {
        bail!(
            "object {path} has raw data of type {data_type}, which tracekit (like npTDMS) cannot read"
        );
    }
    if data_type == DataType::VOID && values != 0 {
        bail!("object {path} has {values} values of type Void");
    }
    if data_type == DataType::STRING {
        return Ok((
            RawIndex {
                data_type,
                values,
                size: bytes.u64(at + 16)?,
            },
            at + 24,
        ));
    }
    let width = data_type.size().unwrap_or(0) as u64;
    let size = values.checked_mul(width).ok_or_else(|| {
        format!("object {path} says {values} values per chunk, more than 2^64 bytes")
    })?;
    Ok((
        RawIndex {
            data_type,
            values,
            size,
        },
        at + 16,
    ))
}

/// Whether a segment's data is read interleaved: as its ToC says, except
/// that npTDMS reads a lone string channel contiguously whatever the ToC says.
fn interleaved(layout: &Layout, toc_interleaved: bool, objects: &[Object]) -> Result<bool> {
    if !toc_interleaved {
        return Ok(false);
    }
    let mut values = None;
    let (mut count, mut without_size) = (0, 0);
    for (object, index) in layout.data_entries() {
        count += 1;
        without_size += usize::from(index.data_type.size().is_none());
        let first = *values.get_or_insert(index.values);
        if first != index.values {
            bail!(
                "interleaved object {} has {} values per chunk, the others {first}",
                objects[object].path,
                index.values
            );
        }
    }
    match (without_size, count) {
        (0, _) => Ok(true),
        (1, 1) => Ok(false),
        _ => bail!("an interleaved segment holds string data, which cannot be interleaved"),
    }
}

/// Values of each data object in a final chunk of `rest` bytes, as npTDMS
/// splits it (`_compute_final_chunk_lengths`): interleaved rows in
/// proportion, contiguous objects filled in order.
fn partial_chunk(layout: &Layout, mut rest: u64, interleaved: bool) -> Vec<u64> {
    let data: Vec<RawIndex> = layout.data_entries().map(|(_, index)| index).collect();
    if data.iter().any(|i| i.data_type.size().is_none()) {
        return vec![0; data.len()];
    }
    if interleaved {
        let chunk = layout.chunk_size.max(1);
        return data
            .iter()
            .map(|i| (u128::from(i.values) * u128::from(rest) / u128::from(chunk)) as u64)
            .collect();
    }
    let mut out = Vec::with_capacity(data.len());
    for index in &data {
        let width = index.data_type.size().unwrap_or(1) as u64;
        if rest > index.size {
            out.push(index.values);
            rest -= index.size;
        } else {
            out.push(rest / width);
            rest = 0;
        }
    }
    out
}
