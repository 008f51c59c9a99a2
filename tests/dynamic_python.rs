//! `DynArray` against CPython's `array.array`: replays the golden traces recorded by
//! `scripts/gen_dynamic_traces.py` (random operation sequences on every type code, with each
//! operation's result, exception class and the contents afterwards) and requires the same
//! results, the same kinds of error and the same contents at every step.

use ftarray::{CompareOp, DynArray, Error, Slice, TypeCode, Value};
use serde_json::Value as Json;

fn value(j: &Json) -> Value {
    match j {
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else if let Some(u) = n.as_u64() {
                Value::UInt(u)
            } else {
                panic!("integer out of range in trace: {n}")
            }
        }
        Json::Object(o) if o.contains_key("f") => {
            let s = o["f"].as_str().unwrap();
            Value::Float(match s {
                "nan" => f64::NAN,
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                s => s.parse().unwrap(),
            })
        }
        Json::Object(o) if o.contains_key("c") => Value::Char(o["c"].as_u64().unwrap() as u32),
        other => panic!("bad value in trace: {other}"),
    }
}

fn values(j: &Json) -> Vec<Value> {
    j.as_array().unwrap().iter().map(value).collect()
}

/// Values compared as Python would show them: NaN matches NaN, and 0.0 vs -0.0 are told
/// apart (the bits must be the same).
fn same(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Value::Float(p), Value::Float(q)) => {
                p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan())
            }
            _ => x == y,
        })
}

fn slice(j: &Json) -> Slice {
    let part = |k: usize| j[k].as_i64().map(|v| v as isize);
    Slice::new(part(0), part(1), part(2))
}

/// The Python exception class CPython raises for each error.
fn py_error(e: &Error) -> &'static str {
    match e {
        Error::IndexOutOfRange { .. } | Error::SignedIndexOutOfRange { .. } | Error::Empty => {
            "IndexError"
        }
        Error::Overflow { .. } => "OverflowError",
        Error::WrongKind { .. } | Error::TypeMismatch { .. } | Error::Unordered => "TypeError",
        Error::ZeroStep | Error::NotFound | Error::LengthMismatch { .. } => "ValueError",
        Error::Exported { .. } => "BufferError",
        Error::CapacityOverflow | Error::AllocFailed { .. } => "MemoryError",
        other => panic!("no Python counterpart for {other:?}"),
    }
}

#[test]
fn dynarray_matches_cpython_array_on_recorded_traces() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/python_traces.json"
    ))
    .unwrap();
    let doc: Json = serde_json::from_str(&text).unwrap();
    let long_size = doc["long_size"].as_u64().unwrap() as usize;
    let mut checked = 0;
    for trace in doc["traces"].as_array().unwrap() {
        let code =
            TypeCode::from_char(trace["code"].as_str().unwrap().chars().next().unwrap()).unwrap();
        if matches!(code, TypeCode::Long | TypeCode::ULong) && code.itemsize() != long_size {
            continue; // recorded on a platform with another C long
        }
        let a = DynArray::from_values(code, &values(&trace["init"])).unwrap();
        for (step, op) in trace["ops"].as_array().unwrap().iter().enumerate() {
            let args = &op["args"];
            let name = op["op"].as_str().unwrap();
            let ctx = || format!("{code} step {step}: {name} {args} (python: {op})");
            let outcome: Result<Option<Json>, Error> = match name {
                "get" => a
                    .get(args[0].as_i64().unwrap() as isize)
                    .map(|v| Some(json_of(v))),
                "set" => a
                    .set(args[0].as_i64().unwrap() as isize, value(&args[1]))
                    .map(|()| None),
                "append" => a.push(value(&args[0])).map(|()| None),
                "pop" => a
                    .pop(args[0].as_i64().unwrap() as isize)
                    .map(|v| Some(json_of(v))),
                "insert" => a
                    .insert(args[0].as_i64().unwrap() as isize, value(&args[1]))
                    .map(|()| None),
                "remove" => a.remove_value(value(&args[0])).map(|_| None),
                "index" => a
                    .index(
                        value(&args[0]),
                        args[1].as_i64().unwrap() as isize,
                        args[2].as_i64().unwrap_or(i64::MAX) as isize,
                    )
                    .map(|i| Some(Json::from(i))),
                "count" => Ok(Some(Json::from(a.count(value(&args[0]))))),
                "contains" => Ok(Some(Json::from(a.contains(value(&args[0]))))),
                "getslice" => a.get_slice(slice(&args[0])).map(|s| {
                    Some(Json::Array(
                        s.to_values().into_iter().map(json_of).collect(),
                    ))
                }),
                "setslice" => {
                    let src = DynArray::from_values(code, &values(&args[1])).unwrap();
                    a.set_slice(slice(&args[0]), &src).map(|()| None)
                }
                "delslice" => a.del_slice(slice(&args[0])).map(|()| None),
                "extend" => a.extend_values(&values(&args[0])).map(|()| None),
                "imul" => a
                    .repeat_in_place(args[0].as_i64().unwrap() as isize)
                    .map(|()| None),
                "mul" => a.repeat(args[0].as_i64().unwrap() as isize).map(|r| {
                    Some(Json::Array(
                        r.to_values().into_iter().map(json_of).collect(),
                    ))
                }),
                "reverse" => a.reverse().map(|()| None),
                "byteswap" => a.byteswap().map(|()| None),
                "compare" => {
                    let other_code =
                        TypeCode::from_char(args[0].as_str().unwrap().chars().next().unwrap())
                            .unwrap();
                    let b = DynArray::from_values(other_code, &values(&args[1])).unwrap();
                    let op = match args[2].as_str().unwrap() {
                        "lt" => CompareOp::Lt,
                        "le" => CompareOp::Le,
                        "eq" => CompareOp::Eq,
                        "ne" => CompareOp::Ne,
                        "gt" => CompareOp::Gt,
                        _ => CompareOp::Ge,
                    };
                    a.compare(&b, op).map(|r| Some(Json::from(r)))
                }
                other => panic!("unknown op {other}"),
            };
            match (&outcome, op["error"].as_str()) {
                (Ok(result), None) => {
                    if let Some(r) = result {
                        let ok = match (r, &op["result"]) {
                            (Json::Array(x), Json::Array(y)) => same(
                                &x.iter().map(value).collect::<Vec<_>>(),
                                &y.iter().map(value).collect::<Vec<_>>(),
                            ),
                            (Json::Object(_), y @ (Json::Object(_) | Json::Number(_))) => {
                                same(&[value(r)], &[value(y)])
                            }
                            (x, y) => x == y,
                        };
                        assert!(ok, "{}: got {r}", ctx());
                    }
                }
                (Err(e), Some(py)) => assert_eq!(py_error(e), py, "{}: got {e:?}", ctx()),
                (got, want) => panic!("{}: got {got:?}, python error {want:?}", ctx()),
            }
            assert!(
                same(&a.to_values(), &values(&op["state"])),
                "{}: contents {:?}",
                ctx(),
                a
            );
            checked += 1;
        }
    }
    assert!(checked > 5000, "only {checked} operations checked");
}

fn json_of(v: Value) -> Json {
    match v {
        Value::Int(i) => Json::from(i),
        Value::UInt(u) => Json::from(u),
        Value::Float(f) => {
            let repr = if f.is_nan() {
                "nan".to_string()
            } else if f.is_infinite() {
                if f > 0.0 { "inf" } else { "-inf" }.to_string()
            } else {
                format!("{f:?}")
            };
            serde_json::json!({ "f": repr })
        }
        Value::Char(c) => serde_json::json!({ "c": c }),
    }
}
