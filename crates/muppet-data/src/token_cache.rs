//! The tokenized cache: a task's items on disk under `cache/tokens/`, keyed by the task's
//! data fingerprint, the tokenizer file's hash, the maximum length and the doc stride, so
//! that a run reads back in milliseconds what took seconds to tokenize, and any change to
//! the data or the tokenizer misses the cache. Files are written under a temporary name
//! and renamed; a file that does not read back (truncated, another version) is rebuilt.
//!
//! Format (little endian): `MUPTOK01`, item count (u64); per item: example (u32), sequence
//! count (u16), per sequence its length (u32), ids (u32 each), type ids (u8 each); target
//! tag (u8: 0 class, 1 value, 2 choice, 3 span) and payload (u32 / f32 / u32 / 2 x u32);
//! offset count (u32) and per token its `[start, end)` (2 x u32, `u32::MAX` for none).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::fingerprint::task_fingerprint;
use crate::tokenize::{Item, ItemTarget, TextEncoder, TokenSeq};
use crate::{DataError, LabeledTask};

const MAGIC: &[u8; 8] = b"MUPTOK01";

/// A folder of tokenized tasks.
pub struct TokenCache {
    dir: PathBuf,
}

/// Whether the items came from the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Hit,
    Miss,
}

impl TokenCache {
    /// The cache in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The file holding `task` tokenized by `text`.
    pub fn path(&self, task: &LabeledTask, text: &TextEncoder) -> PathBuf {
        let mut h = Sha256::new();
        for part in [task_fingerprint(task).as_str(), text.tokenizer_hash(), &text.max_len().to_string(), &text.doc_stride().to_string()] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        self.dir.join(format!("{}-{}.tok", task.spec.name, &hex::encode(h.finalize())[..32]))
    }

    /// The items of `task`, from the cache, or tokenized and then cached.
    pub fn load_or_encode(&self, task: &LabeledTask, text: &TextEncoder) -> Result<(Vec<Item>, Lookup), DataError> {
        let path = self.path(task, text);
        if let Ok(items) = read(&path) {
            return Ok((items, Lookup::Hit));
        }
        let items = text.encode_task(task)?;
        // A cache that cannot be written (read-only folder, full disk) costs speed, not the run.
        let _ = write(&path, &items);
        Ok((items, Lookup::Miss))
    }
}

fn write(path: &Path, items: &[Item]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut buf = Vec::with_capacity(items.len() * 64);
    buf.extend_from_slice(MAGIC);
    buf.extend_from_slice(&(items.len() as u64).to_le_bytes());
    let u32s = |buf: &mut Vec<u8>, v: u32| buf.extend_from_slice(&v.to_le_bytes());
    for item in items {
        u32s(&mut buf, item.example as u32);
        buf.extend_from_slice(&(item.seqs.len() as u16).to_le_bytes());
        for s in &item.seqs {
            u32s(&mut buf, s.ids.len() as u32);
            for &id in &s.ids {
                u32s(&mut buf, id);
            }
            buf.extend(s.type_ids.iter().map(|&t| t as u8));
        }
        match item.target {
            ItemTarget::Class(c) => {
                buf.push(0);
                u32s(&mut buf, c as u32);
            }
            ItemTarget::Value(v) => {
                buf.push(1);
                buf.extend_from_slice(&v.to_le_bytes());
            }
            ItemTarget::Choice(c) => {
                buf.push(2);
                u32s(&mut buf, c as u32);
            }
            ItemTarget::Span { start, end } => {
                buf.push(3);
                u32s(&mut buf, start as u32);
                u32s(&mut buf, end as u32);
            }
        }
        u32s(&mut buf, item.context_offsets.len() as u32);
        for o in &item.context_offsets {
            let (a, b) = o.map_or((u32::MAX, u32::MAX), |(a, b)| (a as u32, b as u32));
            u32s(&mut buf, a);
            u32s(&mut buf, b);
        }
    }
    let partial = dir.join(format!(".partial-{}-{}", std::process::id(), path.file_name().and_then(|n| n.to_str()).unwrap_or("tok")));
    std::fs::File::create(&partial)?.write_all(&buf)?;
    std::fs::rename(&partial, path)
}

