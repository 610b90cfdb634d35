//! Arbitrary bytes through the language server's frame reader (src/lsp/frame.rs, which lives
//! in the binary and is compiled here as it is): it ends, never panics, never returns a
//! message over its cap, and consumes input on every frame (so a session cannot spin).

#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../src/lsp/frame.rs"]
mod frame;

fuzz_target!(|data: &[u8]| {
    // A small buffer, so that lines and messages straddle reads.
    let mut r = std::io::BufReader::with_capacity(16, data);
    let mut frames = 0;
    while let Ok(Some(f)) = frame::read_frame(&mut r) {
        frames += 1;
        assert!(frames <= data.len(), "more frames than bytes");
        if let frame::Frame::Content(c) = f {
            assert!(c.len() as u64 <= frame::MAX_CONTENT);
        }
    }
});
