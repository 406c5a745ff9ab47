//! Extract selected members of a wheel (zip) or a `.tar.gz`/`.tgz` archive.

use std::fs;
use std::io::{self, Read};
use std::path::{Component, Path};

use flate2::read::GzDecoder;

use super::Member;
use crate::DataError;

/// Copy every entry of `archive` selected by `members` into `out`.
/// Returns how many files were written; fails if some member matched nothing.
pub fn extract(archive: &Path, members: &[Member], out: &Path) -> Result<usize, DataError> {
    let name = archive.to_string_lossy();
    let mut hits = vec![0usize; members.len()];
    let arc_err = |source| DataError::Archive { archive: archive.to_path_buf(), source };
    if name.ends_with(".whl") || name.ends_with(".zip") {
        let file = fs::File::open(archive).map_err(arc_err)?;
        let mut zip = zip::ZipArchive::new(file).map_err(|e| arc_err(io::Error::other(e)))?;
        for i in 0..zip.len() {
            let mut entry = zip.by_index(i).map_err(|e| arc_err(io::Error::other(e)))?;
            let path = entry.name().to_string();
            route(&path, &mut entry, members, &mut hits, out).map_err(arc_err)?;
        }
    } else {
        let file = fs::File::open(archive).map_err(arc_err)?;
        extract_tar_gz(&mut { file }, members, &mut hits, out).map_err(arc_err)?;
    }
    let missing: Vec<&str> = members.iter().zip(&hits).filter(|(_, n)| **n == 0).map(|(m, _)| m.from).collect();
    if !missing.is_empty() {
        return Err(DataError::MissingMembers { archive: archive.to_path_buf(), missing: missing.join(", ") });
    }
    Ok(hits.iter().sum())
}

fn extract_tar_gz(reader: &mut dyn Read, members: &[Member], hits: &mut [usize], out: &Path) -> io::Result<()> {
    let mut tar = tar::Archive::new(GzDecoder::new(reader));
    for entry in tar.entries()? {
        let mut entry = entry?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path()?.to_string_lossy().into_owned();
        route(&path, &mut entry, members, hits, out)?;
    }
    Ok(())
}

/// Write `entry` wherever a member selects it (at most once).
fn route(path: &str, entry: &mut dyn Read, members: &[Member], hits: &mut [usize], out: &Path) -> io::Result<()> {
    for (i, m) in members.iter().enumerate() {
        if let Some(inner) = m.nested {
            if path == m.from {
                let mut inner_hits = [0usize];
                extract_tar_gz(entry, std::slice::from_ref(inner), &mut inner_hits, &out.join(m.to))?;
                hits[i] += inner_hits[0];
                return Ok(());
            }
        } else if let Some(dest) = m.destination(path) {
            let dest = safe_join(out, &dest)?;
            if let Some(parent) = dest.parent() {
                fs::create_dir_all(parent)?;
            }
            let mut file = fs::File::create(&dest)?;
            io::copy(entry, &mut file)?;
            hits[i] += 1;
            return Ok(());
        }
    }
    Ok(())
}

/// Join a relative archive path under `out`, refusing `..` and absolute paths.
fn safe_join(out: &Path, rel: &str) -> io::Result<std::path::PathBuf> {
    let rel = Path::new(rel);
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("unsafe path in archive: {}", rel.display())));
    }
    Ok(out.join(rel))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{write::GzEncoder, Compression};

    fn tar_gz(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
        for (path, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, path, *data).expect("append");
        }
        builder.into_inner().expect("finish").finish().expect("gz")
    }

    #[test]
    fn extracts_selected_members_including_nested_archives() {
        static INNER: Member = Member { from: "in/", to: "", suffix: ".txt", nested: None };
        let inner = tar_gz(&[("in/a.txt", b"A"), ("in/skip.pdf", b"P")]);
        let outer = tar_gz(&[("pkg/data/x.json", b"X"), ("pkg/other.py", b"no"), ("pkg/inner.tar.gz", &inner)]);
        let dir = tempfile::tempdir().expect("tempdir");
        let archive = dir.path().join("pkg.tar.gz");
        fs::write(&archive, outer).expect("write");
        let members = [
            Member { from: "pkg/data/", to: "data/", suffix: ".json", nested: None },
            Member { from: "pkg/inner.tar.gz", to: "gt/", suffix: "", nested: Some(&INNER) },
        ];
        let out = dir.path().join("out");
        let n = extract(&archive, &members, &out).expect("extract");
        assert_eq!(n, 2);
        assert_eq!(fs::read(out.join("data/x.json")).expect("x"), b"X");
        assert_eq!(fs::read(out.join("gt/a.txt")).expect("a"), b"A");
        assert!(!out.join("gt/skip.pdf").exists());
    }

    #[test]
    fn a_member_that_matches_nothing_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let archive = dir.path().join("pkg.tgz");
        fs::write(&archive, tar_gz(&[("pkg/a.txt", b"A")])).expect("write");
        let members = [Member { from: "pkg/b.txt", to: "b.txt", suffix: "", nested: None }];
        let err = extract(&archive, &members, &dir.path().join("out")).expect_err("missing");
        assert!(err.to_string().contains("pkg/b.txt"), "{err}");
    }
}
