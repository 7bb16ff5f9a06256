//! The ZIP container of a sigrok session, read only as far as a session
//! needs: the central directory (ZIP64 included), stored and deflated
//! members, CRC-32 checked.
//!
//! Field names and section numbers are those of PKWARE's APPNOTE.TXT
//! ("ZIP File Format Specification", 6.3). Every size is checked before
//! anything is allocated: a member's declared size must fit in the file
//! (stored) or in what deflate can expand its bytes to (at most 1032 to 1);
//! members may not share bytes (the trick of "non-recursive" zip bombs); and
//! a member inflates into a buffer of exactly its declared size, so one that
//! inflates to more is an error as soon as it overflows that buffer.

use std::collections::HashMap;

use miniz_oxide::inflate::{
    TINFLStatus,
    core::{DecompressorOxide, decompress, inflate_flags},
};

use crate::{
    bytes::{Bytes, Order},
    error::{Result, bail},
};

/// "end of central dir signature" (4.3.16).
const EOCD_SIGNATURE: u32 = 0x0605_4b50;
/// Size of the end of central directory record without its comment (4.3.16).
const EOCD_LEN: usize = 22;
/// "zip64 end of central dir locator signature" (4.3.15).
const ZIP64_LOCATOR_SIGNATURE: u32 = 0x0706_4b50;
/// Size of the zip64 end of central directory locator (4.3.15).
const ZIP64_LOCATOR_LEN: usize = 20;
/// "zip64 end of central dir signature" (4.3.14).
const ZIP64_EOCD_SIGNATURE: u32 = 0x0606_4b50;
/// "central file header signature" (4.3.12).
const CENTRAL_SIGNATURE: u32 = 0x0201_4b50;
/// Size of a central file header before its variable fields (4.3.12).
const CENTRAL_LEN: usize = 46;
/// "local file header signature" (4.3.7).
const LOCAL_SIGNATURE: u32 = 0x0403_4b50;
/// Size of a local file header before its variable fields (4.3.7).
const LOCAL_LEN: usize = 30;
/// Header ID of the "Zip64 Extended Information Extra Field" (4.5.3).
const ZIP64_EXTRA_ID: u16 = 0x0001;
/// Most bytes one byte of deflate data can expand to (a 258-byte match in
/// two bits).
const MAX_DEFLATE_RATIO: u64 = 1032;

/// "compression method" 0: the file is stored (no compression) (4.4.5).
const STORED: u16 = 0;
/// "compression method" 8: the file is Deflated (4.4.5).
const DEFLATED: u16 = 8;

/// One member of the archive, as its central file header describes it.
#[derive(Debug)]
pub(super) struct Member<'a> {
    /// "file name" (4.4.17).
    pub(super) name: String,
    /// "compression method" (4.4.5).
    method: u16,
    /// "crc-32" of the uncompressed data (4.4.7).
    crc32: u32,
    /// "uncompressed size" (4.4.9), from the ZIP64 extra field where set there.
    pub(super) size: u64,
    /// The member's data as stored: "compressed size" (4.4.8) bytes after
    /// its local file header.
    data: &'a [u8],
}

/// The members of a ZIP archive.
#[derive(Debug)]
pub(super) struct Archive<'a> {
    members: Vec<Member<'a>>,
    /// Index of each member by name.
    by_name: HashMap<String, usize>,
}

