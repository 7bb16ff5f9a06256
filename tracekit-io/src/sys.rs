//! The crate's one system call beyond std: a read-only memory mapping of a
//! file, so that NPY arrays of little-endian `f64` become traces without a
//! copy.

use std::{fs::File, os::fd::AsRawFd, ptr::NonNull, sync::Arc};

use tracekit_core::SampleBuffer;

/// A whole file mapped read-only and private; unmapped on drop.
///
/// As with any mapping (and `numpy.load(mmap_mode='r')`), a file truncated
/// by another process while it is mapped makes reading past the new end
/// fault; tracekit only maps NPY files, which writers replace rather than
/// truncate in place.
#[derive(Debug)]
pub(crate) struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY:
// - the mapping is read-only and never changes through this process;
// - its pages may be read from any thread.
unsafe impl Send for Mapping {}
// SAFETY: as above; shared access only reads.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps `len` bytes of `file` (its whole length, `len` > 0).
    pub(crate) fn new(file: &File, len: usize) -> std::io::Result<Mapping> {
        if len == 0 {
            return Err(std::io::Error::other("cannot map an empty file"));
        }
        // SAFETY:
        // - a fresh mapping (address chosen by the kernel) of an open file
        //   descriptor, read-only and private: it aliases no Rust memory;
        // - the result is checked for MAP_FAILED before use.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let ptr = NonNull::new(ptr.cast::<u8>())
            .ok_or_else(|| std::io::Error::other("mmap gave NULL"))?;
        Ok(Mapping { ptr, len })
    }

    /// The mapped bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY:
        // - `ptr` is a live mapping of `len` readable bytes until `self` drops;
        // - nothing writes to it (read-only, private).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` are exactly the mapping made in `new`, unmapped once.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}

/// `len` little-endian `f64` samples at `offset` in a mapping: a trace's
/// storage with no copy.
#[derive(Debug)]
pub(crate) struct MappedSamples {
    map: Arc<Mapping>,
    offset: usize,
    len: usize,
}

impl MappedSamples {
    /// The samples at `offset`, if they are inside the mapping, 8-byte
    /// aligned and this machine is little-endian; `None` otherwise (the
    /// caller then copies).
    pub(crate) fn new(map: &Arc<Mapping>, offset: usize, len: usize) -> Option<MappedSamples> {
        let end = len.checked_mul(8)?.checked_add(offset)?;
        let aligned = (map.ptr.as_ptr() as usize).checked_add(offset)? % align_of::<f64>() == 0;
        (cfg!(target_endian = "little") && end <= map.len && aligned).then(|| MappedSamples {
            map: Arc::clone(map),
            offset,
            len,
        })
    }
}

impl SampleBuffer for MappedSamples {
    fn samples(&self) -> &[f64] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY:
        // - `offset + 8 * len` is within the mapping and the address is
        //   8-byte aligned (checked in `new`);
        // - every bit pattern is a valid f64, and on this little-endian
        //   machine the file's `<f8` bytes are the values;
        // - the mapping lives as long as `self` (an `Arc`) and never changes.
        unsafe {
            std::slice::from_raw_parts(
                self.map.ptr.as_ptr().add(self.offset).cast::<f64>(),
                self.len,
            )
        }
    }
}
