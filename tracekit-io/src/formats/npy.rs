//! NPY: NumPy arrays, 1-D one trace, 2-D one trace per row.

use tracekit_core::Trace;

use crate::{
    error::{Result, bail},
    registry::{Format, Input},
};

/// NumPy's `.npy` array format.
pub(crate) const FORMAT: Format = Format {
    name: "NPY",
    probe: |input| input.data.starts_with(b"\x93NUMPY"),
    read,
};

fn read(input: &Input<'_>) -> Result<Vec<Trace>> {
    let npy = npyz::NpyFile::new(input.data).map_err(|e| e.to_string())?;
    let shape: Vec<u64> = npy.shape().to_vec();
    let fortran = npy.order() == npyz::Order::Fortran;
    let descr = match npy.dtype() {
        npyz::DType::Plain(t) => t.to_string(),
        other => bail!("unsupported NPY dtype {other:?}"),
    };
    let bad = |e: std::io::Error| e.to_string();
    let flat: Vec<f64> = match &descr[1..] {
        "f8" => npy.into_vec::<f64>().map_err(bad)?,
        "f4" => npy
            .into_vec::<f32>()
            .map_err(bad)?
            .into_iter()
            .map(f64::from)
            .collect(),
        "i4" => npy
            .into_vec::<i32>()
            .map_err(bad)?
            .into_iter()
            .map(f64::from)
            .collect(),
        "i2" => npy
            .into_vec::<i16>()
            .map_err(bad)?
            .into_iter()
            .map(f64::from)
            .collect(),
        _ => bail!("unsupported NPY dtype '{descr}'"),
    };
    let Some(rate) = input.options.sample_rate else {
        bail!("an NPY file does not say its sample rate; give one (--sample-rate HZ)");
    };
    match shape.as_slice() {
        [_] => Ok(vec![Trace::new(flat, rate)?]),
        &[rows, cols] => {
            let (rows, cols) = (rows as usize, cols as usize);
            (0..rows)
                .map(|r| {
                    let row = if fortran {
                        (0..cols).map(|c| flat[c * rows + r]).collect()
                    } else {
                        flat[r * cols..(r + 1) * cols].to_vec()
                    };
                    Ok(Trace::new(row, rate)?)
                })
                .collect()
        }
        other => bail!("NPY arrays must be 1-D or 2-D (one trace per row), got shape {other:?}"),
    }
}
