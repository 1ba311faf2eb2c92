//! Test-only readers of the corpus dumps: just enough of an ELF core
//! (`PT_LOAD`, `NT_FILE`) and of a minidump (`ModuleList`, `Memory64List`)
//! to get an address space and where the images are. Kept here, not taken
//! from heaplens-elfcore, so that these tests only test this crate.
#![allow(dead_code)]

use heaplens_bytes::{FileSource, ReadAt};
use heaplens_memory::{MappedRange, MemoryMap, Region};
use std::path::{Path, PathBuf};

/// One `NT_FILE` entry.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub start: u64,
    pub end: u64,
    pub file_offset: u64,
    pub path: String,
}

/// An ELF core's memory and mapped files.
pub struct Core {
    pub memory: MemoryMap<FileSource>,
    pub files: Vec<Mapping>,
}

fn rd(src: &FileSource, off: u64, n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    src.read_at(off, &mut b).expect("read dump");
    b
}
fn u16le(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes(b[o..o + 2].try_into().unwrap())
}
fn u32le(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}
fn u64le(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}

impl Core {
    pub fn open(path: &Path) -> Core {
        let src = FileSource::open(path).expect("open core");
        let eh = rd(&src, 0, 64);
        assert_eq!(&eh[..4], b"\x7fELF");
        assert_eq!(eh[4], 2, "64-bit core");
        let phoff = u64le(&eh, 32);
        let phentsize = usize::from(u16le(&eh, 54));
        let phnum = usize::from(u16le(&eh, 56));
        let ph = rd(&src, phoff, phentsize * phnum);
        let mut ranges = Vec::new();
        let mut files = Vec::new();
        for i in 0..phnum {
            let p = &ph[i * phentsize..];
            let (kind, offset, vaddr, filesz, memsz) = (
                u32le(p, 0),
                u64le(p, 8),
                u64le(p, 16),
                u64le(p, 32),
                u64le(p, 40),
            );
            if kind == 1 {
                ranges.push(MappedRange {
                    region: Region {
                        start: vaddr,
                        size: memsz,
                        data_size: filesz.min(memsz),
                        protection: None,
                    },
                    file_offset: offset,
                });
            } else if kind == 4 {
                let notes = rd(&src, offset, filesz as usize);
                let mut o = 0usize;
                while o + 12 <= notes.len() {
                    let namesz = u32le(&notes, o) as usize;
                    let descsz = u32le(&notes, o + 4) as usize;
                    let ntype = u32le(&notes, o + 8);
                    o += 12 + ((namesz + 3) & !3);
                    let desc = &notes[o..o + descsz];
                    o += (descsz + 3) & !3;
                    if ntype == 0x4649_4C45 {
                        let count = u64le(desc, 0) as usize;
                        let page = u64le(desc, 8);
                        let names: Vec<&[u8]> =
                            desc[16 + 24 * count..].split(|&c| c == 0).collect();
                        for k in 0..count {
                            let e = &desc[16 + 24 * k..];
                            files.push(Mapping {
                                start: u64le(e, 0),
                                end: u64le(e, 8),
                                file_offset: u64le(e, 16) * page,
                                path: String::from_utf8_lossy(names[k]).into_owned(),
                            });
                        }
                    }
                }
            }
        }
        Core {
            memory: MemoryMap::new(src, 8, &ranges).expect("core map"),
            files,
        }
    }

    /// Mappings of files whose name is `name`, in address order.
    pub fn mappings_of(&self, name: &str) -> Vec<&Mapping> {
        let mut v: Vec<&Mapping> = self
            .files
            .iter()
            .filter(|m| m.path.rsplit('/').next() == Some(name))
            .collect();
        v.sort_by_key(|m| m.start);
        v
    }
}

/// A minidump module.
#[derive(Debug, Clone)]
pub struct MiniModule {
    pub base: u64,
    pub size: u32,
    pub time_date_stamp: u32,
    pub name: String,
    /// `VS_FIXEDFILEINFO` file version words (MS, LS).
    pub file_version: (u32, u32),
}

