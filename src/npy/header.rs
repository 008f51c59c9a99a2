//! The `.npy` header: written exactly as numpy writes it, read by a strict parser.
//!
//! Layout (numpy's `format.py`, versions 1.0 to 3.0):
//!
//! | bytes | content |
//! |---|---|
//! | 6 | the magic string `\x93NUMPY` |
//! | 2 | major and minor version: `1 0`, `2 0` or `3 0` |
//! | 2 (1.0) or 4 (2.0, 3.0) | `HEADER_LEN`, little-endian |
//! | `HEADER_LEN` | the dictionary literal, padded with spaces, ending in `\n` (ASCII; UTF-8 in 3.0) |
//! | the rest | the elements, C order, in the byte order `descr` names |
//!
//! The dictionary numpy writes for a 1-D `int64` array of 3 elements is
//! `{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }`, followed by spaces (21 minus
//! the digits of the length, room to grow the length in place, then padding so the data starts
//! on a multiple of 64 bytes) and a newline.

use super::error::ShapeFmt;
use super::{Dtype, NpyError};
use std::io::{self, Read};

/// The first six bytes of every `.npy` file.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// The largest `HEADER_LEN` a load accepts: numpy's default `max_header_size`.
///
/// numpy refuses longer headers unless told the file is trusted, because its reader evaluates
/// the text; ours never evaluates it, but a 4 GiB length field in a 2.0 header must still not
/// make a reader allocate 4 GiB, and no header numpy writes for a 1-D array comes near this.
pub const MAX_HEADER_LEN: u64 = 10_000;

/// The data starts on a multiple of this many bytes (numpy's `ARRAY_ALIGN`).
const ARRAY_ALIGN: usize = 64;

/// numpy leaves room for this many digits in the length, so that a writer can grow the array
/// in place without moving the data (numpy's `GROWTH_AXIS_MAX_DIGITS`).
const GROWTH_AXIS_MAX_DIGITS: usize = 21;

/// What a `.npy` header says: format version, element type and element count.
///
/// Obtained from [`NpyReader::header`](super::NpyReader::header) once the whole header has been
/// validated (and, for a file, its length checked against the header's claim). This is the place
/// to look before choosing the element type to load as:
///
/// ```
/// use ftarray::FtArray;
/// use ftarray::npy::{ElementKind, NpyReader};
///
/// let mut file = Vec::new();
/// FtArray::from_slice(&[1u16, 2, 3]).write_npy(&mut file).unwrap();
///
/// let reader = NpyReader::new(&file[..]).unwrap();
/// let h = reader.header();
/// assert_eq!((h.dtype().kind(), h.dtype().size(), h.len()), (ElementKind::Uint, 2, 3));
/// assert_eq!(h.version(), (1, 0));
/// assert_eq!(h.data_offset() % 64, 0);
/// assert_eq!(h.data_len(), 6);
/// assert_eq!(h.shape(), [3]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NpyHeader {
    version: (u8, u8),
    dtype: Dtype,
    /// Element count; `len * dtype.size() <= isize::MAX`.
    len: usize,
    /// The shape was `()`: one element, a numpy scalar array.
    zero_d: bool,
    /// Bytes before the data: magic, version, length field and dictionary.
    data_offset: u64,
}

impl NpyHeader {
    /// The format version, `(1, 0)`, `(2, 0)` or `(3, 0)`.
    pub fn version(&self) -> (u8, u8) {
        self.version
    }

    /// The element type and the byte order of the data.
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    /// The number of elements (1 for a 0-d array).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The shape as written: `[]` for a 0-d array (one element), `[n]` otherwise.
    pub fn shape(&self) -> Vec<u64> {
        if self.zero_d {
            Vec::new()
        } else {
            vec![self.len as u64]
        }
    }

    /// Where the data starts: the header's length in bytes.
    pub fn data_offset(&self) -> u64 {
        self.data_offset
    }

