//! A strict reader for exactly the pickles CIFAR ships: `cifar-10-batches-py/*_batch` and
//! `cifar-100-python/{train,test}`, written by Python 2's cPickle with protocol 2. Each is a
//! dict of byte-string keys to a uint8 numpy array (`data`, N×3072), lists of ints (`labels`,
//! `fine_labels`, `coarse_labels`) and byte strings (`batch_label`, `filenames`).
//!
//! Why not a general unpickler: a pickle is a program, and a general one runs whatever it
//! names. This one knows the opcodes those files use (and their Python 3 re-pickled
//! equivalents: unicode keys, `bytes`, memo opcodes), and exactly three globals
//! (`numpy.core.multiarray._reconstruct`, `numpy.ndarray`, `numpy.dtype`); anything else is
//! an error naming the file, the byte offset and what was found.

use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;

use crate::error::{Error, Result};

/// A value of the CIFAR pickle subset.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An int.
    Int(i64),
    /// A str (Python 2) / bytes / unicode, as bytes.
    Bytes(Rc<Vec<u8>>),
    /// A list.
    List(Vec<Value>),
    /// A tuple.
    Tuple(Vec<Value>),
    /// A dict, in file order.
    Dict(Vec<(Value, Value)>),
    /// A numpy array: dtype string (`u1`, `<i8`, …), shape, C-order raw bytes.
    Array {
        /// numpy dtype string with byte order (`|u1`, `<i8`).
        dtype: String,
        /// Shape.
        shape: Vec<usize>,
        /// Raw bytes, C order.
        data: Rc<Vec<u8>>,
    },
    /// A `numpy.dtype` built by REDUCE (its BUILD state sets the byte order).
    Dtype(String),
    /// One of the three allowed globals.
    Global(&'static str),
    /// The result of `_reconstruct(ndarray, (0,), b'b')`, before its BUILD.
    EmptyArray,
}

impl Value {
    /// Look up a key of a dict (byte-string or unicode keys alike).
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Dict(items) => items.iter().find_map(|(k, v)| match k {
                Value::Bytes(b) if b.as_slice() == key.as_bytes() => Some(v),
                _ => None,
            }),
            _ => None,
        }
    }
}

const GLOBALS: &[(&str, &str)] = &[
    ("numpy.core.multiarray\n_reconstruct\n", "_reconstruct"),
    ("numpy._core.multiarray\n_reconstruct\n", "_reconstruct"),
    ("numpy\nndarray\n", "ndarray"),
    ("numpy\ndtype\n", "dtype"),
];

