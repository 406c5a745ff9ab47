//! Reading an input file to text: transparent `.gz`/`.bz2` decompression, a
//! UTF-8 byte-order mark skipped, and bytes that are not valid in the declared
//! encoding reported with their line and byte offset.

use std::fs;
use std::io::Read;
use std::path::Path;

use super::{Encoding, Location};
use crate::DataError;

/// The bytes of a file named `path`, decompressed when its name ends with
/// `.gz` or `.bz2` (other bytes are returned as they are).
pub fn decompress(path: &Path, raw: Vec<u8>) -> Result<Vec<u8>, DataError> {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let mut out = Vec::new();
    let result = if name.ends_with(".gz") {
        flate2::read::MultiGzDecoder::new(raw.as_slice()).read_to_end(&mut out)
    } else if name.ends_with(".bz2") {
        bzip2::read::MultiBzDecoder::new(raw.as_slice()).read_to_end(&mut out)
    } else {
        return Ok(raw);
    };
    result.map_err(|e| DataError::Malformed {
        path: path.to_path_buf(),
        at: Location::File,
        message: format!("cannot decompress ({e}); the name says it is compressed: check the file or rename it"),
    })?;
    Ok(out)
}

/// Decode `bytes` (read from `path`) as text in `encoding`. A UTF-8 BOM is
/// dropped; a UTF-16 BOM or invalid bytes are an error saying where.
pub fn decode(path: &Path, bytes: Vec<u8>, encoding: Encoding) -> Result<String, DataError> {
    let malformed = |at, message| DataError::Malformed { path: path.to_path_buf(), at, message };
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(malformed(
            Location::Line(1),
            "the file starts with a UTF-16 byte-order mark: convert it to UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8`)".into(),
        ));
    }
    let mut bytes = bytes;
    if encoding != Encoding::Latin1 && bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
    }
    match (encoding, String::from_utf8(bytes)) {
        (Encoding::Utf8 | Encoding::Auto, Ok(text)) => Ok(text),
        // Latin-1 maps each byte to the code point of the same value.
        (Encoding::Latin1, Ok(text)) => Ok(text.as_bytes().iter().map(|&b| b as char).collect()),
        (Encoding::Latin1 | Encoding::Auto, Err(e)) => Ok(e.as_bytes().iter().map(|&b| b as char).collect()),
        (Encoding::Utf8, Err(e)) => {
            let bytes = e.as_bytes();
            let at = e.utf8_error().valid_up_to();
            let line = 1 + bytes[..at].iter().filter(|b| **b == b'\n').count();
            let bad: Vec<String> = bytes[at..].iter().take(4).map(|b| format!("0x{b:02X}")).collect();
            Err(malformed(
                Location::Line(line),
                format!(
                    "byte {at} ({}) is not valid UTF-8: save the file as UTF-8, or pass `--encoding latin1` if it is Latin-1",
                    bad.join(" ")
                ),
            ))
        }
    }
}

/// Read a file and decode it in one step.
pub fn read_text(path: &Path, encoding: Encoding) -> Result<String, DataError> {
    let raw = fs::read(path).map_err(DataError::io(path))?;
    decode(path, decompress(path, raw)?, encoding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_is_dropped_and_bad_bytes_are_located() {
        let p = Path::new("f.txt");
        assert_eq!(decode(p, b"\xEF\xBB\xBFabc".to_vec(), Encoding::Utf8).expect("utf8"), "abc");
        let err = decode(p, b"ok\nstill ok\nbad \xE9t\xE9".to_vec(), Encoding::Utf8).expect_err("bad").to_string();
        assert!(err.contains("f.txt, line 3") && err.contains("0xE9") && err.contains("--encoding latin1"), "{err}");
        assert_eq!(decode(p, b"caf\xE9".to_vec(), Encoding::Latin1).expect("latin1"), "café");
        assert!(decode(p, b"\xFF\xFEa\0".to_vec(), Encoding::Utf8).is_err());
    }
}