    /// The data's length in bytes: element count × element size.
    pub fn data_len(&self) -> u64 {
        // No overflow: checked against isize::MAX when the header was parsed.
        self.len as u64 * self.dtype.size() as u64
    }

    /// The header numpy's `save` writes for a 1-D C-order array of `len` elements of `dtype`:
    /// format 1.0, the same dictionary text and spacing, padded so the data starts on a multiple
    /// of 64 bytes. A file is this followed by the elements.
    ///
    /// ```
    /// use ftarray::npy::{Dtype, NpyHeader};
    ///
    /// let h = NpyHeader::encode(Dtype::from_descr("<i8").unwrap(), 3);
    /// assert_eq!(h.len(), 128);
    /// assert_eq!(&h[..10], b"\x93NUMPY\x01\x00\x76\x00");
    /// assert!(h[10..].starts_with(b"{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }  "));
    /// assert!(h.ends_with(b" \n"));
    /// ```
    pub fn encode(dtype: Dtype, len: usize) -> Vec<u8> {
        let mut dict = format!(
            "{{'descr': '{}', 'fortran_order': False, 'shape': ({len},), }}",
            dtype.descr()
        );
        let digits = len.to_string().len();
        dict.extend(std::iter::repeat_n(
            ' ',
            GROWTH_AXIS_MAX_DIGITS.saturating_sub(digits),
        ));
        // numpy: hlen counts the newline; padlen is in 1..=64 (a whole 64 when already aligned).
        let prefix = MAGIC.len() + 2 + 2;
        let hlen = dict.len() + 1;
        let padlen = ARRAY_ALIGN - (prefix + hlen) % ARRAY_ALIGN;
        let header_len = hlen + padlen;
        let header_len16 =
            u16::try_from(header_len).expect("a 1-D header is far shorter than 65535 bytes");
        let mut out = Vec::with_capacity(prefix + header_len);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&header_len16.to_le_bytes());
        out.extend_from_slice(dict.as_bytes());
        out.extend(std::iter::repeat_n(b' ', padlen));
        out.push(b'\n');
        debug_assert_eq!(out.len() % ARRAY_ALIGN, 0);
        out
    }

    /// Reads and validates a header from `r`, which is positioned at the start of a file.
    ///
    /// `total_len` is the file's length when known: the header and the data are then checked
    /// against it before anything the size of the header's claims is read.
    ///
    /// Reads at most `12 + MAX_HEADER_LEN` bytes.
    pub(crate) fn read_from<R: Read>(r: &mut R, total_len: Option<u64>) -> Result<Self, NpyError> {
        let mut pre = [0u8; 8];
        let got = read_full(r, &mut pre)?;
        let magic_seen = got.min(MAGIC.len());
        if got == 0 || pre[..magic_seen] != MAGIC[..magic_seen] {
            return Err(NpyError::BadMagic {
                found: pre[..got].to_vec(),
            });
        }
        let len_field = match (pre[6], pre[7]) {
            _ if got < pre.len() => {
                return Err(NpyError::TruncatedHeader {
                    expected: 10,
                    actual: got as u64,
                });
            }
            (1, 0) => 2,
            (2, 0) | (3, 0) => 4,
            (major, minor) => return Err(NpyError::UnsupportedVersion { major, minor }),
        };
        let version = (pre[6], pre[7]);
        let prefix = 8 + len_field;

        let mut len_bytes = [0u8; 4];
        let got = read_full(r, &mut len_bytes[..len_field])?;
        if got < len_field {
            return Err(NpyError::TruncatedHeader {
                expected: prefix as u64,
                actual: (8 + got) as u64,
            });
        }
        let header_len = u64::from(u32::from_le_bytes(len_bytes));
        if header_len > MAX_HEADER_LEN {
            return Err(NpyError::HeaderTooLarge {
                len: header_len,
                max: MAX_HEADER_LEN,
            });
        }
        let data_offset = prefix as u64 + header_len;
        if let Some(total) = total_len {
            if total < data_offset {
                return Err(NpyError::TruncatedHeader {
                    expected: data_offset,
                    actual: total,
                });
            }
        }

        // At most MAX_HEADER_LEN bytes: the cap was checked above.
        let mut text = vec![0u8; header_len as usize];
        let got = read_full(r, &mut text)?;
        if got < text.len() {
            return Err(NpyError::TruncatedHeader {
                expected: data_offset,
                actual: (prefix + got) as u64,
            });
        }

        let dict = parse_dict(&text, prefix as u64)?;
        let dtype = Dtype::from_descr(&dict.descr).ok_or_else(|| NpyError::UnsupportedDtype {
            descr: format!("'{}'", dict.descr),
        })?;
        if dict.fortran_order {
            return Err(NpyError::FortranOrder);
        }
        let (count, zero_d) = match dict.shape[..] {
            [] => (1, true),
            [n] => (n, false),
            _ => return Err(NpyError::NotOneDimensional { shape: dict.shape }),
        };
        let too_large = NpyError::TooLarge { len: count, dtype };
        let data_len = count
            .checked_mul(dtype.size() as u64)
            .filter(|&b| b <= isize::MAX as u64)
            .ok_or(too_large)?;
        let len = usize::try_from(count).map_err(|_| NpyError::TooLarge { len: count, dtype })?;
        if let Some(total) = total_len {
            let actual = total - data_offset;
            if actual < data_len {
                return Err(NpyError::TruncatedData {
                    expected: data_len,
                    actual,
                });
            }
            if actual > data_len {
                return Err(NpyError::TrailingData {
                    expected: data_len,
                    actual,
                });
            }
        }
        Ok(NpyHeader {
            version,
            dtype,
            len,
            zero_d,
            data_offset,
        })
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
pub(crate) fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<usize, NpyError> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(NpyError::io("read", None, e)),
        }
    }
    Ok(filled)
}

