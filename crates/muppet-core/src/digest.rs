//! The SHA-256 of a file, as the asset manifests, the checkpoint records and the run
//! bundles write it: lower-case hex.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

/// Lower-case hex SHA-256 of the file at `path`, read in 1 MiB blocks.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_file_hashes_to_its_known_sha256() {
        let path = std::env::temp_dir().join(format!("muppet-digest-{}", std::process::id()));
        std::fs::write(&path, b"abc").expect("write");
        let digest = super::sha256_file(&path);
        let _ = std::fs::remove_file(&path);
        // FIPS 180-2's example.
        assert_eq!(digest.expect("hash"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