impl<'a> Archive<'a> {
    /// Reads the central directory of the archive `data`.
    pub(super) fn open(data: &'a [u8]) -> Result<Archive<'a>> {
        let bytes = Bytes::new(data, Order::Little);
        let directory = Directory::find(&bytes)?;
        // Every central file header takes at least CENTRAL_LEN bytes: more
        // entries than that do not fit, whatever the record says.
        let fit = directory.size / CENTRAL_LEN as u64;
        if directory.entries > fit {
            bail!(
                "damaged ZIP: the central directory says {} entries, its {} bytes hold at most {fit}",
                directory.entries,
                directory.size
            );
        }
        let mut members = Vec::new();
        let mut spans = Vec::new();
        let mut at = to_usize(directory.offset, "central directory offset")?;
        for _ in 0..directory.entries {
            let (member, span, next) = read_central_header(&bytes, at)?;
            members.push(member);
            spans.push(span);
            at = next;
        }
        check_disjoint(&mut spans, &members)?;
        let mut by_name = HashMap::with_capacity(members.len());
        for (i, member) in members.iter().enumerate() {
            if by_name.insert(member.name.clone(), i).is_some() {
                bail!("damaged ZIP: two members are called '{}'", member.name);
            }
        }
        Ok(Archive { members, by_name })
    }

    /// The member called `name`, if any.
    pub(super) fn member(&self, name: &str) -> Option<&Member<'a>> {
        self.by_name.get(name).map(|&i| &self.members[i])
    }

    /// The names of all members.
    pub(super) fn names(&self) -> impl Iterator<Item = &str> {
        self.members.iter().map(|m| m.name.as_str())
    }
}

impl Member<'_> {
    /// Appends the member's uncompressed bytes to `out`: exactly
    /// [`Member::size`] of them, or an error.
    pub(super) fn extract_into(&self, out: &mut Vec<u8>) -> Result<()> {
        let size = to_usize(self.size, "member size")?;
        let start = out.len();
        match self.method {
            STORED => {
                if self.data.len() != size {
                    bail!(
                        "damaged ZIP: stored member '{}' holds {} bytes but says {size}",
                        self.name,
                        self.data.len()
                    );
                }
                reserve(out, size)?;
                out.extend_from_slice(self.data);
            }
            DEFLATED => {
                // One byte more than declared: a stream that writes it
                // inflates past its declared size.
                let room = size.saturating_add(1);
                reserve(out, room)?;
                out.resize(start + room, 0);
                let written = inflate(self.data, &mut out[start..]);
                out.truncate(start + written.as_ref().map_or(0, |&n| n.min(size)));
                match written {
                    Ok(n) if n == size => {}
                    Ok(n) if n > size => bail!(
                        "damaged ZIP (or a zip bomb): member '{}' inflates past its declared {size} bytes",
                        self.name
                    ),
                    Ok(n) => bail!(
                        "damaged ZIP: member '{}' inflates to {n} bytes but says {size}",
                        self.name
                    ),
                    Err(why) => bail!("damaged ZIP: member '{}': {why}", self.name),
                }
            }
            other => bail!(
                "member '{}' uses ZIP compression method {other}; tracekit reads stored (0) and deflated (8) members",
                self.name
            ),
        }
        let crc = crc32(&out[start..]);
        if crc != self.crc32 {
            bail!(
                "damaged ZIP: member '{}' has CRC-32 {crc:08x}, its header says {:08x}",
                self.name,
                self.crc32
            );
        }
        Ok(())
    }
}

/// Where the central directory lies, from the end of central directory
/// record (4.3.16) or its ZIP64 counterpart (4.3.14).
#[derive(Debug)]
struct Directory {
    /// "total number of entries in the central directory".
    entries: u64,
    /// "size of the central directory".
    size: u64,
    /// "offset of start of central directory with respect to the starting disk number".
    offset: u64,
}