/// The three values of a header dictionary, before their meaning is checked.
#[derive(Debug, PartialEq)]
struct Dict {
    descr: String,
    fortran_order: bool,
    shape: Vec<u64>,
}

/// A cursor over the header text. `base` is the text's offset in the file, for messages.
struct Parser<'a> {
    text: &'a [u8],
    pos: usize,
    base: u64,
}

/// How a byte (or the end of the text) is named in a message.
fn show(b: Option<u8>) -> String {
    match b {
        None => "the end of the header".to_owned(),
        Some(b) => format!("'{}'", [b].escape_ascii()),
    }
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn error(&self, reason: impl Into<String>) -> NpyError {
        NpyError::BadHeader {
            offset: self.base + self.pos as u64,
            reason: reason.into(),
        }
    }

    fn spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }

    fn expect(&mut self, want: u8, context: &str) -> Result<(), NpyError> {
        match self.peek() {
            Some(b) if b == want => {
                self.pos += 1;
                Ok(())
            }
            other => Err(self.error(format!(
                "expected '{}' {context}, found {}",
                [want].escape_ascii(),
                show(other)
            ))),
        }
    }

    /// A quoted string: `'...'` or `"..."`, printable ASCII, no escapes.
    fn string(&mut self, what: &str) -> Result<String, NpyError> {
        let quote = match self.peek() {
            Some(q @ (b'\'' | b'"')) => q,
            other => {
                return Err(self.error(format!(
                    "expected {what} as a quoted string, found {}",
                    show(other)
                )));
            }
        };
        self.pos += 1;
        let start = self.pos;
        loop {
            match self.peek() {
                Some(b) if b == quote => break,
                Some(b'\\') => {
                    return Err(self.error("escape sequences are not allowed in the header"));
                }
                Some(b'\n') | None => return Err(self.error("unterminated string")),
                Some(b' '..=b'~') => self.pos += 1,
                Some(_) => {
                    return Err(self.error(format!(
                        "unexpected byte {} inside a string (only printable ASCII is allowed)",
                        show(self.peek())
                    )));
                }
            }
        }
        // Printable ASCII only, so valid UTF-8.
        let s = String::from_utf8_lossy(&self.text[start..self.pos]).into_owned();
        self.pos += 1;
        Ok(s)
    }

    /// `True` or `False`.
    fn boolean(&mut self) -> Result<bool, NpyError> {
        let rest = &self.text[self.pos..];
        for (word, value) in [(&b"True"[..], true), (&b"False"[..], false)] {
            if rest.starts_with(word) {
                self.pos += word.len();
                return Ok(value);
            }
        }
        Err(self.error(format!(
            "expected True or False for 'fortran_order', found {}",
            show(self.peek())
        )))
    }

    /// A non-negative decimal integer as Python's `repr` writes it: no sign, no leading zeros,
    /// no underscores, no `L` suffix.
    fn integer(&mut self) -> Result<u64, NpyError> {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        let digits = &self.text[start..self.pos];
        if digits.is_empty() {
            return Err(self.error(format!(
                "expected a non-negative integer in 'shape', found {}",
                show(self.peek())
            )));
        }
        if digits.len() > 1 && digits[0] == b'0' {
            self.pos = start;
            return Err(self.error("integers in 'shape' must not have leading zeros"));
        }
        let mut n: u64 = 0;
        for &d in digits {
            n = match n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(d - b'0')))
            {
                Some(n) => n,
                None => {
                    self.pos = start;
                    return Err(self.error(format!(
                        "dimension {} in 'shape' does not fit in 64 bits",
                        digits.escape_ascii()
                    )));
                }
            };
        }
        Ok(n)
    }

    /// A tuple of integers: `()`, `(3,)`, `(2, 3)`, `(2, 3,)`.
    fn shape(&mut self) -> Result<Vec<u64>, NpyError> {
        self.expect(b'(', "to open the 'shape' tuple")?;
        let mut dims = Vec::new();
        self.spaces();
        if self.peek() == Some(b')') {
            self.pos += 1;
            return Ok(dims);
        }
        loop {
            dims.push(self.integer()?);
            self.spaces();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.spaces();
                    if self.peek() == Some(b')') {
                        self.pos += 1;
                        return Ok(dims);
                    }
                }
                Some(b')') if dims.len() == 1 => {
                    return Err(self.error(format!(
                        "'shape' is ({}), a number rather than a tuple; a 1-D shape is written \
                         ({},)",
                        dims[0], dims[0]
                    )));
                }
                Some(b')') => {
                    self.pos += 1;
                    return Ok(dims);
                }
                other => {
                    return Err(self.error(format!(
                        "expected ',' or ')' in 'shape', found {}",
                        show(other)
                    )));
                }
            }
        }
    }
}

