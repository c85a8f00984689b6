//! Just enough of ONNX's protobuf encoding to narrow a CTC recogniser's output layer to the
//! classes a workspace can use, and to read a model's metadata without opening a session.
//!
//! PP-OCRv6's recogniser ends in `MatMul(features, W[120, 18710]) → Add(bias) → Softmax`:
//! one column per character of an 18,708-entry dictionary that is mostly Chinese. For
//! European invoices ~700 of those columns can ever be right, and computing the other 18,000
//! costs 12 % of every line read. [`restrict_classes`] slices `W` and the bias to the kept
//! columns and fixes the declared output shapes; every other byte of the model is copied as
//! is. The sliced model's argmax over the kept classes is the full model's argmax restricted
//! to them, and its probabilities are those renormalised over the kept classes.

use std::borrow::Cow;

/// A protobuf field value, by wire type.
#[derive(Debug, Clone, PartialEq)]
enum Value<'a> {
    Varint(u64),
    Fixed64([u8; 8]),
    Bytes(Cow<'a, [u8]>),
    Fixed32([u8; 4]),
}

#[derive(Debug, Clone, PartialEq)]
struct Field<'a> {
    num: u32,
    value: Value<'a>,
}

impl<'a> Field<'a> {
    fn bytes(&self) -> Option<&[u8]> {
        match &self.value {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    fn str(&self) -> Option<&str> {
        self.bytes().and_then(|b| std::str::from_utf8(b).ok())
    }

    fn varint(&self) -> Option<u64> {
        match self.value {
            Value::Varint(v) => Some(v),
            _ => None,
        }
    }

    fn owned_bytes(num: u32, bytes: Vec<u8>) -> Field<'static> {
        Field { num, value: Value::Bytes(Cow::Owned(bytes)) }
    }
}

fn read_varint(buf: &[u8], pos: &mut usize) -> Result<u64, String> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos).ok_or("truncated varint")?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err("varint longer than 10 bytes".into())
}

fn take<'a>(buf: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8], String> {
    let end = pos.checked_add(n).filter(|&e| e <= buf.len()).ok_or("field runs past the end of its message")?;
    let s = &buf[*pos..end];
    *pos = end;
    Ok(s)
}

/// The fields of one message, in order; payloads borrow from `buf`.
fn parse(buf: &[u8]) -> Result<Vec<Field<'_>>, String> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < buf.len() {
        let key = read_varint(buf, &mut pos)?;
        let num = u32::try_from(key >> 3).map_err(|_| "field number out of range")?;
        if num == 0 {
            return Err("field number 0".into());
        }
        let value = match key & 7 {
            0 => Value::Varint(read_varint(buf, &mut pos)?),
            1 => Value::Fixed64(take(buf, &mut pos, 8)?.try_into().map_err(|_| "fixed64")?),
            2 => {
                let n = usize::try_from(read_varint(buf, &mut pos)?).map_err(|_| "length out of range")?;
                Value::Bytes(Cow::Borrowed(take(buf, &mut pos, n)?))
            }
            5 => Value::Fixed32(take(buf, &mut pos, 4)?.try_into().map_err(|_| "fixed32")?),
            w => return Err(format!("unsupported wire type {w}")),
        };
        out.push(Field { num, value });
    }
    Ok(out)
}

fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn encode(fields: &[Field<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in fields {
        let wire = match f.value {
            Value::Varint(_) => 0,
            Value::Fixed64(_) => 1,
            Value::Bytes(_) => 2,
            Value::Fixed32(_) => 5,
        };
        write_varint(&mut out, (u64::from(f.num) << 3) | wire);
        match &f.value {
            Value::Varint(v) => write_varint(&mut out, *v),
            Value::Fixed64(b) => out.extend_from_slice(b),
            Value::Fixed32(b) => out.extend_from_slice(b),
            Value::Bytes(b) => {
                write_varint(&mut out, b.len() as u64);
                out.extend_from_slice(b);
            }
        }
    }
    out
}

// Field numbers from onnx.proto.
const MODEL_GRAPH: u32 = 7;
const MODEL_METADATA: u32 = 14;
const GRAPH_NODE: u32 = 1;
const GRAPH_INITIALIZER: u32 = 5;
const GRAPH_OUTPUT: u32 = 12;
const GRAPH_VALUE_INFO: u32 = 13;
const NODE_INPUT: u32 = 1;
const NODE_OUTPUT: u32 = 2;
const NODE_OP_TYPE: u32 = 4;
const NODE_ATTRIBUTE: u32 = 5;
const ATTR_NAME: u32 = 1;
const ATTR_INT: u32 = 3;
const TENSOR_DIMS: u32 = 1;
const TENSOR_DATA_TYPE: u32 = 2;
const TENSOR_FLOAT_DATA: u32 = 4;
const TENSOR_NAME: u32 = 8;
const TENSOR_RAW_DATA: u32 = 9;
const TENSOR_EXTERNAL_DATA: u32 = 13;
const VALUE_INFO_NAME: u32 = 1;
const VALUE_INFO_TYPE: u32 = 2;
const TYPE_TENSOR: u32 = 1;
const TYPE_TENSOR_SHAPE: u32 = 2;
const SHAPE_DIM: u32 = 1;
const DIM_VALUE: u32 = 1;
const FLOAT: u64 = 1;

/// A custom metadata entry (`metadata_props`) of an ONNX model, e.g. PP-OCR's `character`.
pub fn metadata(model: &[u8], key: &str) -> Result<Option<String>, String> {
    for f in parse(model)?.iter().filter(|f| f.num == MODEL_METADATA) {
        let entry = parse(f.bytes().ok_or("metadata entry is not a message")?)?;
        let get = |n: u32| entry.iter().find(|e| e.num == n).and_then(Field::str);
        if get(1) == Some(key) {
            return Ok(Some(get(2).unwrap_or_default().to_string()));
        }
    }
    Ok(None)
}

struct Node<'a> {
    op: &'a str,
    inputs: Vec<&'a str>,
    outputs: Vec<&'a str>,
    /// Integer attributes by name.
    ints: Vec<(String, i64)>,
}

fn node<'a>(fields: &'a [Field<'a>]) -> Result<Node<'a>, String> {
    let strs = |n: u32| fields.iter().filter(|f| f.num == n).filter_map(Field::str).collect::<Vec<_>>();
    let mut ints = Vec::new();
    for a in fields.iter().filter(|f| f.num == NODE_ATTRIBUTE) {
        let attr = parse(a.bytes().ok_or("attribute is not a message")?)?;
        let name = attr.iter().find(|f| f.num == ATTR_NAME).and_then(Field::str);
        if let (Some(name), Some(v)) = (name, attr.iter().find(|f| f.num == ATTR_INT).and_then(Field::varint)) {
            ints.push((name.to_string(), v as i64));
        }
    }
    Ok(Node {
        op: strs(NODE_OP_TYPE).first().copied().unwrap_or(""),
        inputs: strs(NODE_INPUT),
        outputs: strs(NODE_OUTPUT),
        ints,
    })
}

fn dims(tensor: &[Field<'_>]) -> Result<Vec<u64>, String> {
    let mut out = Vec::new();
    for f in tensor.iter().filter(|f| f.num == TENSOR_DIMS) {
        match &f.value {
            Value::Varint(v) => out.push(*v),
            Value::Bytes(packed) => {
                let mut pos = 0;
                while pos < packed.len() {
                    out.push(read_varint(packed, &mut pos)?);
                }
            }
            _ => return Err("bad tensor dims".into()),
        }
    }
    Ok(out)
}

/// The float values of an initializer (raw or `float_data`).
fn floats(tensor: &[Field<'_>]) -> Result<Vec<f32>, String> {
    if tensor.iter().any(|f| f.num == TENSOR_EXTERNAL_DATA) {
        return Err("weights stored outside the model file are not supported".into());
    }
    if tensor.iter().find(|f| f.num == TENSOR_DATA_TYPE).and_then(Field::varint) != Some(FLOAT) {
        return Err("output layer weights are not float32".into());
    }
    if let Some(raw) = tensor.iter().find(|f| f.num == TENSOR_RAW_DATA).and_then(Field::bytes) {
        return Ok(raw.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect());
    }
    let mut out = Vec::new();
    for f in tensor.iter().filter(|f| f.num == TENSOR_FLOAT_DATA) {
        match &f.value {
            Value::Bytes(packed) => {
                out.extend(packed.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])));
            }
            Value::Fixed32(b) => out.push(f32::from_le_bytes(*b)),
            _ => return Err("bad float_data".into()),
        }
    }
    Ok(out)
}

