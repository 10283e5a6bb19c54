//! A small streaming tar reader and writer: just what webdataset shards need.
//!
//! Hand-written rather than a dependency because the shards need little (regular files, GNU
//! long names, pax `path`/`size` records on input; ustar + GNU long names on output) and the
//! reader must be strict where general-purpose readers are lenient: a checksum that does not
//! match, a member cut short or a missing end-of-archive marker is an error naming the byte
//! offset, so that a truncated shard is never taken for a shorter one.
//!
//! Reading streams: one header and one member body in memory at a time, whatever the size of
//! the archive. Writing produces POSIX ustar headers (names over 100 bytes are split into
//! `prefix`/`name` where ustar allows it, else carried in a GNU `L` long-name member), which
//! Python's `tarfile`, GNU tar and the `webdataset` library read.

use std::io::{self, Read, Write};

const BLOCK: usize = 512;

/// One member's metadata, as read (and as written back for copied members).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Full member name (long names resolved).
    pub name: String,
    /// Type flag (`b'0'` regular file, `b'5'` directory, …).
    pub kind: u8,
    /// Permission bits.
    pub mode: u32,
    /// Owner ids.
    pub uid: u64,
    /// Group id.
    pub gid: u64,
    /// Modification time (seconds since the epoch).
    pub mtime: u64,
    /// Owner and group names.
    pub uname: String,
    /// Group name.
    pub gname: String,
    /// Link target (links only).
    pub linkname: String,
}

impl Header {
    /// A regular file named `name` with fixed, reproducible metadata (mode 0644, ids 0,
    /// mtime 0): outputs made from folders must not depend on when they were made.
    pub fn file(name: &str) -> Header {
        Header {
            name: name.to_string(),
            kind: b'0',
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime: 0,
            uname: String::new(),
            gname: String::new(),
            linkname: String::new(),
        }
    }

    /// Whether the member is a regular file (the only kind that belongs to a sample).
    pub fn is_file(&self) -> bool {
        self.kind == b'0' || self.kind == 0 || self.kind == b'7'
    }
}

/// A tar member: its header and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Metadata.
    pub header: Header,
    /// Contents.
    pub data: Vec<u8>,
}

/// Why an archive cannot be read further.
#[derive(Debug)]
pub struct TarError {
    /// Byte offset of the block where reading failed.
    pub offset: u64,
    /// What is wrong.
    pub reason: String,
    /// The member being read, when its header was read.
    pub member: Option<String>,
}

impl std::fmt::Display for TarError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at byte {})", self.reason, self.offset)
    }
}

/// Streaming reader: [`Reader::next_member`] until `Ok(None)` (the end-of-archive marker).
pub struct Reader<R: Read> {
    inner: R,
    offset: u64,
    done: bool,
    /// Largest member accepted (a hostile size field must not allocate terabytes).
    max_member: u64,
    /// Headers only ([`Reader::skipping_bodies`]): how to step over a regular file's body.
    skip: Option<fn(&mut R, u64) -> io::Result<()>>,
}

/// Largest member [`Reader`] accepts by default (1 GiB: far above any image or label).
pub const DEFAULT_MAX_MEMBER: u64 = 1 << 30;

fn parse_octal(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        // GNU base-256: big-endian, the first byte's top bit is the marker
        let mut v: u64 = (field[0] & 0x7f) as u64;
        for &b in &field[1..] {
            v = v.checked_mul(256)?.checked_add(b as u64)?;
        }
        return Some(v);
    }
    let s: Vec<u8> = field
        .iter()
        .copied()
        .take_while(|&b| b != 0)
        .filter(|&b| b != b' ')
        .collect();
    if s.is_empty() {
        return Some(0);
    }
    let s = std::str::from_utf8(&s).ok()?;
    u64::from_str_radix(s, 8).ok()
}

fn cstr(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

fn checksum(block: &[u8; BLOCK]) -> u64 {
    block
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                b as u64
            }
        })
        .sum()
}