/// Parses the header text: the dictionary literal numpy writes, then spaces and a newline.
///
/// Grammar (`_` is zero or more spaces; nothing else is skipped):
///
/// ```text
/// text   = '{' _ entry (_ ',' _ entry)* (_ ',')? _ '}' _ '\n'        (end of text)
/// entry  = key _ ':' _ value          each of the three keys exactly once, in any order
/// key    = 'descr' | 'fortran_order' | 'shape'          (single or double quotes)
/// descr  = a quoted string of printable ASCII without backslashes
/// fortran_order = True | False
/// shape  = '(' _ ')' | '(' _ int _ ',' _ ')' | '(' _ int (_ ',' _ int)+ (_ ',')? _ ')'
/// int    = '0' | [1-9][0-9]*                 (fits in 64 bits)
/// ```
fn parse_dict(text: &[u8], base: u64) -> Result<Dict, NpyError> {
    let mut p = Parser { text, pos: 0, base };
    p.expect(b'{', "at the start of the header dictionary")?;
    let mut descr = None;
    let mut fortran_order = None;
    let mut shape = None;
    loop {
        p.spaces();
        if p.peek() == Some(b'}') {
            p.pos += 1;
            break;
        }
        let key_pos = p.pos;
        let key = p.string("a key")?;
        p.spaces();
        p.expect(b':', &format!("after the key '{key}'"))?;
        p.spaces();
        let duplicate = match key.as_str() {
            "descr" => {
                if p.peek() == Some(b'[') {
                    return Err(
                        p.error("'descr' is a list: structured (record) dtypes are not supported")
                    );
                }
                descr.replace(p.string("the value of 'descr'")?).is_some()
            }
            "fortran_order" => fortran_order.replace(p.boolean()?).is_some(),
            "shape" => shape.replace(p.shape()?).is_some(),
            _ => {
                p.pos = key_pos;
                return Err(p.error(format!(
                    "unexpected key '{key}': a .npy header has exactly the keys 'descr', \
                     'fortran_order' and 'shape'"
                )));
            }
        };
        if duplicate {
            p.pos = key_pos;
            return Err(p.error(format!("the key '{key}' appears twice")));
        }
        p.spaces();
        match p.peek() {
            Some(b',') => p.pos += 1,
            Some(b'}') => {
                p.pos += 1;
                break;
            }
            other => {
                return Err(p.error(format!(
                    "expected ',' or '}}' after the value of '{key}', found {}",
                    show(other)
                )));
            }
        }
    }
    p.spaces();
    p.expect(
        b'\n',
        "after the dictionary (the header is padded with spaces and ends in a newline)",
    )?;
    if p.pos != text.len() {
        return Err(p.error("unexpected bytes after the header's final newline"));
    }
    let missing = |key: &str| NpyError::BadHeader {
        offset: base,
        reason: format!("missing the key '{key}'"),
    };
    Ok(Dict {
        descr: descr.ok_or_else(|| missing("descr"))?,
        fortran_order: fortran_order.ok_or_else(|| missing("fortran_order"))?,
        shape: shape.ok_or_else(|| missing("shape"))?,
    })
}