/// `tensor` with new dims and float values (as raw data), other fields (name, type) kept.
fn with_data(tensor: &[Field<'_>], new_dims: &[u64], values: &[f32]) -> Vec<u8> {
    let mut out: Vec<Field<'_>> = Vec::new();
    let mut dims_written = false;
    for f in tensor {
        match f.num {
            TENSOR_DIMS if !dims_written => {
                out.extend(new_dims.iter().map(|&d| Field { num: TENSOR_DIMS, value: Value::Varint(d) }));
                dims_written = true;
            }
            TENSOR_DIMS | TENSOR_FLOAT_DATA | TENSOR_RAW_DATA => {}
            _ => out.push(f.clone()),
        }
    }
    let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    out.push(Field::owned_bytes(TENSOR_RAW_DATA, raw));
    encode(&out)
}

/// A value-info message with every `dim_value == from` replaced by `to`.
fn with_dim_replaced(value_info: &[Field<'_>], from: u64, to: u64) -> Result<Vec<u8>, String> {
    let rewrite = |msg: &[u8], path: &[u32]| -> Result<Vec<u8>, String> { rewrite_dims(msg, path, from, to) };
    let mut out = Vec::with_capacity(value_info.len());
    for f in value_info {
        match (&f.value, f.num) {
            (Value::Bytes(b), VALUE_INFO_TYPE) => {
                out.push(Field::owned_bytes(
                    VALUE_INFO_TYPE,
                    rewrite(b, &[TYPE_TENSOR, TYPE_TENSOR_SHAPE, SHAPE_DIM])?,
                ));
            }
            _ => out.push(f.clone()),
        }
    }
    Ok(encode(&out))
}

/// Follows `path` of nested message fields down to dimensions and replaces their value.
fn rewrite_dims(msg: &[u8], path: &[u32], from: u64, to: u64) -> Result<Vec<u8>, String> {
    let fields = parse(msg)?;
    let mut out = Vec::with_capacity(fields.len());
    for f in fields {
        match (path.first(), &f.value) {
            (Some(&n), Value::Bytes(b)) if n == f.num => {
                out.push(Field::owned_bytes(n, rewrite_dims(b, &path[1..], from, to)?))
            }
            (None, Value::Varint(v)) if f.num == DIM_VALUE && *v == from => {
                out.push(Field { num: DIM_VALUE, value: Value::Varint(to) });
            }
            _ => out.push(f),
        }
    }
    Ok(encode(&out))
}

/// Narrows a CTC recogniser whose graph ends in `MatMul(x, W[D, classes]) → Add(bias[classes])
/// → Softmax(last axis)` (with any `Identity` in between) to the classes in `keep` (ascending,
/// each `< classes`), in that order. Returns the new model bytes, or why this graph has a
/// shape it cannot narrow.
pub fn restrict_classes(model: &[u8], classes: usize, keep: &[usize]) -> Result<Vec<u8>, String> {
    if keep.is_empty() || keep.windows(2).any(|w| w[0] >= w[1]) || keep.iter().any(|&k| k >= classes) {
        return Err("kept classes must be ascending and within the model's classes".into());
    }
    let c = classes as u64;
    let model_fields = parse(model)?;
    let graph_at = model_fields.iter().position(|f| f.num == MODEL_GRAPH).ok_or("no graph in the model")?;
    let graph_bytes = model_fields[graph_at].bytes().ok_or("graph is not a message")?;
    let graph = parse(graph_bytes)?;

    let node_fields: Vec<Vec<Field<'_>>> = graph
        .iter()
        .filter(|f| f.num == GRAPH_NODE)
        .map(|f| parse(f.bytes().unwrap_or_default()))
        .collect::<Result<_, _>>()?;
    let nodes: Vec<Node<'_>> = node_fields.iter().map(|f| node(f)).collect::<Result<_, _>>()?;
    let outputs: Vec<Vec<Field<'_>>> = graph
        .iter()
        .filter(|f| f.num == GRAPH_OUTPUT)
        .map(|f| parse(f.bytes().unwrap_or_default()))
        .collect::<Result<_, _>>()?;
    let out_name = match outputs.as_slice() {
        [one] => one.iter().find(|f| f.num == VALUE_INFO_NAME).and_then(Field::str).ok_or("unnamed output")?,
        _ => return Err("the recogniser must have exactly one output".into()),
    };

    // Walk back from the output through Identity and one last-axis Softmax to the Add.
    let producer = |name: &str| nodes.iter().find(|n| n.outputs.contains(&name));
    let mut chain = vec![out_name];
    let mut cur = producer(out_name).ok_or("the output is not produced by any node")?;
    let mut softmax = false;
    for _ in 0..=nodes.len() {
        if !(cur.op == "Identity" || cur.op == "Softmax") {
            break;
        }
        if cur.op == "Softmax" {
            let axis = cur.ints.iter().find(|(n, _)| n == "axis").map_or(-1, |a| a.1);
            if softmax || !(axis == -1 || axis == 2) {
                return Err("the output is not one softmax over the last axis".into());
            }
            softmax = true;
        }
        let input = *cur.inputs.first().ok_or("node without input")?;
        chain.push(input);
        cur = producer(input).ok_or("graph input reached before the output layer")?;
    }
    if !softmax || cur.op != "Add" {
        return Err(format!("expected the output layer to end in Add then Softmax, found {}", cur.op));
    }
    let initializer = |name: &str| -> Option<(usize, Vec<Field<'_>>)> {
        graph.iter().enumerate().filter(|(_, f)| f.num == GRAPH_INITIALIZER).find_map(|(i, f)| {
            let t = parse(f.bytes()?).ok()?;
            (t.iter().find(|x| x.num == TENSOR_NAME).and_then(Field::str) == Some(name)).then_some((i, t))
        })
    };
    let add = cur;
    let (bias_at, bias, matmul_out) = add
        .inputs
        .iter()
        .find_map(|&a| {
            let other = add.inputs.iter().copied().find(|&b| b != a)?;
            initializer(a).map(|(i, t)| (i, t, other))
        })
        .ok_or("the output layer's Add has no bias initializer")?;
    chain.push(matmul_out);
    let matmul = producer(matmul_out).filter(|n| n.op == "MatMul").ok_or("the Add does not follow a MatMul")?;
    let w_name = *matmul.inputs.get(1).ok_or("MatMul without weights")?;
    let (w_at, weights) = initializer(w_name).ok_or("the output MatMul's weights are not an initializer")?;

    let (w_dims, b_dims) = (dims(&weights)?, dims(&bias)?);
    let d = match (w_dims.as_slice(), b_dims.as_slice()) {
        ([d, wc], [bc]) if *wc == c && *bc == c => *d as usize,
        _ => return Err(format!("output layer is {w_dims:?} + {b_dims:?}, not [D, {classes}] + [{classes}]")),
    };
    let (w, b) = (floats(&weights)?, floats(&bias)?);
    if w.len() != d * classes || b.len() != classes {
        return Err("output layer weights are truncated".into());
    }
    let k = keep.len() as u64;
    let w_new: Vec<f32> =
        (0..d).flat_map(|row| keep.iter().map(move |&j| (row, j))).map(|(row, j)| w[row * classes + j]).collect();
    let b_new: Vec<f32> = keep.iter().map(|&j| b[j]).collect();

    let mut new_graph: Vec<Field<'_>> = Vec::with_capacity(graph.len());
    for (i, f) in graph.iter().enumerate() {
        let replaced = if i == w_at {
            Some(with_data(&weights, &[d as u64, k], &w_new))
        } else if i == bias_at {
            Some(with_data(&bias, &[k], &b_new))
        } else if f.num == GRAPH_OUTPUT || f.num == GRAPH_VALUE_INFO {
            let vi = parse(f.bytes().unwrap_or_default())?;
            let name = vi.iter().find(|x| x.num == VALUE_INFO_NAME).and_then(Field::str).unwrap_or_default();
            if chain.contains(&name) { Some(with_dim_replaced(&vi, c, k)?) } else { None }
        } else {
            None
        };
        new_graph.push(match replaced {
            Some(bytes) => Field::owned_bytes(f.num, bytes),
            None => f.clone(),
        });
    }
    let mut new_model = model_fields.clone();
    new_model[graph_at] = Field::owned_bytes(MODEL_GRAPH, encode(&new_graph));
    Ok(encode(&new_model))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn bytes(num: u32, b: Vec<u8>) -> Field<'static> {
        Field::owned_bytes(num, b)
    }
    fn s(num: u32, v: &str) -> Field<'static> {
        bytes(num, v.as_bytes().to_vec())
    }
    fn int(num: u32, v: u64) -> Field<'static> {
        Field { num, value: Value::Varint(v) }
    }

    fn tensor(name: &str, dims: &[u64], values: &[f32]) -> Vec<u8> {
        let mut f: Vec<Field<'_>> = dims.iter().map(|&d| int(TENSOR_DIMS, d)).collect();
        f.push(int(TENSOR_DATA_TYPE, FLOAT));
        f.push(s(TENSOR_NAME, name));
        f.push(bytes(TENSOR_RAW_DATA, values.iter().flat_map(|v| v.to_le_bytes()).collect()));
        encode(&f)
    }

    fn value_info(name: &str, dims: &[Option<u64>]) -> Vec<u8> {
        let dim = |(i, d): (usize, &Option<u64>)| match d {
            Some(v) => encode(&[int(DIM_VALUE, *v)]),
            None => encode(&[s(2, &format!("d{i}"))]),
        };
        let shape = encode(&dims.iter().enumerate().map(|d| bytes(SHAPE_DIM, dim(d))).collect::<Vec<_>>());
        let tt = encode(&[int(1, FLOAT), bytes(TYPE_TENSOR_SHAPE, shape)]);
        encode(&[s(VALUE_INFO_NAME, name), bytes(VALUE_INFO_TYPE, encode(&[bytes(TYPE_TENSOR, tt)]))])
    }

    fn node(op: &str, inputs: &[&str], output: &str, attrs: &[(&str, u64)]) -> Vec<u8> {
        let mut f: Vec<Field<'_>> = inputs.iter().map(|i| s(NODE_INPUT, i)).collect();
        f.push(s(NODE_OUTPUT, output));
        f.push(s(NODE_OP_TYPE, op));
        for (name, v) in attrs {
            // AttributeProto: name, i, type = INT (2)
            f.push(bytes(NODE_ATTRIBUTE, encode(&[s(ATTR_NAME, name), int(ATTR_INT, *v), int(20, 2)])));
        }
        encode(&f)
    }

    /// A model `x[N, T, 2] → MatMul(W[2, classes]) → Add(b) → Identity → Softmax(axis) → y`,
    /// with W[0][j] = j, W[1][j] = -j and b[j] = 0.5 j, plus a metadata entry.
    pub(crate) fn tiny_head(classes: usize, axis: u64) -> Vec<u8> {
        let w: Vec<f32> = (0..classes).map(|j| j as f32).chain((0..classes).map(|j| -(j as f32))).collect();
        let b: Vec<f32> = (0..classes).map(|j| 0.5 * j as f32).collect();
        let c = Some(classes as u64);
        let graph = encode(&[
            bytes(GRAPH_NODE, node("MatMul", &["x", "W"], "m", &[])),
            bytes(GRAPH_NODE, node("Add", &["m", "b"], "a", &[])),
            bytes(GRAPH_NODE, node("Identity", &["a"], "i", &[])),
            bytes(GRAPH_NODE, node("Softmax", &["i"], "y", &[("axis", axis)])),
            s(2, "tiny"),
            bytes(GRAPH_INITIALIZER, tensor("W", &[2, classes as u64], &w)),
            bytes(GRAPH_INITIALIZER, tensor("b", &[classes as u64], &b)),
            bytes(11, value_info("x", &[None, None, Some(2)])),
            bytes(GRAPH_OUTPUT, value_info("y", &[None, None, c])),
            bytes(GRAPH_VALUE_INFO, value_info("a", &[None, None, c])),
        ]);
        let meta = encode(&[s(1, "character"), s(2, "a\nb\nc")]);
        // ir_version 8, opset 13
        let opset = encode(&[s(1, ""), int(2, 13)]);
        encode(&[int(1, 8), bytes(8, opset), bytes(MODEL_GRAPH, graph), bytes(MODEL_METADATA, meta)])
    }

    fn graph_of(model: &[u8]) -> Vec<Field<'_>> {
        let m = parse(model).unwrap();
        let g = m.into_iter().find(|f| f.num == MODEL_GRAPH).unwrap();
        match g.value {
            Value::Bytes(Cow::Borrowed(b)) => parse(b).unwrap(),
            _ => unreachable!(),
        }
    }

    fn init<'a>(graph: &'a [Field<'a>], name: &str) -> Vec<Field<'a>> {
        graph
            .iter()
            .filter(|f| f.num == GRAPH_INITIALIZER)
            .map(|f| parse(f.bytes().unwrap()).unwrap())
            .find(|t| t.iter().find(|x| x.num == TENSOR_NAME).and_then(Field::str) == Some(name))
            .unwrap()
    }

    #[test]
    fn varints_round_trip_including_multi_byte_values() {
        for v in [0u64, 1, 127, 128, 300, 18710, u32::MAX as u64, u64::MAX] {
            let mut b = Vec::new();
            write_varint(&mut b, v);
            let mut pos = 0;
            assert_eq!(read_varint(&b, &mut pos), Ok(v));
            assert_eq!(pos, b.len());
        }
    }

    #[test]
    fn parse_and_encode_are_inverse_on_a_model() {
        let m = tiny_head(5, 2);
        assert_eq!(encode(&parse(&m).unwrap()), m);
    }

    #[test]
    fn truncated_or_garbage_bytes_are_errors_not_panics() {
        let m = tiny_head(5, 2);
        for cut in [1, 7, m.len() / 2, m.len() - 1] {
            assert!(restrict_classes(&m[..cut], 5, &[0, 1]).is_err(), "cut at {cut}");
        }
        assert!(parse(&[0xff; 12]).is_err());
        assert!(metadata(b"\x07\x07\x07", "character").is_err());
    }

    #[test]
    fn metadata_is_read_by_key() {
        let m = tiny_head(5, 2);
        assert_eq!(metadata(&m, "character").unwrap().as_deref(), Some("a\nb\nc"));
        assert_eq!(metadata(&m, "other").unwrap(), None);
    }

    #[test]
    fn output_layer_is_sliced_to_the_kept_columns_and_shapes_follow() {
        let m = tiny_head(5, 2);
        let out = restrict_classes(&m, 5, &[0, 2, 4]).unwrap();
        let g = graph_of(&out);
        let w = init(&g, "W");
        assert_eq!(dims(&w).unwrap(), vec![2, 3]);
        assert_eq!(floats(&w).unwrap(), vec![0.0, 2.0, 4.0, 0.0, -2.0, -4.0]);
        let b = init(&g, "b");
        assert_eq!((dims(&b).unwrap(), floats(&b).unwrap()), (vec![3], vec![0.0, 1.0, 2.0]));
        // the declared output and the Add's value info now say 3 classes; the input keeps its 2
        let declared = |num: u32| -> Vec<u8> {
            let f = g.iter().find(|f| f.num == num).unwrap();
            f.bytes().unwrap().to_vec()
        };
        assert_eq!(declared(GRAPH_OUTPUT), value_info("y", &[None, None, Some(3)]));
        assert_eq!(declared(GRAPH_VALUE_INFO), value_info("a", &[None, None, Some(3)]));
        assert_eq!(declared(11), value_info("x", &[None, None, Some(2)]));
        // metadata and everything else is carried over
        assert_eq!(metadata(&out, "character").unwrap().as_deref(), Some("a\nb\nc"));
    }

    /// ONNX Runtime runs the edited model: its probabilities are the full model's,
    /// renormalised over the kept classes.
    #[test]
    fn narrowed_head_runs_and_gives_the_full_probabilities_renormalised() {
        use super::super::runtime::{find_runtime, init_once, open_session_from_memory};
        let lib = match find_runtime(None) {
            Ok(lib) => lib,
            Err(e) if std::env::var("FACTURE_REQUIRE_MODELS").is_ok_and(|v| v == "1") => panic!("{e}"),
            Err(_) => return,
        };
        let env = init_once(&lib).unwrap_or_else(|e| panic!("{e}"));
        let run = |model: &[u8]| -> Vec<f32> {
            let mut session = open_session_from_memory(&env, std::path::Path::new("tiny.onnx"), model, 1)
                .unwrap_or_else(|e| panic!("{e}"));
            let x = [0.3f32, 0.1, -0.2, 0.4, 0.05, -0.05];
            let input = ort::value::TensorRef::from_array_view(([1usize, 3, 2], &x[..])).unwrap();
            let out = session.run(ort::inputs![input]).unwrap_or_else(|e| panic!("{e}"));
            out[0].try_extract_tensor::<f32>().unwrap().1.to_vec()
        };
        let full = tiny_head(6, 2);
        let keep = [0, 2, 3, 5];
        let (p_full, p_narrow) = (run(&full), run(&restrict_classes(&full, 6, &keep).unwrap()));
        assert_eq!((p_full.len(), p_narrow.len()), (18, 12));
        for t in 0..3 {
            let kept: Vec<f32> = keep.iter().map(|&j| p_full[t * 6 + j]).collect();
            let sum: f32 = kept.iter().sum();
            for (k, &p) in kept.iter().enumerate() {
                assert!((p / sum - p_narrow[t * 4 + k]).abs() < 1e-5, "step {t} class {k}");
            }
        }
    }

    #[test]
    fn graphs_of_another_shape_are_refused_with_a_reason() {
        let m = tiny_head(5, 1);
        let err = restrict_classes(&m, 5, &[0, 1]).unwrap_err();
        assert!(err.contains("softmax over the last axis"), "{err}");
        let err = restrict_classes(&tiny_head(5, 2), 6, &[0, 1]).unwrap_err();
        assert!(err.contains("not [D, 6]"), "{err}");
        assert!(restrict_classes(&tiny_head(5, 2), 5, &[2, 1]).is_err());
        assert!(restrict_classes(&tiny_head(5, 2), 5, &[0, 5]).is_err());
    }
}