/// A cursor over the file's bytes; every read checks the length.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> std::io::Result<&[u8]> {
        if self.0.len() < n {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "truncated cache file"));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }
    fn u32(&mut self) -> std::io::Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
}

fn read(path: &Path) -> std::io::Result<Vec<Item>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.read_to_end(&mut bytes)?;
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
    let mut c = Cursor(&bytes);
    if c.take(8)? != MAGIC {
        return Err(bad("not a token cache file"));
    }
    let n = u64::from_le_bytes(c.take(8)?.try_into().expect("8 bytes")) as usize;
    let mut items = Vec::with_capacity(n.min(bytes.len() / 8));
    for _ in 0..n {
        let example = c.u32()? as usize;
        let n_seqs = u16::from_le_bytes(c.take(2)?.try_into().expect("2 bytes")) as usize;
        let mut seqs = Vec::with_capacity(n_seqs);
        for _ in 0..n_seqs {
            let len = c.u32()? as usize;
            let ids = (0..len).map(|_| c.u32()).collect::<std::io::Result<Vec<u32>>>()?;
            let type_ids = c.take(len)?.iter().map(|&t| u32::from(t)).collect();
            seqs.push(TokenSeq { ids, type_ids });
        }
        let target = match c.take(1)?[0] {
            0 => ItemTarget::Class(c.u32()? as usize),
            1 => ItemTarget::Value(f32::from_le_bytes(c.take(4)?.try_into().expect("4 bytes"))),
            2 => ItemTarget::Choice(c.u32()? as usize),
            3 => ItemTarget::Span { start: c.u32()? as usize, end: c.u32()? as usize },
            _ => return Err(bad("unknown target tag")),
        };
        let n_offsets = c.u32()? as usize;
        let mut context_offsets = Vec::with_capacity(n_offsets.min(4096));
        for _ in 0..n_offsets {
            let (a, b) = (c.u32()?, c.u32()?);
            context_offsets.push((a != u32::MAX).then_some((a as usize, b as usize)));
        }
        items.push(Item { example, seqs, target, context_offsets });
    }
    if !c.0.is_empty() {
        return Err(bad("trailing bytes"));
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items() -> Vec<Item> {
        let seq = |ids: Vec<u32>| TokenSeq { type_ids: vec![0; ids.len()], ids };
        vec![
            Item { example: 0, seqs: vec![seq(vec![101, 7, 102])], target: ItemTarget::Class(1), context_offsets: vec![] },
            Item { example: 1, seqs: vec![seq(vec![101, 102])], target: ItemTarget::Value(-0.5), context_offsets: vec![] },
            Item { example: 2, seqs: vec![seq(vec![1, 2]), seq(vec![3, 4, 5])], target: ItemTarget::Choice(1), context_offsets: vec![] },
            Item {
                example: 3,
                seqs: vec![TokenSeq { ids: vec![101, 9, 102, 5, 6, 102], type_ids: vec![0, 0, 0, 1, 1, 1] }],
                target: ItemTarget::Span { start: 3, end: 4 },
                context_offsets: vec![None, None, None, Some((0, 4)), Some((5, 9)), None],
            },
        ]
    }

    #[test]
    fn items_round_trip_and_damage_is_detected() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.tok");
        write(&path, &items()).expect("write");
        assert_eq!(read(&path).expect("read"), items());
        let bytes = std::fs::read(&path).expect("bytes");
        std::fs::write(&path, &bytes[..bytes.len() - 3]).expect("truncate");
        assert!(read(&path).is_err());
        std::fs::write(&path, b"MUPTOK01\xff\xff\xff\xff\xff\xff\xff\x7f").expect("huge count");
        assert!(read(&path).is_err());
    }
}