impl<R: Read> Reader<R> {
    /// A reader of the archive `inner` (buffer it: reads are 512 bytes and member sized).
    pub fn new(inner: R) -> Reader<R> {
        Reader {
            inner,
            offset: 0,
            done: false,
            max_member: DEFAULT_MAX_MEMBER,
            skip: None,
        }
    }

    /// Read headers only: regular files' bodies are stepped over with `skip(inner, bytes)`
    /// (a seek, so that indexing a shard reads its headers, not its images) and returned
    /// empty. A body cut short by the end of the file then shows as a missing header.
    pub fn skipping_bodies(mut self, skip: fn(&mut R, u64) -> io::Result<()>) -> Reader<R> {
        self.skip = Some(skip);
        self
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn err(&self, at: u64, reason: impl Into<String>) -> TarError {
        TarError {
            offset: at,
            reason: reason.into(),
            member: None,
        }
    }

    /// Fill `buf` entirely; `Ok(false)` at a clean end of input before any byte.
    fn fill(&mut self, buf: &mut [u8]) -> Result<bool, TarError> {
        let mut got = 0;
        while got < buf.len() {
            match self.inner.read(&mut buf[got..]) {
                Ok(0) => {
                    return if got == 0 {
                        Ok(false)
                    } else {
                        Err(self.err(self.offset, "truncated: the archive ends inside a block"))
                    }
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.err(self.offset, format!("read error: {e}"))),
            }
        }
        self.offset += buf.len() as u64;
        Ok(true)
    }

    fn read_body(&mut self, size: u64, name: &str) -> Result<Vec<u8>, TarError> {
        let at = self.offset;
        if size > self.max_member {
            return Err(self.err(
                at,
                format!(
                    "member `{name}` claims {size} bytes, more than the limit of {}",
                    self.max_member
                ),
            ));
        }
        let padded = size.div_ceil(BLOCK as u64) * BLOCK as u64;
        let mut data = vec![0u8; padded as usize];
        match self.fill(&mut data) {
            Ok(true) => {}
            Ok(false) | Err(_) => {
                let mut e = self.err(
                    at,
                    format!("truncated: member `{name}` ({size} bytes) is cut short"),
                );
                e.member = Some(name.to_string());
                return Err(e);
            }
        }
        data.truncate(size as usize);
        Ok(data)
    }

    /// The next member (directories, links and other entries included; GNU long-name and
    /// pax records are applied to the member they describe, not returned), or `None` after
    /// the end-of-archive marker.
    pub fn next_member(&mut self) -> Result<Option<Member>, TarError> {
        if self.done {
            return Ok(None);
        }
        let mut long_name: Option<String> = None;
        let mut long_link: Option<String> = None;
        let mut pax_size: Option<u64> = None;
        loop {
            let at = self.offset;
            let mut block = [0u8; BLOCK];
            if !self.fill(&mut block)? {
                return Err(self.err(
                    at,
                    "truncated: no end-of-archive marker (the archive was cut at a member boundary)",
                ));
            }
            if block.iter().all(|&b| b == 0) {
                // End of archive: one zero block is enough to stop (GNU tar, Python), the
                // second is read when present.
                self.done = true;
                let mut second = [0u8; BLOCK];
                let _ = self.fill(&mut second);
                return Ok(None);
            }
            let stored = parse_octal(&block[148..156])
                .ok_or_else(|| self.err(at, "corrupt header: checksum field is not a number"))?;
            if stored != checksum(&block) {
                return Err(self.err(
                    at,
                    "corrupt header: checksum does not match (not a tar archive, or damaged)",
                ));
            }
            let kind = block[156];
            let size = parse_octal(&block[124..136])
                .ok_or_else(|| self.err(at, "corrupt header: size field is not a number"))?;
            let mut name = cstr(&block[0..100]);
            let ustar = &block[257..262] == b"ustar";
            if ustar && block[263] == b'0' {
                // POSIX ustar: prefix/name
                let prefix = cstr(&block[345..500]);
                if !prefix.is_empty() {
                    name = format!("{prefix}/{name}");
                }
            }
            match kind {
                b'L' | b'K' => {
                    let body = self.read_body(size, "././@LongLink")?;
                    let s = cstr(&body);
                    if kind == b'L' {
                        long_name = Some(s);
                    } else {
                        long_link = Some(s);
                    }
                    continue;
                }
                b'x' | b'g' => {
                    let body = self.read_body(size, "pax header")?;
                    if kind == b'x' {
                        for (k, v) in parse_pax(&body).map_err(|e| self.err(at, e))? {
                            match k.as_str() {
                                "path" => long_name = Some(v),
                                "linkpath" => long_link = Some(v),
                                "size" => {
                                    pax_size = Some(v.parse().map_err(|_| {
                                        self.err(at, "corrupt pax header: size is not a number")
                                    })?)
                                }
                                _ => {}
                            }
                        }
                    }
                    continue;
                }
                _ => {}
            }
            let size = pax_size.unwrap_or(size);
            let header = Header {
                name: long_name.take().unwrap_or(name),
                kind,
                mode: parse_octal(&block[100..108]).unwrap_or(0o644) as u32,
                uid: parse_octal(&block[108..116]).unwrap_or(0),
                gid: parse_octal(&block[116..124]).unwrap_or(0),
                mtime: parse_octal(&block[136..148]).unwrap_or(0),
                uname: cstr(&block[265..297]),
                gname: cstr(&block[297..329]),
                linkname: long_link.take().unwrap_or_else(|| cstr(&block[157..257])),
            };
            // Only regular files carry a body (links, directories, devices have size 0 or
            // their size is not stored).
            let has_body =
                header.is_file() || !matches!(kind, b'1' | b'2' | b'3' | b'4' | b'5' | b'6');
            let data = if let (Some(skip), true, true) = (self.skip, has_body, header.is_file()) {
                let padded = size.div_ceil(BLOCK as u64) * BLOCK as u64;
                skip(&mut self.inner, padded)
                    .map_err(|e| self.err(self.offset, format!("read error: {e}")))?;
                self.offset += padded;
                Vec::new()
            } else if has_body {
                self.read_body(size, &header.name)?
            } else {
                Vec::new()
            };
            return Ok(Some(Member { header, data }));
        }
    }
}

/// The records of a pax extended header (`"<len> <key>=<value>\n"`).
fn parse_pax(body: &[u8]) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() && rest[0] != 0 {
        let sp = rest
            .iter()
            .position(|&b| b == b' ')
            .ok_or("corrupt pax header: record without length")?;
        let len: usize = std::str::from_utf8(&rest[..sp])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or("corrupt pax header: record length is not a number")?;
        if len <= sp + 1 || len > rest.len() {
            return Err("corrupt pax header: record length out of range".into());
        }
        let rec = &rest[sp + 1..len];
        let rec = rec.strip_suffix(b"\n").unwrap_or(rec);
        if let Some(eq) = rec.iter().position(|&b| b == b'=') {
            out.push((
                String::from_utf8_lossy(&rec[..eq]).into_owned(),
                String::from_utf8_lossy(&rec[eq + 1..]).into_owned(),
            ));
        }
        rest = &rest[len..];
    }
    Ok(out)
}