impl std::fmt::Display for NpyHeader {
    /// `.npy 1.0, '<f8' (float64), shape (3,)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            ".npy {}.{}, {}, shape {}",
            self.version.0,
            self.version.1,
            self.dtype,
            ShapeFmt(&self.shape())
        )
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// A whole file's header from dictionary text, padded as numpy pads it (any version).
    fn file(version: u8, dict: &str) -> Vec<u8> {
        let len_field = if version == 1 { 2 } else { 4 };
        let mut text = dict.as_bytes().to_vec();
        let unpadded = 8 + len_field + text.len() + 1;
        text.extend(std::iter::repeat_n(b' ', (64 - unpadded % 64) % 64));
        text.push(b'\n');
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[version, 0]);
        if version == 1 {
            out.extend_from_slice(&(text.len() as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&(text.len() as u32).to_le_bytes());
        }
        out.extend_from_slice(&text);
        out
    }

    fn read(bytes: &[u8]) -> Result<NpyHeader, NpyError> {
        NpyHeader::read_from(&mut &bytes[..], None)
    }

    fn read_exact_len(bytes: &[u8]) -> Result<NpyHeader, NpyError> {
        NpyHeader::read_from(&mut &bytes[..], Some(bytes.len() as u64))
    }

    fn bad(bytes: &[u8]) -> String {
        match read(bytes) {
            Ok(h) => panic!("accepted: {h}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn encode_matches_numpy_save_byte_for_byte() {
        // numpy 2.4: np.save(f, np.arange(3, dtype='<i8')), first 128 bytes.
        let mut want = b"\x93NUMPY\x01\x00\x76\x00".to_vec();
        want.extend_from_slice(b"{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }");
        want.resize(127, b' ');
        want.push(b'\n');
        assert_eq!(
            NpyHeader::encode(Dtype::from_descr("<i8").unwrap(), 3),
            want
        );
        // A length with more digits gets fewer growth spaces: every 1-D header is 128 bytes.
        for len in [0usize, 9, 10, 12345, 1 << 40] {
            for d in ["|u1", "<f4", ">u8"] {
                let h = NpyHeader::encode(Dtype::from_descr(d).unwrap(), len);
                assert_eq!(h.len(), 128);
                let parsed = read(&h).unwrap();
                assert_eq!(parsed.len(), len);
                assert_eq!(parsed.shape(), [len as u64]);
                assert_eq!(parsed.dtype().descr(), d);
                assert_eq!(parsed.data_offset(), 128);
            }
        }
    }

    #[test]
    fn accepts_numpy_variants() {
        let ok = [
            "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (3,)}",
            "{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (3,)}",
            "{'shape': (3,), 'fortran_order': False, 'descr': '<f8'}",
            "{'descr':'<f8','fortran_order':False,'shape':(3,)}",
            "{  'descr' :  '<f8' ,  'fortran_order' : False , 'shape' : ( 3 , ) , }",
        ];
        for v in [1, 2, 3] {
            for d in ok {
                let h = read(&file(v, d)).unwrap_or_else(|e| panic!("{d}: {e}"));
                assert_eq!((h.len(), h.version()), (3, (v, 0)), "{d}");
                assert_eq!(h.dtype().descr(), "<f8");
            }
        }
        let scalar = read(&file(
            1,
            "{'descr': '>i2', 'fortran_order': False, 'shape': (), }",
        ))
        .unwrap();
        assert_eq!((scalar.len(), scalar.shape()), (1, vec![]));
        assert_eq!(scalar.data_len(), 2);
        let empty = read(&file(
            1,
            "{'descr': '|u1', 'fortran_order': False, 'shape': (0,), }",
        ))
        .unwrap();
        assert!(empty.is_empty());
    }

    #[test]
    fn refuses_anything_else_with_a_clear_message() {
        let cases: &[(&str, &str)] = &[
            ("", "expected '{' at the start"),
            (
                " {'descr': '<f8', 'fortran_order': False, 'shape': (3,)}",
                "expected '{'",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False}",
                "missing the key 'shape'",
            ),
            (
                "{'descr': '<f8', 'shape': (3,)}",
                "missing the key 'fortran_order'",
            ),
            ("{}", "missing the key 'descr'"),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), 'x': 1}",
                "unexpected key 'x'",
            ),
            (
                "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (3,)}",
                "the key 'descr' appears twice",
            ),
            (
                "{'descr': '<f8' 'fortran_order': False}",
                "expected ',' or '}'",
            ),
            (
                "{'descr': <f8, 'fortran_order': False, 'shape': (3,)}",
                "quoted string",
            ),
            (
                "{'descr': '<f8', 'fortran_order': 0, 'shape': (3,)}",
                "True or False",
            ),
            (
                "{'descr': '<f8', 'fortran_order': false, 'shape': (3,)}",
                "True or False",
            ),
            (
                "{'descr': '<f8', 'fortran_order': Falsey, 'shape': (3,)}",
                "expected ',' or '}'",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (3)}",
                "a number rather",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': [3]}",
                "expected '('",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (-3,)}",
                "non-negative",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (03,)}",
                "leading zeros",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (3L,)}",
                "expected ','",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (1_0,)}",
                "expected ','",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,)}",
                "does not fit in 64 bits",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (,)}",
                "non-negative integer",
            ),
            (
                "{'descr': '<\\x66\\x38', 'fortran_order': False, 'shape': (3,)}",
                "escape",
            ),
            ("{'descr': '<f8}", "unterminated string"),
            (
                "{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (3,)}",
                "structured",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (3,)}x",
                "after the dictionary",
            ),
            (
                "{'descr': '<f8',\n'fortran_order': False, 'shape': (3,)}",
                "quoted string",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': __import__('os')}",
                "'('",
            ),
        ];
        for (dict, want) in cases {
            let msg = bad(&file(1, dict));
            assert!(msg.contains(want), "{dict:?}: got {msg:?}, want {want:?}");
            assert!(msg.starts_with("malformed .npy header at byte "), "{msg}");
        }
        // Non-ASCII inside a string (a UTF-8 3.0 header).
        let msg = bad(&file(
            3,
            "{'descr': '<f8\u{e9}', 'fortran_order': False, 'shape': (3,)}",
        ));
        assert!(msg.contains("only printable ASCII"), "{msg}");
    }

    #[test]
    fn reports_the_offset_of_the_problem() {
        let f = file(1, "{'descr': '<f8', 'fortran_order': Nope, 'shape': (3,)}");
        let err = read(&f).unwrap_err();
        let at = 10 + "{'descr': '<f8', 'fortran_order': ".len() as u64;
        assert!(
            matches!(err, NpyError::BadHeader { offset, .. } if offset == at),
            "{err}"
        );
    }

    #[test]
    fn text_must_end_in_a_newline_with_nothing_after_it() {
        let mut f = file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,)}");
        let last = f.len() - 1;
        f[last] = b' ';
        assert!(bad(&f).contains("ends in a newline"));
        f[last - 1] = b'\n';
        assert!(bad(&f).contains("after the header's final newline"));
    }

    #[test]
    fn meaning_errors_come_after_syntax() {
        let e = read(&file(
            1,
            "{'descr': '<c16', 'fortran_order': False, 'shape': (3,)}",
        ))
        .unwrap_err();
        assert!(matches!(&e, NpyError::UnsupportedDtype { descr } if descr == "'<c16'"));
        let e = read(&file(
            1,
            "{'descr': '<f8', 'fortran_order': True, 'shape': (3,)}",
        ))
        .unwrap_err();
        assert!(matches!(e, NpyError::FortranOrder));
        let e = read(&file(
            1,
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)}",
        ))
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "expected a 1-D array, but the shape is (2, 3)"
        );
        let e = read(&file(
            1,
            "{'descr': '<f8', 'fortran_order': False, 'shape': (1152921504606846976,)}",
        ))
        .unwrap_err();
        assert!(
            matches!(e, NpyError::TooLarge { len, .. } if len == 1 << 60),
            "{e}"
        );
        // 2^60 one-byte elements fit in the address space; the file length refuses them.
        let f = file(
            1,
            "{'descr': '|u1', 'fortran_order': False, 'shape': (1152921504606846976,)}",
        );
        assert_eq!(read(&f).unwrap().len(), 1 << 60);
        let e = read_exact_len(&f).unwrap_err();
        assert!(
            matches!(e, NpyError::TruncatedData { expected, actual: 0 } if expected == 1 << 60),
            "{e}"
        );
    }

    #[test]
    fn prefix_errors() {
        assert!(matches!(read(b""), Err(NpyError::BadMagic { .. })));
        assert!(matches!(
            read(b"\x93NUM"),
            Err(NpyError::TruncatedHeader {
                expected: 10,
                actual: 4
            })
        ));
        assert!(matches!(
            read(b"\x93NUMPX\x01\x00"),
            Err(NpyError::BadMagic { .. })
        ));
        assert!(matches!(
            read(b"\x93NUMPY\x04\x00\x10\x00"),
            Err(NpyError::UnsupportedVersion { major: 4, minor: 0 })
        ));
        assert!(matches!(
            read(b"\x93NUMPY\x01\x01\x10\x00"),
            Err(NpyError::UnsupportedVersion { major: 1, minor: 1 })
        ));
        assert!(matches!(
            read(b"\x93NUMPY\x02\x00\x10\x00"),
            Err(NpyError::TruncatedHeader {
                expected: 12,
                actual: 10
            })
        ));
        // 2.0 with a 4 GiB header length: refused before reading or allocating it.
        assert!(matches!(
            read(b"\x93NUMPY\x02\x00\xff\xff\xff\xff"),
            Err(NpyError::HeaderTooLarge {
                len: 0xffff_ffff,
                max: 10_000
            })
        ));
        assert!(read(b"\x93NUMPY\x01\x00\x10\x27").is_err_and(|e| matches!(
            e,
            NpyError::TruncatedHeader {
                expected: 10_010,
                actual: 10
            }
        )));
        assert!(matches!(
            read(b"\x93NUMPY\x01\x00\x11\x27"),
            Err(NpyError::HeaderTooLarge { len: 10_001, .. })
        ));
    }
}