impl Directory {
    fn find(bytes: &Bytes<'_>) -> Result<Directory> {
        let len = bytes.len();
        if len < EOCD_LEN {
            bail!(
                "truncated: a ZIP archive ends with a {EOCD_LEN}-byte record, the file holds {len} bytes"
            );
        }
        // The record is followed only by its comment (at most 65535 bytes).
        let lowest = len.saturating_sub(EOCD_LEN + usize::from(u16::MAX));
        let eocd = (lowest..=len - EOCD_LEN)
            .rev()
            .find(|&at| {
                bytes.u32(at) == Ok(EOCD_SIGNATURE)
                    && bytes
                        .u16(at + 20)
                        .is_ok_and(|comment| at + EOCD_LEN + usize::from(comment) <= len)
            })
            .ok_or("truncated or damaged ZIP: no end of central directory record")?;
        let disk = bytes.u16(eocd + 4)?;
        let cd_disk = bytes.u16(eocd + 6)?;
        let mut directory = Directory {
            entries: u64::from(bytes.u16(eocd + 10)?),
            size: u64::from(bytes.u32(eocd + 12)?),
            offset: u64::from(bytes.u32(eocd + 16)?),
        };
        if disk != 0 || cd_disk != 0 {
            bail!(
                "the ZIP archive spans several disks (this is disk {disk}); tracekit reads single-file archives"
            );
        }
        let zip64 = directory.entries == u64::from(u16::MAX)
            || directory.size == u64::from(u32::MAX)
            || directory.offset == u64::from(u32::MAX);
        let locator = eocd.checked_sub(ZIP64_LOCATOR_LEN);
        if let Some(locator) = locator.filter(|&at| bytes.u32(at) == Ok(ZIP64_LOCATOR_SIGNATURE)) {
            let at = to_usize(
                bytes.u64(locator + 8)?,
                "zip64 end of central directory offset",
            )?;
            if bytes.u32(at)? != ZIP64_EOCD_SIGNATURE {
                bail!("damaged ZIP: no zip64 end of central directory record at offset {at}");
            }
            directory = Directory {
                entries: bytes.u64(at + 32)?,
                size: bytes.u64(at + 40)?,
                offset: bytes.u64(at + 48)?,
            };
        } else if zip64 {
            bail!(
                "damaged ZIP: the end of central directory record needs a zip64 record, and there is none"
            );
        }
        Ok(directory)
    }
}

/// The byte span a member occupies: its local header and its data.
type Span = (u64, u64);

/// Reads the central file header at `at` (4.3.12): the member, the span of
/// the file it occupies, and where the next header starts.
fn read_central_header<'a>(bytes: &Bytes<'a>, at: usize) -> Result<(Member<'a>, Span, usize)> {
    if bytes.u32(at)? != CENTRAL_SIGNATURE {
        bail!("damaged ZIP: no central file header at offset {at}");
    }
    let flags = bytes.u16(at + 8)?;
    let method = bytes.u16(at + 10)?;
    let crc32 = bytes.u32(at + 16)?;
    let mut compressed = u64::from(bytes.u32(at + 20)?);
    let mut size = u64::from(bytes.u32(at + 24)?);
    let name_len = usize::from(bytes.u16(at + 28)?);
    let extra_len = usize::from(bytes.u16(at + 30)?);
    let comment_len = usize::from(bytes.u16(at + 32)?);
    let mut local = u64::from(bytes.u32(at + 42)?);
    let name = String::from_utf8_lossy(bytes.slice(at + CENTRAL_LEN, name_len)?).into_owned();
    let extra = bytes.slice(at + CENTRAL_LEN + name_len, extra_len)?;
    // 4.5.3: the ZIP64 field holds, in this order, the sizes and offset
    // whose 32-bit fields are all ones.
    if let Some(mut field) = zip64_extra(extra) {
        for value in [&mut size, &mut compressed, &mut local] {
            if *value == u64::from(u32::MAX) {
                let raw = field.get(..8).ok_or_else(|| {
                    format!("damaged ZIP: the zip64 field of member '{name}' is too short")
                })?;
                *value = u64::from_le_bytes(raw.try_into().unwrap_or_default());
                field = &field[8..];
            }
        }
    }
    let next = at + CENTRAL_LEN + name_len + extra_len + comment_len;
    if flags & 1 != 0 {
        bail!("member '{name}' is encrypted; tracekit reads unencrypted archives");
    }
    // Local file header (4.3.7): its own name and extra field lengths.
    let local_at = to_usize(local, "local header offset")?;
    if bytes.u32(local_at)? != LOCAL_SIGNATURE {
        bail!("damaged ZIP: no local file header for member '{name}' at offset {local_at}");
    }
    let data_at = local_at
        + LOCAL_LEN
        + usize::from(bytes.u16(local_at + 26)?)
        + usize::from(bytes.u16(local_at + 28)?);
    let data = bytes.slice(data_at, to_usize(compressed, "compressed size")?)?;
    let most = match method {
        DEFLATED => compressed
            .saturating_mul(MAX_DEFLATE_RATIO)
            .saturating_add(MAX_DEFLATE_RATIO),
        _ => compressed,
    };
    if size > most {
        bail!(
            "damaged ZIP (or a zip bomb): member '{name}' says {size} bytes from {compressed} \
             compressed bytes, more than deflate can expand them to ({most})"
        );
    }
    let span = (local, (data_at + data.len()) as u64);
    let member = Member {
        name,
        method,
        crc32,
        size,
        data,
    };
    Ok((member, span, next))
}