/// Streaming writer of ustar archives.
pub struct Writer<W: Write> {
    inner: W,
    written: u64,
}

fn put_octal(field: &mut [u8], v: u64) {
    let digits = field.len() - 1;
    if v < 1u64 << (3 * digits as u32) {
        let s = format!("{v:0digits$o}");
        field[..digits].copy_from_slice(s.as_bytes());
        field[digits] = 0;
    } else {
        // GNU base-256 for values that octal cannot hold (members of 8 GiB and more)
        field.fill(0);
        let n = field.len();
        for (i, b) in v.to_be_bytes().iter().rev().enumerate() {
            if i < n {
                field[n - 1 - i] = *b;
            }
        }
        field[0] |= 0x80;
    }
}

fn put_str(field: &mut [u8], s: &str) {
    let b = s.as_bytes();
    let n = b.len().min(field.len());
    field[..n].copy_from_slice(&b[..n]);
}

/// Split a name for ustar's `prefix` (≤ 155) / `name` (≤ 100) fields at a `/`.
fn ustar_split(name: &str) -> Option<(&str, &str)> {
    if name.len() <= 100 {
        return Some(("", name));
    }
    let b = name.as_bytes();
    (0..b.len())
        .filter(|&i| b[i] == b'/')
        .find(|&i| i <= 155 && b.len() - i - 1 <= 100 && b.len() - i - 1 > 0)
        .map(|i| (&name[..i], &name[i + 1..]))
}