/// Parse a CIFAR pickle; `path` names the file in errors.
pub fn parse(bytes: &[u8], path: &Path) -> Result<Value> {
    let err = |pos: usize, m: String| Error::Codec {
        path: path.to_path_buf(),
        message: format!("not a CIFAR python pickle (byte {pos}): {m}"),
    };
    let mut stack: Vec<Option<Value>> = Vec::new(); // None = MARK
    let mut memo: HashMap<u32, Value> = HashMap::new();
    let mut i = 0usize;
    let take = |i: &mut usize, n: usize| -> Result<&[u8]> {
        let s = bytes
            .get(*i..*i + n)
            .ok_or_else(|| err(*i, format!("truncated: {n} more bytes expected")))?;
        *i += n;
        Ok(s)
    };
    fn le(b: &[u8]) -> u64 {
        b.iter().rev().fold(0u64, |a, &x| (a << 8) | x as u64)
    }
    let pop = |stack: &mut Vec<Option<Value>>, pos: usize| -> Result<Value> {
        match stack.pop() {
            Some(Some(v)) => Ok(v),
            _ => Err(err(pos, "stack underflow".into())),
        }
    };
    let pop_mark = |stack: &mut Vec<Option<Value>>, pos: usize| -> Result<Vec<Value>> {
        let m = stack
            .iter()
            .rposition(Option::is_none)
            .ok_or_else(|| err(pos, "no MARK on the stack".into()))?;
        let items = stack
            .split_off(m + 1)
            .into_iter()
            .map(|v| v.expect("after mark"))
            .collect();
        stack.pop();
        Ok(items)
    };
    loop {
        let pos = i;
        let op = *take(&mut i, 1)?.first().expect("one byte");
        match op {
            0x80 => {
                let v = take(&mut i, 1)?[0];
                if v > 4 {
                    return Err(err(pos, format!("pickle protocol {v}")));
                }
            }
            b'.' => break,
            b'}' => stack.push(Some(Value::Dict(Vec::new()))),
            b']' => stack.push(Some(Value::List(Vec::new()))),
            b')' => stack.push(Some(Value::Tuple(Vec::new()))),
            b'(' => stack.push(None),
            b'N' => stack.push(Some(Value::None)),
            0x88 => stack.push(Some(Value::Bool(true))),
            0x89 => stack.push(Some(Value::Bool(false))),
            b'K' => stack.push(Some(Value::Int(take(&mut i, 1)?[0] as i64))),
            b'M' => stack.push(Some(Value::Int(le(take(&mut i, 2)?) as i64))),
            b'J' => stack.push(Some(Value::Int(le(take(&mut i, 4)?) as u32 as i32 as i64))),
            // SHORT_BINSTRING, SHORT_BINBYTES
            b'U' | b'C' => {
                let n = take(&mut i, 1)?[0] as usize;
                stack.push(Some(Value::Bytes(Rc::new(take(&mut i, n)?.to_vec()))));
            }
            // BINSTRING, BINBYTES, BINUNICODE
            b'T' | b'B' | b'X' => {
                let n = le(take(&mut i, 4)?) as usize;
                stack.push(Some(Value::Bytes(Rc::new(take(&mut i, n)?.to_vec()))));
            }
            // SHORT_BINUNICODE (protocol 4 writers)
            0x8c => {
                let n = take(&mut i, 1)?[0] as usize;
                stack.push(Some(Value::Bytes(Rc::new(take(&mut i, n)?.to_vec()))));
            }
            b'q' | b'r' => {
                let k = if op == b'q' {
                    take(&mut i, 1)?[0] as u32
                } else {
                    le(take(&mut i, 4)?) as u32
                };
                let top = match stack.last() {
                    Some(Some(v)) => v.clone(),
                    _ => return Err(err(pos, "PUT with an empty stack".into())),
                };
                memo.insert(k, top);
            }
            b'h' | b'j' => {
                let k = if op == b'h' {
                    take(&mut i, 1)?[0] as u32
                } else {
                    le(take(&mut i, 4)?) as u32
                };
                let v = memo
                    .get(&k)
                    .cloned()
                    .ok_or_else(|| err(pos, format!("memo {k} unset")))?;
                stack.push(Some(v));
            }
            0x94 => {
                // MEMOIZE (protocol 4)
                let top = match stack.last() {
                    Some(Some(v)) => v.clone(),
                    _ => return Err(err(pos, "MEMOIZE with an empty stack".into())),
                };
                memo.insert(memo.len() as u32, top);
            }
            b'c' => {
                let start = i;
                let mut lines = 0;
                while lines < 2 {
                    let b = *take(&mut i, 1)?.first().expect("byte");
                    lines += (b == b'\n') as usize;
                }
                let name = &bytes[start..i];
                let g = GLOBALS
                    .iter()
                    .find(|(n, _)| n.as_bytes() == name)
                    .ok_or_else(|| {
                        err(pos, format!(
                            "global `{}` is not one a CIFAR pickle uses (refused: only numpy arrays, lists, ints and strings are read)",
                            String::from_utf8_lossy(name).trim().replace('\n', ".")
                        ))
                    })?;
                stack.push(Some(Value::Global(g.1)));
            }
            0x85..=0x87 => {
                let n = (op - 0x84) as usize;
                if stack.len() < n {
                    return Err(err(pos, "stack underflow".into()));
                }
                let items: Option<Vec<Value>> =
                    stack.split_off(stack.len() - n).into_iter().collect();
                stack.push(Some(Value::Tuple(
                    items.ok_or_else(|| err(pos, "MARK inside a tuple".into()))?,
                )));
            }
            b't' => {
                let items = pop_mark(&mut stack, pos)?;
                stack.push(Some(Value::Tuple(items)));
            }
            b'l' => {
                let items = pop_mark(&mut stack, pos)?;
                stack.push(Some(Value::List(items)));
            }
            b'a' | b'e' => {
                let items = if op == b'a' {
                    vec![pop(&mut stack, pos)?]
                } else {
                    pop_mark(&mut stack, pos)?
                };
                match stack.last_mut() {
                    Some(Some(Value::List(l))) => l.extend(items),
                    _ => return Err(err(pos, "APPEND to something not a list".into())),
                }
            }
            b's' | b'u' => {
                let items = if op == b's' {
                    let v = pop(&mut stack, pos)?;
                    let k = pop(&mut stack, pos)?;
                    vec![k, v]
                } else {
                    pop_mark(&mut stack, pos)?
                };
                if items.len() % 2 != 0 {
                    return Err(err(pos, "odd number of dict items".into()));
                }
                match stack.last_mut() {
                    Some(Some(Value::Dict(d))) => {
                        let mut it = items.into_iter();
                        while let (Some(k), Some(v)) = (it.next(), it.next()) {
                            d.push((k, v));
                        }
                    }
                    _ => return Err(err(pos, "SETITEM on something not a dict".into())),
                }
            }
            b'R' => {
                let args = pop(&mut stack, pos)?;
                let f = pop(&mut stack, pos)?;
                let v = match (f, args) {
                    (Value::Global("_reconstruct"), Value::Tuple(a))
                        if a.len() == 3 && a[0] == Value::Global("ndarray") =>
                    {
                        Value::EmptyArray
                    }
                    (Value::Global("dtype"), Value::Tuple(a)) if !a.is_empty() => match &a[0] {
                        Value::Bytes(s) => Value::Dtype(String::from_utf8_lossy(s).into_owned()),
                        _ => return Err(err(pos, "numpy.dtype of a non-string".into())),
                    },
                    (f, _) => return Err(err(pos, format!("unexpected call of {f:?}"))),
                };
                stack.push(Some(v));
            }
            b'b' => {
                let state = pop(&mut stack, pos)?;
                let target = pop(&mut stack, pos)?;
                let built = match (target, state) {
                    (Value::Dtype(d), Value::Tuple(s)) => {
                        // (version, byteorder, …): numpy's dtype state
                        let order = match s.get(1) {
                            Some(Value::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
                            _ => return Err(err(pos, "dtype state without a byte order".into())),
                        };
                        Value::Dtype(format!("{order}{d}"))
                    }
                    (Value::EmptyArray, Value::Tuple(s)) if s.len() == 5 => {
                        let shape = match &s[1] {
                            Value::Tuple(t) => t
                                .iter()
                                .map(|v| match v {
                                    Value::Int(n) if *n >= 0 => Ok(*n as usize),
                                    _ => Err(err(pos, "bad array shape".into())),
                                })
                                .collect::<Result<Vec<_>>>()?,
                            _ => return Err(err(pos, "bad array shape".into())),
                        };
                        let dtype = match &s[2] {
                            Value::Dtype(d) => d.clone(),
                            _ => return Err(err(pos, "array without a dtype".into())),
                        };
                        if s[3] != Value::Bool(false) && s[3] != Value::Int(0) {
                            return Err(err(pos, "Fortran-order array".into()));
                        }
                        let data = match &s[4] {
                            Value::Bytes(b) => b.clone(),
                            _ => return Err(err(pos, "array data is not a byte string".into())),
                        };
                        Value::Array { dtype, shape, data }
                    }
                    (t, _) => return Err(err(pos, format!("unexpected BUILD of {t:?}"))),
                };
                stack.push(Some(built));
            }
            other => {
                return Err(err(
                    pos,
                    format!("opcode 0x{other:02x} is not used by CIFAR pickles"),
                ))
            }
        }
    }
    match (stack.pop(), stack.is_empty()) {
        (Some(Some(v)), true) => Ok(v),
        _ => Err(err(i, "the pickle does not end with one value".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The opcodes of a cPickle protocol-2 CIFAR batch, written by hand: a dict with
    /// `data` (2×3 uint8 array), `labels` [7, 300] and `batch_label`.
    fn tiny() -> Vec<u8> {
        let mut p = b"\x80\x02}q\x01(U\x04dataq\x02cnumpy.core.multiarray\n_reconstruct\nq\x03cnumpy\nndarray\nq\x04K\x00\x85U\x01b\x87Rq\x05(K\x01K\x02K\x03\x86cnumpy\ndtype\nq\x06U\x02u1K\x00K\x01\x87Rq\x07(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89U\x06".to_vec();
        p.extend([1, 2, 3, 4, 5, 6]);
        p.extend(b"tbU\x06labelsq\x08]q\t(K\x07M,\x01eU\x0bbatch_labelq\nU\x04testq\x0bu.");
        p
    }

    #[test]
    fn reads_a_cpickle_protocol_2_batch() {
        let v = parse(&tiny(), Path::new("t")).unwrap();
        match v.get("data").unwrap() {
            Value::Array { dtype, shape, data } => {
                assert_eq!(dtype, "|u1");
                assert_eq!(shape, &[2, 3]);
                assert_eq!(data.as_slice(), &[1, 2, 3, 4, 5, 6]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            v.get("labels"),
            Some(&Value::List(vec![Value::Int(7), Value::Int(300)]))
        );
    }

    #[test]
    fn refuses_other_globals_and_truncation() {
        let evil = b"\x80\x02cos\nsystem\nq\x00U\x02lsq\x01\x85R.";
        let e = parse(evil, Path::new("evil.pkl")).unwrap_err().to_string();
        assert!(e.contains("evil.pkl") && e.contains("os.system"), "{e}");
        let t = tiny();
        for cut in [1, 10, t.len() / 2, t.len() - 1] {
            let e = parse(&t[..cut], Path::new("cut")).unwrap_err().to_string();
            assert!(
                e.starts_with("cut: not a CIFAR python pickle"),
                "{cut}: {e}"
            );
        }
    }
}