/// A minidump's memory and modules.
pub struct Minidump {
    pub memory: MemoryMap<FileSource>,
    pub modules: Vec<MiniModule>,
}

impl Minidump {
    pub fn open(path: &Path) -> Minidump {
        let src = FileSource::open(path).expect("open minidump");
        let h = rd(&src, 0, 32);
        assert_eq!(&h[..4], b"MDMP");
        let n = u32le(&h, 8) as usize;
        let dir = rd(&src, u64::from(u32le(&h, 12)), 12 * n);
        let mut ranges = Vec::new();
        let mut modules = Vec::new();
        for i in 0..n {
            let (kind, size, rva) = (
                u32le(&dir, 12 * i),
                u32le(&dir, 12 * i + 4) as usize,
                u64::from(u32le(&dir, 12 * i + 8)),
            );
            let s = rd(&src, rva, size);
            match kind {
                4 => {
                    for k in 0..u32le(&s, 0) as usize {
                        let m = &s[4 + 108 * k..];
                        let name_rva = u64::from(u32le(m, 20));
                        let len = u32le(&rd(&src, name_rva, 4), 0) as usize;
                        let units: Vec<u16> = rd(&src, name_rva + 4, len)
                            .chunks_exact(2)
                            .map(|c| u16le(c, 0))
                            .collect();
                        modules.push(MiniModule {
                            base: u64le(m, 0),
                            size: u32le(m, 8),
                            time_date_stamp: u32le(m, 16),
                            name: String::from_utf16_lossy(&units),
                            file_version: (u32le(m, 24 + 8), u32le(m, 24 + 12)),
                        });
                    }
                }
                9 => {
                    let count = u64le(&s, 0) as usize;
                    let mut off = u64le(&s, 8);
                    for k in 0..count {
                        let (start, len) = (u64le(&s, 16 + 16 * k), u64le(&s, 24 + 16 * k));
                        ranges.push(MappedRange {
                            region: Region {
                                start,
                                size: len,
                                data_size: len,
                                protection: None,
                            },
                            file_offset: off,
                        });
                        off += len;
                    }
                }
                5 => {
                    for k in 0..u32le(&s, 0) as usize {
                        let e = &s[4 + 16 * k..];
                        let len = u64::from(u32le(e, 8));
                        ranges.push(MappedRange {
                            region: Region {
                                start: u64le(e, 0),
                                size: len,
                                data_size: len,
                                protection: None,
                            },
                            file_offset: u64::from(u32le(e, 12)),
                        });
                    }
                }
                _ => {}
            }
        }
        Minidump {
            memory: MemoryMap::new(src, 8, &ranges).expect("minidump map"),
            modules,
        }
    }

    pub fn module(&self, file_name: &str) -> Option<&MiniModule> {
        self.modules.iter().find(|m| {
            m.name
                .rsplit(['\\', '/'])
                .next()
                .is_some_and(|n| n.eq_ignore_ascii_case(file_name))
        })
    }
}

/// The corpus fixture folder `name`, or `None` (after saying so) when the
/// corpus is missing.
pub fn fixture(name: &str, what: &str) -> Option<PathBuf> {
    let shared = heaplens_corpus::shared_or_skip(what)?;
    let dir = heaplens_corpus::fixture_dirs(&shared)
        .into_iter()
        .find(|d| d.file_name().is_some_and(|n| n == name));
    match dir {
        Some(d) => Some(d),
        None if heaplens_corpus::corpus_required() => panic!("fixture folder {name} is missing"),
        None => {
            eprintln!("SKIPPED {what}: fixture folder {name} is missing");
            None
        }
    }
}

/// The unpacked phase-1 dump of a fixture folder (`phase1.*.core.zst` or
/// `phase1.windump.dmp.zst`).
pub fn phase1_dump(dir: &Path) -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("fixture dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.starts_with("phase1.")
                && (n.ends_with(".core.zst") || n.ends_with(".windump.dmp.zst"))
        })
        .collect();
    found.sort();
    let zst = found.first().expect("a phase-1 dump");
    heaplens_corpus::unpacked(zst).expect("unpack dump")
}