impl<W: Write> Writer<W> {
    /// A writer into `inner`.
    pub fn new(inner: W) -> Writer<W> {
        Writer { inner, written: 0 }
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    fn raw_header(&mut self, h: &Header, name: &str, prefix: &str, size: u64) -> io::Result<()> {
        let mut b = [0u8; BLOCK];
        put_str(&mut b[0..100], name);
        put_octal(&mut b[100..108], (h.mode & 0o7777) as u64);
        put_octal(&mut b[108..116], h.uid);
        put_octal(&mut b[116..124], h.gid);
        put_octal(&mut b[124..136], size);
        put_octal(&mut b[136..148], h.mtime);
        b[156] = if h.kind == 0 { b'0' } else { h.kind };
        put_str(&mut b[157..257], &h.linkname);
        b[257..263].copy_from_slice(b"ustar\0");
        b[263..265].copy_from_slice(b"00");
        put_str(&mut b[265..297], &h.uname);
        put_str(&mut b[297..329], &h.gname);
        put_str(&mut b[345..500], prefix);
        let sum = checksum(&b);
        let s = format!("{sum:06o}\0 ");
        b[148..156].copy_from_slice(s.as_bytes());
        self.inner.write_all(&b)?;
        self.written += BLOCK as u64;
        Ok(())
    }

    fn body(&mut self, data: &[u8]) -> io::Result<()> {
        self.inner.write_all(data)?;
        let pad = (BLOCK - data.len() % BLOCK) % BLOCK;
        self.inner.write_all(&[0u8; BLOCK][..pad])?;
        self.written += (data.len() + pad) as u64;
        Ok(())
    }

    /// Append a member with header `h` (its name and link name may be of any length) and
    /// contents `data` (empty for entries without a body).
    pub fn append(&mut self, h: &Header, data: &[u8]) -> io::Result<()> {
        if h.linkname.len() > 100 {
            let mut l = Header::file("././@LongLink");
            l.kind = b'K';
            let mut v = h.linkname.as_bytes().to_vec();
            v.push(0);
            self.raw_header(&l, "././@LongLink", "", v.len() as u64)?;
            self.body(&v)?;
        }
        let (prefix, name) = match ustar_split(&h.name) {
            Some(split) => split,
            None => {
                // GNU long name: a `L` member holding the name, then the header with the
                // name cut to 100 bytes (readers use the long one)
                let mut l = Header::file("././@LongLink");
                l.kind = b'L';
                let mut v = h.name.as_bytes().to_vec();
                v.push(0);
                self.raw_header(&l, "././@LongLink", "", v.len() as u64)?;
                self.body(&v)?;
                let mut cut = 100;
                while !h.name.is_char_boundary(cut) {
                    cut -= 1;
                }
                ("", &h.name[..cut])
            }
        };
        self.raw_header(h, name, prefix, data.len() as u64)?;
        self.body(data)
    }

    /// Write the end-of-archive marker (two zero blocks) and return the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.inner.write_all(&[0u8; 2 * BLOCK])?;
        self.written += 2 * BLOCK as u64;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = Writer::new(Vec::new());
        for (n, d) in members {
            w.append(&Header::file(n), d).unwrap();
        }
        w.finish().unwrap()
    }

