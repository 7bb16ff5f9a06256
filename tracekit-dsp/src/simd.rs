//! Loops compiled several times: for the baseline CPU and for wider vectors.

/// Defines a function whose body is compiled for the baseline CPU and once
/// for each listed x86 target feature (`"avx"`, `"avx2"`, `"avx512f"`), and
/// runs the first copy whose feature the CPU has. Every copy performs the
/// same IEEE operations in the same order (Rust never fuses a multiply and an
/// add on its own), so they give the same bits; a wide one only does more
/// lanes at once. The `"avx512f"` copy is built only by compilers that
/// accept that feature (see the build script).
macro_rules! widened {
    (
        [$($feature:tt),+],
        $(#[$meta:meta])*
        $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block
    ) => {
        $crate::simd::widened!(
            @fn [$($feature),+], $(#[$meta])* $vis $name, ($($arg: $ty),*), ($($arg),*), $body
        );
    };
    (
        @fn [$($feature:tt),+], $(#[$meta:meta])* $vis:vis $name:ident,
        $params:tt, $args:tt, $body:block
    ) => {
        $(#[$meta])*
        $vis fn $name $params {
            #[inline(always)]
            fn body $params $body
            $($crate::simd::widened!(@try $feature, $params, $args);)+
            body $args
        }
    };
    (@try "avx512f", $params:tt, $args:tt) => {
        #[cfg(tracekit_avx512)]
        $crate::simd::widened!(@run "avx512f", $params, $args);
    };
    (@try $feature:tt, $params:tt, $args:tt) => {
        $crate::simd::widened!(@run $feature, $params, $args);
    };
    (@run $feature:tt, $params:tt, $args:tt) => {
        #[cfg(target_arch = "x86_64")]
        {
            /// # Safety
            /// The CPU must support the target feature.
            #[target_feature(enable = $feature)]
            unsafe fn wide $params {
                body $args
            }
            if std::arch::is_x86_feature_detected!($feature) {
                // SAFETY:
                // - `wide` needs only the target feature, detected just above.
                return unsafe { wide $args };
            }
        }
    };
}

pub(crate) use widened;