/// The data of the ZIP64 extra field (4.5.3) among the extra fields of a header.
fn zip64_extra(mut extra: &[u8]) -> Option<&[u8]> {
    while extra.len() >= 4 {
        let id = u16::from_le_bytes([extra[0], extra[1]]);
        let len = usize::from(u16::from_le_bytes([extra[2], extra[3]]));
        let data = extra.get(4..4 + len)?;
        if id == ZIP64_EXTRA_ID {
            return Some(data);
        }
        extra = &extra[4 + len..];
    }
    None
}

/// An error if two members share bytes of the file.
fn check_disjoint(spans: &mut [Span], members: &[Member<'_>]) -> Result<()> {
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by_key(|&i| spans[i].0);
    for pair in order.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if spans[a].1 > spans[b].0 {
            bail!(
                "damaged ZIP (or a zip bomb): members '{}' and '{}' overlap at offset {}",
                members[a].name,
                members[b].name,
                spans[b].0
            );
        }
    }
    Ok(())
}

/// Inflates raw deflate data into `out`, returning how many bytes it wrote.
fn inflate(input: &[u8], out: &mut [u8]) -> std::result::Result<usize, &'static str> {
    let mut state = Box::<DecompressorOxide>::default();
    let flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    let (status, _, written) = decompress(&mut state, input, out, 0, flags);
    match status {
        TINFLStatus::Done => Ok(written),
        // The buffer is one byte longer than declared: full means "more".
        TINFLStatus::HasMoreOutput => Ok(out.len()),
        TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => {
            Err("its deflate data is truncated")
        }
        _ => Err("its deflate data is invalid"),
    }
}

/// Grows `out` to hold `more` bytes, or says they do not fit in memory.
fn reserve(out: &mut Vec<u8>, more: usize) -> Result<()> {
    out.try_reserve_exact(more)
        .map_err(|_| format!("{more} bytes of ZIP member data do not fit in memory").into())
}

/// `value` as a `usize`, or an error naming the field.
fn to_usize(value: u64, what: &str) -> Result<usize> {
    usize::try_from(value)
        .map_err(|_| format!("damaged ZIP: {what} {value} does not fit in memory").into())
}

/// The CRC-32 of APPNOTE 4.4.7 (ISO 3309, reflected polynomial 0xEDB88320).
fn crc32(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut n = 0;
        while n < 256 {
            let mut c = n as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            table[n] = c;
            n += 1;
        }
        table
    };
    !data
        .iter()
        .fold(!0u32, |c, &b| TABLE[usize::from((c as u8) ^ b)] ^ (c >> 8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_of_the_check_string() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn not_a_zip() {
        let e = Archive::open(b"PK\x03\x04 and nothing else at all").unwrap_err();
        assert!(
            e.0.contains("no end of central directory record"),
            "{}",
            e.0
        );
    }
}