    fn read_all(bytes: &[u8]) -> Result<Vec<Member>, TarError> {
        let mut r = Reader::new(bytes);
        let mut v = Vec::new();
        while let Some(m) = r.next_member()? {
            v.push(m);
        }
        Ok(v)
    }

    #[test]
    fn round_trip_short_split_and_long_names() {
        let long_dir = format!("{}/{}", "d".repeat(120), "x.jpg");
        let very_long = "n".repeat(300) + ".json";
        let members: Vec<(&str, &[u8])> = vec![
            ("a.jpg", b"jpegbytes"),
            ("a.cls", b"7"),
            (&long_dir, b""),
            (&very_long, &[1u8; 1000]),
        ];
        let bytes = archive(&members);
        assert_eq!(bytes.len() % 512, 0);
        let got = read_all(&bytes).unwrap();
        assert_eq!(got.len(), 4);
        for (m, (n, d)) in got.iter().zip(&members) {
            assert_eq!(&m.header.name, n);
            assert_eq!(&m.data[..], *d);
            assert!(m.header.is_file());
        }
    }

    #[test]
    fn truncation_and_damage_are_errors() {
        let bytes = archive(&[("k.jpg", &[7u8; 700]), ("k.txt", b"hello")]);
        // cut inside the first member's body
        let e = read_all(&bytes[..900]).unwrap_err();
        assert!(
            e.reason.contains("truncated") && e.reason.contains("k.jpg"),
            "{e}"
        );
        // cut at a member boundary: no end marker
        let e = read_all(&bytes[..512 + 1024]).unwrap_err();
        assert!(e.reason.contains("end-of-archive"), "{e}");
        // a flipped byte in the second header
        let mut bad = bytes.clone();
        bad[512 + 1024 + 3] ^= 1;
        let e = read_all(&bad).unwrap_err();
        assert!(e.reason.contains("checksum"), "{e}");
        assert_eq!(e.offset, 1536);
        // not a tar at all
        assert!(read_all(&[b'x'; 2048]).is_err());
    }

    #[test]
    fn octal_and_base256() {
        let mut f = [0u8; 12];
        put_octal(&mut f, 0o777);
        assert_eq!(parse_octal(&f), Some(0o777));
        put_octal(&mut f, 10 << 33);
        assert_eq!(f[0] & 0x80, 0x80);
        assert_eq!(parse_octal(&f), Some(10 << 33));
    }

    #[test]
    fn headers_only_reading_skips_bodies() {
        let bytes = archive(&[
            ("a.jpg", &[7u8; 700]),
            ("a.cls", b"3"),
            ("b.jpg", &[1u8; 5]),
        ]);
        let mut r = Reader::new(std::io::Cursor::new(bytes)).skipping_bodies(|c, n| {
            c.set_position(c.position() + n);
            Ok(())
        });
        let mut names = Vec::new();
        while let Some(m) = r.next_member().unwrap() {
            assert!(m.data.is_empty());
            names.push(m.header.name);
        }
        assert_eq!(names, ["a.jpg", "a.cls", "b.jpg"]);
    }

    #[test]
    fn pax_path_is_applied() {
        let mut out = Vec::new();
        let rec = "31 path=some/pax/long/name.txt\n";
        assert_eq!(rec.len(), 31);
        {
            let mut w = Writer::new(&mut out);
            let mut h = Header::file("PaxHeader");
            h.kind = b'x';
            w.append(&h, rec.as_bytes()).unwrap();
            w.append(&Header::file("short"), b"abc").unwrap();
            w.finish().unwrap();
        }
        let got = read_all(&out).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].header.name, "some/pax/long/name.txt");
        assert_eq!(got[0].data, b"abc");
    }
}
