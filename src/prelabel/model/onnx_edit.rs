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
const MODEL_OPSET: u32 = 8;
const OPSET_DOMAIN: u32 = 1;
const OPSET_VERSION: u32 = 2;
const GRAPH_INPUT: u32 = 11;
const NODE_NAME: u32 = 3;
const NODE_DOMAIN: u32 = 7;
const ATTR_TYPE: u32 = 20;
const ATTR_TYPE_INT: u64 = 2;
const UINT8: u64 = 2;
const INT8: u64 = 3;
const INT32: u64 = 6;
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

/// Each node of a parsed graph, as its fields.
fn graph_nodes<'a>(graph: &'a [Field<'a>]) -> Result<Vec<Vec<Field<'a>>>, String> {
    graph.iter().filter(|f| f.num == GRAPH_NODE).map(|f| parse(f.bytes().unwrap_or_default())).collect()
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

    let node_fields = graph_nodes(&graph)?;
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

/// Measured activation ranges of one convolution: `[input min, input max, output min,
/// output max]`, from running the float model over calibration lines.
pub type ConvRanges = std::collections::HashMap<String, [f32; 4]>;

/// Scale and zero point of an 8-bit unsigned quantisation covering `[lo, hi]` (and 0, so
/// zero padding stays exact).
fn activation_qparams(lo: f32, hi: f32) -> (f32, u8) {
    let (lo, hi) = (lo.min(0.0), hi.max(0.0));
    let scale = ((hi - lo) / 255.0).max(1e-8);
    (scale, (-lo / scale).round().clamp(0.0, 255.0) as u8)
}

fn scalar_or_vec_tensor(name: &str, dims: &[u64], data_type: u64, raw: Vec<u8>) -> Vec<u8> {
    let mut f: Vec<Field<'_>> = dims.iter().map(|&d| Field { num: TENSOR_DIMS, value: Value::Varint(d) }).collect();
    f.push(Field { num: TENSOR_DATA_TYPE, value: Value::Varint(data_type) });
    f.push(Field::owned_bytes(TENSOR_NAME, name.as_bytes().to_vec()));
    f.push(Field::owned_bytes(TENSOR_RAW_DATA, raw));
    encode(&f)
}

/// A `com.microsoft` QuantizeLinear / DequantizeLinear node (the contrib ops take a
/// per-channel `axis` at any ONNX opset, and ONNX Runtime fuses them like the standard ones).
fn qdq_node(op: &str, inputs: [&str; 3], output: &str, axis: Option<u64>) -> Vec<u8> {
    let mut f: Vec<Field<'_>> = inputs.iter().map(|i| Field::owned_bytes(NODE_INPUT, i.as_bytes().to_vec())).collect();
    f.push(Field::owned_bytes(NODE_OUTPUT, output.as_bytes().to_vec()));
    f.push(Field::owned_bytes(NODE_NAME, format!("{output}_node").into_bytes()));
    f.push(Field::owned_bytes(NODE_OP_TYPE, op.as_bytes().to_vec()));
    f.push(Field::owned_bytes(NODE_DOMAIN, b"com.microsoft".to_vec()));
    if let Some(axis) = axis {
        let attr = encode(&[
            Field::owned_bytes(ATTR_NAME, b"axis".to_vec()),
            Field { num: ATTR_INT, value: Value::Varint(axis) },
            Field { num: ATTR_TYPE, value: Value::Varint(ATTR_TYPE_INT) },
        ]);
        f.push(Field::owned_bytes(NODE_ATTRIBUTE, attr));
    }
    encode(&f)
}

fn le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// An integer initializer `name` (`raw` values of `data_type`, channels along axis 0) with one
/// scale per channel and zero points of 0, pushed onto `inits`; returns the name of its
/// dequantised float value and the DequantizeLinear node that makes it.
fn per_channel_dq(
    name: &str,
    dims: &[u64],
    data_type: u64,
    raw: Vec<u8>,
    scales: &[f32],
    inits: &mut Vec<Vec<u8>>,
) -> (String, Vec<u8>) {
    let m = scales.len() as u64;
    let zero_width = if data_type == INT32 { 4 } else { 1 };
    let (s, z, dq) = (format!("{name}_s"), format!("{name}_z"), format!("{name}_facture_dq"));
    inits.push(scalar_or_vec_tensor(name, dims, data_type, raw));
    inits.push(scalar_or_vec_tensor(&s, &[m], FLOAT, le_bytes(scales)));
    inits.push(scalar_or_vec_tensor(&z, &[m], data_type, vec![0; zero_width * scales.len()]));
    let node = qdq_node("DequantizeLinear", [name, &s, &z], &dq, Some(0));
    (dq, node)
}

/// One convolution to quantise: its node index and its weight and bias initializers.
struct ConvPlan<'a> {
    node: usize,
    input: &'a str,
    weight: &'a str,
    bias: Option<&'a str>,
}

/// Runs every convolution named in `ranges` in 8 bits: per-output-channel symmetric int8
/// weights (of `weight_bits` significant bits: 8 gives ±127, 7 gives ±63), int32 bias, and uint8 activations whose scale comes from the measured ranges,
/// written as QuantizeLinear → DequantizeLinear pairs that ONNX Runtime fuses into
/// `QLinearConv` (4× the multiply-adds per instruction of float on AVX-512 VNNI). Every
/// reader of a quantised tensor reads its dequantised value, as ONNX Runtime's own QDQ
/// quantiser does, so the graph computes what the fused kernels will.
///
/// Expects a graph whose convolutions carry their bias (ONNX Runtime's basic optimisation
/// folds PaddleOCR's `Conv → Add(bias)` and `Conv → BatchNormalization` pairs). Returns the new
/// model and how many convolutions it quantised; convolutions without ranges stay float.
///
/// Grouped (depthwise) convolutions stay float too; they are a small share of the
/// multiply-adds. Quantised as well, they caused about a fifth of the lines read differently
/// from float (236 → 184 of 2,959 lines on four sets, without VNNI), and strict CER on the hard
/// synthetic invoices went 0.0091 → 0.0078, against float's 0.0077. Time per page stayed within
/// run-to-run noise. The usual explanation, channels of very different ranges under one
/// per-tensor scale, does not fit this recogniser: its largest channel is a median 2.9× the
/// median one in the tensors depthwise convolutions read or write, 3.0× in the others
/// (`packaging/calibrate/channel_spread.py`). A likelier one: a depthwise output sums
/// the 9 products of one channel's 3 × 3 kernel (one kernel: 7), where the other
/// convolutions sum 24 to 864, so rounding errors average out less.
///
/// 7-bit weights are ONNX Runtime's `reduce_range`: without VNNI, x86 multiplies uint8
/// activations by int8 weights with `vpmaddubsw`, which adds each pair of products in a
/// saturating 16-bit lane; 2 × 255 × 63 = 32130 always fits, 2 × 255 × 127 may not.
pub fn quantize_convs(model: &[u8], ranges: &ConvRanges, weight_bits: u32) -> Result<(Vec<u8>, usize), String> {
    if !(2..=8).contains(&weight_bits) {
        return Err(format!("weights of {weight_bits} bits are not int8"));
    }
    let qmax = ((1u32 << (weight_bits - 1)) - 1) as f32;
    let model_fields = parse(model)?;
    let graph_at = model_fields.iter().position(|f| f.num == MODEL_GRAPH).ok_or("no graph in the model")?;
    let graph = parse(model_fields[graph_at].bytes().ok_or("graph is not a message")?)?;
    let node_fields = graph_nodes(&graph)?;
    let nodes: Vec<Node<'_>> = node_fields.iter().map(|f| node(f)).collect::<Result<_, _>>()?;
    fn name_of<'b>(fields: &'b [Field<'_>], num: u32) -> Option<&'b str> {
        fields.iter().find(|f| f.num == num).and_then(Field::str)
    }
    let mut inits: std::collections::HashMap<String, Vec<Field<'_>>> = std::collections::HashMap::new();
    for f in graph.iter().filter(|f| f.num == GRAPH_INITIALIZER) {
        let t = parse(f.bytes().unwrap_or_default())?;
        if let Some(name) = name_of(&t, TENSOR_NAME).map(str::to_string) {
            inits.insert(name, t);
        }
    }
    let declared = |num: u32| -> Vec<String> {
        graph
            .iter()
            .filter(|f| f.num == num)
            .filter_map(|f| parse(f.bytes()?).ok())
            .filter_map(|vi| name_of(&vi, VALUE_INFO_NAME).map(str::to_string))
            .collect()
    };
    let (graph_inputs, graph_outputs) = (declared(GRAPH_INPUT), declared(GRAPH_OUTPUT));
    let uses = |name: &str| nodes.iter().flat_map(|n| n.inputs.iter()).filter(|&&i| i == name).count();

    // which convolutions, and the quantisation of each activation tensor they read or write
    let mut plans = Vec::new();
    let mut act: Vec<(&str, f32, u8)> = Vec::new();
    for (i, (n, fields)) in nodes.iter().zip(&node_fields).enumerate() {
        let Some(r) = name_of(fields, NODE_NAME).and_then(|name| ranges.get(name)) else { continue };
        let (Some(&input), Some(&weight), Some(&output)) = (n.inputs.first(), n.inputs.get(1), n.outputs.first())
        else {
            continue;
        };
        let bias = n.inputs.get(2).copied().filter(|b| !b.is_empty());
        // a convolution whose output leaves the graph cannot run fused, so it stays float, and
        // so does a grouped (depthwise) one (see above)
        let grouped = n.ints.iter().any(|(k, g)| k == "group" && *g > 1);
        if n.op != "Conv"
            || grouped
            || !inits.contains_key(weight)
            || bias.is_some_and(|b| !inits.contains_key(b))
            || graph_outputs.iter().any(|o| o == output)
        {
            continue;
        }
        for (t, lo, hi) in [(input, r[0], r[1]), (output, r[2], r[3])] {
            if !act.iter().any(|a| a.0 == t) {
                let (scale, zp) = activation_qparams(lo, hi);
                act.push((t, scale, zp));
            }
        }
        plans.push(ConvPlan { node: i, input, weight, bias });
    }
    if plans.is_empty() {
        return Ok((model.to_vec(), 0));
    }
    let act_of = |t: &str| act.iter().find(|a| a.0 == t).copied();
    let dq_name = |t: &str| format!("{t}_facture_dq");

    let mut new_inits: Vec<Vec<u8>> = Vec::new();
    let mut dropped: Vec<&str> = Vec::new();
    let qdq_after = |t: &str, scale: f32, zp: u8, out: &mut Vec<Vec<u8>>, inits: &mut Vec<Vec<u8>>| {
        let (s, z, q) = (format!("{t}_facture_s"), format!("{t}_facture_z"), format!("{t}_facture_q"));
        inits.push(scalar_or_vec_tensor(&s, &[], FLOAT, le_bytes(&[scale])));
        inits.push(scalar_or_vec_tensor(&z, &[], UINT8, vec![zp]));
        out.push(qdq_node("QuantizeLinear", [t, &s, &z], &q, None));
        out.push(qdq_node("DequantizeLinear", [&q, &s, &z], &dq_name(t), None));
    };
    let mut new_nodes: Vec<Vec<u8>> = Vec::new();
    for &(t, scale, zp) in act.iter().filter(|a| graph_inputs.iter().any(|g| g == a.0)) {
        qdq_after(t, scale, zp, &mut new_nodes, &mut new_inits);
    }
    for (i, fields) in node_fields.iter().enumerate() {
        let plan = plans.iter().find(|p| p.node == i);
        let mut renamed: std::collections::HashMap<&str, String> = std::collections::HashMap::new();
        if let Some(p) = plan {
            let w_t = &inits[p.weight];
            let w_dims = dims(w_t)?;
            let w = floats(w_t)?;
            let m = *w_dims.first().ok_or("convolution weights without dims")? as usize;
            if m == 0 || w.len() % m != 0 || w.is_empty() {
                return Err(format!("convolution weights {} have {} values for {m} channels", p.weight, w.len()));
            }
            let per = w.len() / m;
            let w_scale: Vec<f32> =
                w.chunks_exact(per).map(|c| (c.iter().fold(0f32, |a, v| a.max(v.abs())) / qmax).max(1e-12)).collect();
            let wq: Vec<u8> = w
                .iter()
                .enumerate()
                .map(|(k, v)| (v / w_scale[k / per]).round().clamp(-qmax, qmax) as i8 as u8)
                .collect();
            let w_dq =
                per_channel_dq(&format!("{}_facture_int8", p.weight), &w_dims, INT8, wq, &w_scale, &mut new_inits);
            new_nodes.push(w_dq.1);
            renamed.insert(p.weight, w_dq.0);
            if uses(p.weight) == 1 {
                dropped.push(p.weight);
            }
            if let Some(bias) = p.bias {
                let b = floats(&inits[bias])?;
                if b.len() != m {
                    return Err(format!("bias {bias} has {} values for {m} channels", b.len()));
                }
                let x_scale = act_of(p.input).map_or(1.0, |a| a.1);
                let b_scale: Vec<f32> = w_scale.iter().map(|s| s * x_scale).collect();
                let bq: Vec<u8> = b
                    .iter()
                    .zip(&b_scale)
                    .flat_map(|(v, s)| ((v / s).round().clamp(i32::MIN as f32, i32::MAX as f32) as i32).to_le_bytes())
                    .collect();
                let b_dq =
                    per_channel_dq(&format!("{bias}_facture_int32"), &[m as u64], INT32, bq, &b_scale, &mut new_inits);
                new_nodes.push(b_dq.1);
                renamed.insert(bias, b_dq.0);
                if uses(bias) == 1 {
                    dropped.push(bias);
                }
            }
        }
        // every reader of a quantised activation reads its dequantised value
        let rewritten: Vec<Field<'_>> = fields
            .iter()
            .map(|f| match (f.num, f.str()) {
                (NODE_INPUT, Some(name)) => match renamed.get(name) {
                    Some(new) => Field::owned_bytes(NODE_INPUT, new.clone().into_bytes()),
                    None if act_of(name).is_some() => Field::owned_bytes(NODE_INPUT, dq_name(name).into_bytes()),
                    None => f.clone(),
                },
                _ => f.clone(),
            })
            .collect();
        new_nodes.push(encode(&rewritten));
        for &out in &nodes[i].outputs {
            if let Some((t, scale, zp)) = act_of(out) {
                qdq_after(t, scale, zp, &mut new_nodes, &mut new_inits);
            }
        }
    }

    let mut new_graph: Vec<Field<'_>> = Vec::with_capacity(graph.len() + new_nodes.len());
    let mut nodes_written = false;
    for f in &graph {
        match f.num {
            GRAPH_NODE if !nodes_written => {
                new_graph.extend(new_nodes.drain(..).map(|n| Field::owned_bytes(GRAPH_NODE, n)));
                nodes_written = true;
            }
            GRAPH_NODE => {}
            GRAPH_INITIALIZER => {
                let t = parse(f.bytes().unwrap_or_default())?;
                if !name_of(&t, TENSOR_NAME).is_some_and(|n| dropped.contains(&n)) {
                    new_graph.push(f.clone());
                }
            }
            _ => new_graph.push(f.clone()),
        }
    }
    new_graph.extend(new_inits.into_iter().map(|t| Field::owned_bytes(GRAPH_INITIALIZER, t)));

    let mut new_model: Vec<Field<'_>> = model_fields.clone();
    new_model[graph_at] = Field::owned_bytes(MODEL_GRAPH, encode(&new_graph));
    let has_ms = model_fields.iter().filter(|f| f.num == MODEL_OPSET).any(|f| {
        f.bytes().and_then(|b| parse(b).ok()).is_some_and(|o| name_of(&o, OPSET_DOMAIN) == Some("com.microsoft"))
    });
    if !has_ms {
        let opset = encode(&[
            Field::owned_bytes(OPSET_DOMAIN, b"com.microsoft".to_vec()),
            Field { num: OPSET_VERSION, value: Value::Varint(1) },
        ]);
        let at = new_model.iter().rposition(|f| f.num == MODEL_OPSET).map_or(new_model.len(), |i| i + 1);
        new_model.insert(at, Field::owned_bytes(MODEL_OPSET, opset));
    }
    Ok((encode(&new_model), plans.len()))
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

    /// ONNX Runtime, or `None` (skip) where it is not provisioned and not required.
    fn test_runtime() -> Option<ort::environment::Environment> {
        use super::super::runtime::{find_runtime, init_once};
        let lib = match find_runtime(None) {
            Ok(lib) => lib,
            Err(e) if std::env::var("FACTURE_REQUIRE_MODELS").is_ok_and(|v| v == "1") => panic!("{e}"),
            Err(_) => return None,
        };
        Some(init_once(&lib).unwrap_or_else(|e| panic!("{e}")))
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

    /// `node` with the name `name`.
    fn named(name: &str, mut node: Vec<u8>) -> Vec<u8> {
        node.extend(encode(&[s(NODE_NAME, name)]));
        node
    }

    /// `node` with pads = [1, 1, 1, 1] (a repeated int attribute).
    fn padded(mut node: Vec<u8>) -> Vec<u8> {
        let mut pads = vec![s(ATTR_NAME, "pads"), int(ATTR_TYPE, 7)];
        pads.extend((0..4).map(|_| int(8, 1)));
        node.extend(encode(&[bytes(NODE_ATTRIBUTE, encode(&pads))]));
        node
    }

    /// `model`'s output `output` on [`tiny_input`] (`x[1, 2, 5, 5]`).
    fn run_tiny(env: &ort::environment::Environment, model: &[u8], output: &str) -> Vec<f32> {
        let mut session =
            super::super::runtime::open_session_from_memory(env, std::path::Path::new("tiny.onnx"), model, 1)
                .unwrap_or_else(|e| panic!("{e}"));
        let x = tiny_input();
        let input = ort::value::TensorRef::from_array_view(([1usize, 2, 5, 5], &x[..])).unwrap();
        let out = session.run(ort::inputs![input]).unwrap_or_else(|e| panic!("{e}"));
        out[output].try_extract_tensor::<f32>().unwrap().1.to_vec()
    }

    /// `x[1, 2, 5, 5] → Conv(W[3, 2, 3, 3], B[3], pads 1) "c1" → Relu → Conv(W2[2, 3, 1, 1], B2)
    /// "c2" → Sigmoid → y`.
    pub(crate) fn tiny_convs() -> Vec<u8> {
        let w: Vec<f32> = (0..54).map(|i| ((i * 37 % 23) as f32 - 11.0) / 10.0).collect();
        let b = [0.5f32, -0.25, 0.1];
        let w2: Vec<f32> = (0..6).map(|i| (i as f32 - 2.5) / 2.0).collect();
        let b2 = [0.05f32, -0.3];
        let conv = padded(named("c1", node("Conv", &["x", "W", "B"], "c", &[("group", 1)])));
        let graph = encode(&[
            bytes(GRAPH_NODE, conv),
            bytes(GRAPH_NODE, node("Relu", &["c"], "r", &[])),
            bytes(GRAPH_NODE, named("c2", node("Conv", &["r", "W2", "B2"], "c2out", &[]))),
            bytes(GRAPH_NODE, node("Sigmoid", &["c2out"], "y", &[])),
            s(2, "tiny-convs"),
            bytes(GRAPH_INITIALIZER, tensor("W", &[3, 2, 3, 3], &w)),
            bytes(GRAPH_INITIALIZER, tensor("B", &[3], &b)),
            bytes(GRAPH_INITIALIZER, tensor("W2", &[2, 3, 1, 1], &w2)),
            bytes(GRAPH_INITIALIZER, tensor("B2", &[2], &b2)),
            bytes(GRAPH_INPUT, value_info("x", &[Some(1), Some(2), Some(5), Some(5)])),
            bytes(GRAPH_OUTPUT, value_info("y", &[Some(1), Some(2), Some(5), Some(5)])),
        ]);
        let opset = encode(&[s(1, ""), int(2, 11)]);
        encode(&[int(1, 8), bytes(MODEL_OPSET, opset), bytes(MODEL_GRAPH, graph)])
    }

    fn tiny_input() -> Vec<f32> {
        (0..50).map(|i| ((i * 7 % 13) as f32 - 6.0) / 6.0).collect()
    }

    /// Ranges as calibration would measure them on `tiny_input`: from a float run.
    fn tiny_ranges(float_c: &[f32], float_c2: &[f32]) -> ConvRanges {
        let span = |v: &[f32]| v.iter().fold((0f32, 0f32), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        let (xl, xh) = span(&tiny_input());
        let (cl, ch) = span(float_c);
        let relu: Vec<f32> = float_c.iter().map(|v| v.max(0.0)).collect();
        let (rl, rh) = span(&relu);
        let (yl, yh) = span(float_c2);
        [("c1".to_string(), [xl, xh, cl, ch]), ("c2".to_string(), [rl, rh, yl, yh])].into_iter().collect()
    }

    fn ops_of(model: &[u8]) -> Vec<(String, String)> {
        graph_of(model)
            .iter()
            .filter(|f| f.num == GRAPH_NODE)
            .map(|f| {
                let n = parse(f.bytes().unwrap()).unwrap();
                let get = |num| n.iter().find(|x| x.num == num).and_then(Field::str).unwrap_or("").to_string();
                (get(NODE_OP_TYPE), get(NODE_DOMAIN))
            })
            .collect()
    }

    #[test]
    fn convolutions_get_int8_weights_and_quantised_activations() {
        let m = tiny_convs();
        let ranges: ConvRanges = [("c1".to_string(), [-1.0, 1.0, -4.0, 4.0])].into_iter().collect();
        let (q, n) = quantize_convs(&m, &ranges, 8).unwrap();
        assert_eq!(n, 1, "only the convolution with ranges");
        let g = graph_of(&q);
        // c1's float weights and bias are replaced; c2's stay
        assert!(g.iter().filter(|f| f.num == GRAPH_INITIALIZER).all(|f| {
            let t = parse(f.bytes().unwrap()).unwrap();
            !matches!(t.iter().find(|x| x.num == TENSOR_NAME).and_then(Field::str), Some("W" | "B"))
        }));
        let w = init(&g, "W_facture_int8");
        assert_eq!(w.iter().find(|x| x.num == TENSOR_DATA_TYPE).and_then(Field::varint), Some(INT8));
        assert_eq!(dims(&w).unwrap(), vec![3, 2, 3, 3]);
        let b = init(&g, "B_facture_int32");
        assert_eq!(b.iter().find(|x| x.num == TENSOR_DATA_TYPE).and_then(Field::varint), Some(INT32));
        assert_eq!(floats(&init(&g, "W2")).unwrap().len(), 6);
        // Q/DQ on the input and output activations, DQ on weights and bias, all contrib ops
        let ops = ops_of(&q);
        let count = |op: &str| ops.iter().filter(|(o, d)| o == op && d == "com.microsoft").count();
        assert_eq!((count("QuantizeLinear"), count("DequantizeLinear")), (2, 4), "{ops:?}");
        assert_eq!(ops.iter().filter(|(o, _)| o == "Conv").count(), 2);
        // and the model declares the contrib domain
        assert!(parse(&q).unwrap().iter().filter(|f| f.num == MODEL_OPSET).any(|f| {
            parse(f.bytes().unwrap()).unwrap().iter().any(|x| x.num == OPSET_DOMAIN && x.str() == Some("com.microsoft"))
        }));
        // nothing named: nothing changes
        assert_eq!(quantize_convs(&m, &ConvRanges::new(), 8).unwrap(), (m.clone(), 0));
        assert!(quantize_convs(&m[..m.len() / 2], &ranges, 8).is_err());
        assert!(quantize_convs(&m, &ranges, 9).is_err());
    }

    /// 8-bit weights use the whole int8 range; 7-bit ones (`reduce_range`) stay within ±63,
    /// so no pair of uint8 × int8 products can saturate a 16-bit lane.
    #[test]
    fn seven_bit_weights_stay_within_plus_minus_63() {
        let m = tiny_convs();
        let ranges: ConvRanges = [("c1".to_string(), [-1.0, 1.0, -4.0, 4.0])].into_iter().collect();
        let weights = |bits| -> Vec<i8> {
            let (q, _) = quantize_convs(&m, &ranges, bits).unwrap();
            let g = graph_of(&q);
            let w = init(&g, "W_facture_int8");
            let raw = w.iter().find(|x| x.num == TENSOR_RAW_DATA).and_then(Field::bytes).unwrap_or_default();
            raw.iter().map(|&b| b as i8).collect()
        };
        let (w8, w7) = (weights(8), weights(7));
        assert_eq!(w8.len(), 3 * 2 * 3 * 3);
        assert_eq!(w8.iter().map(|w| w.unsigned_abs()).max(), Some(127));
        assert_eq!(w7.iter().map(|w| w.unsigned_abs()).max(), Some(63));
        assert!(w7.iter().all(|&w| 2 * 255 * i32::from(w).abs() <= i32::from(i16::MAX)));
        // the same weights, one bit coarser: 7-bit ≈ 8-bit / 2
        assert!(w8.iter().zip(&w7).all(|(a, b)| (i32::from(*a) - 2 * i32::from(*b)).abs() <= 2), "{w8:?} {w7:?}");
    }

    /// A depthwise convolution (group = channels) keeps its float weights and activations;
    /// the ordinary convolution after it is quantised, and both still run.
    #[test]
    fn depthwise_convolutions_stay_float() {
        // x[1, 2, 5, 5] → Conv "dw" (W[2, 1, 3, 3], group 2, pads 1) → Relu → Conv "pw"
        // (W2[3, 2, 1, 1]) → Sigmoid → y
        let dw = padded(named("dw", node("Conv", &["x", "W", "B"], "c", &[("group", 2)])));
        let w: Vec<f32> = (0..18).map(|i| (i as f32 - 9.0) / 9.0).collect();
        let graph = encode(&[
            bytes(GRAPH_NODE, dw),
            bytes(GRAPH_NODE, node("Relu", &["c"], "r", &[])),
            bytes(GRAPH_NODE, named("pw", node("Conv", &["r", "W2", "B2"], "c2out", &[("group", 1)]))),
            bytes(GRAPH_NODE, node("Sigmoid", &["c2out"], "y", &[])),
            s(2, "depthwise"),
            bytes(GRAPH_INITIALIZER, tensor("W", &[2, 1, 3, 3], &w)),
            bytes(GRAPH_INITIALIZER, tensor("B", &[2], &[0.1, -0.1])),
            bytes(GRAPH_INITIALIZER, tensor("W2", &[3, 2, 1, 1], &[0.5, -0.5, 0.25, 1.0, -1.0, 0.75])),
            bytes(GRAPH_INITIALIZER, tensor("B2", &[3], &[0.0, 0.1, -0.1])),
            bytes(GRAPH_INPUT, value_info("x", &[Some(1), Some(2), Some(5), Some(5)])),
            bytes(GRAPH_OUTPUT, value_info("y", &[Some(1), Some(3), Some(5), Some(5)])),
        ]);
        let m = encode(&[int(1, 8), bytes(MODEL_OPSET, encode(&[s(1, ""), int(2, 11)])), bytes(MODEL_GRAPH, graph)]);
        let ranges: ConvRanges =
            [("dw".to_string(), [-1.0, 1.0, -3.0, 3.0]), ("pw".to_string(), [0.0, 3.0, -4.0, 4.0])]
                .into_iter()
                .collect();
        let (q, n) = quantize_convs(&m, &ranges, 8).unwrap();
        assert_eq!(n, 1, "only the ordinary convolution");
        let g = graph_of(&q);
        assert_eq!(floats(&init(&g, "W")).unwrap(), w, "the depthwise weights are untouched");
        assert_eq!(dims(&init(&g, "W2_facture_int8")).unwrap(), vec![3, 2, 1, 1]);
        // the depthwise convolution reads the float input: only pw's input and output are
        // quantised (2 × Q, 2 × DQ for activations, 2 × DQ for its weights and bias)
        let ops = ops_of(&q);
        let count = |op: &str| ops.iter().filter(|(o, _)| o == op).count();
        assert_eq!((count("QuantizeLinear"), count("DequantizeLinear")), (2, 4), "{ops:?}");
        let Some(env) = test_runtime() else { return };
        let (float_y, quant_y) = (run_tiny(&env, &m, "y"), run_tiny(&env, &q, "y"));
        let worst = float_y.iter().zip(&quant_y).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst <= 8.0 / 255.0, "worst error {worst}");
        assert!(float_y.iter().zip(&quant_y).any(|(a, b)| a != b), "the int8 path was not taken");
    }

    /// ONNX Runtime runs the quantised model and gets the float model's output to within
    /// the quantisation steps.
    #[test]
    fn quantised_convolutions_run_and_match_the_float_model() {
        let Some(env) = test_runtime() else { return };
        let run = |model: &[u8], output: &str| run_tiny(&env, model, output);
        let m = tiny_convs();
        // the convolutions' outputs, to measure their ranges as calibration would
        let with_outputs = {
            let mut fields = parse(&m).unwrap();
            let at = fields.iter().position(|f| f.num == MODEL_GRAPH).unwrap();
            let mut g = graph_of(&m);
            g.push(Field::owned_bytes(GRAPH_OUTPUT, value_info("c", &[Some(1), Some(3), Some(5), Some(5)])));
            g.push(Field::owned_bytes(GRAPH_OUTPUT, value_info("c2out", &[Some(1), Some(2), Some(5), Some(5)])));
            fields[at] = Field::owned_bytes(MODEL_GRAPH, encode(&g));
            encode(&fields)
        };
        let (float_c, float_c2, float_y) = (run(&with_outputs, "c"), run(&with_outputs, "c2out"), run(&m, "y"));
        let ranges = tiny_ranges(&float_c, &float_c2);
        // a convolution whose output is a graph output stays float
        assert_eq!(quantize_convs(&with_outputs, &ranges, 8).unwrap().1, 0);
        // sigmoid's slope is at most 1/4: a few steps of c2's output
        let step = (ranges["c2"][3] - ranges["c2"][2]) / 255.0;
        let mut q8 = Vec::new();
        for bits in [8, 7] {
            let (q, n) = quantize_convs(&m, &ranges, bits).unwrap();
            assert_eq!(n, 2);
            let quant_y = run(&q, "y");
            assert_eq!(quant_y.len(), float_y.len());
            let worst = float_y.iter().zip(&quant_y).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            assert!(worst <= step, "{bits}-bit weights: worst error {worst}, c2 output step {step}");
            assert!(float_y.iter().zip(&quant_y).any(|(a, b)| a != b), "the int8 path was not taken");
            if bits == 8 {
                q8 = q;
            }
        }
        let q = q8;

        // and ONNX Runtime fused both into integer convolutions (it falls back to float ones
        // when, e.g., a bias scale is not input scale × weight scale)
        let dir = tempfile::tempdir().unwrap();
        let saved = dir.path().join("fused.onnx");
        ort::session::Session::builder(&env)
            .unwrap()
            .with_optimized_model_path(&saved)
            .unwrap()
            .commit_from_memory(&q)
            .unwrap_or_else(|e| panic!("{e}"));
        let fused = ops_of(&std::fs::read(&saved).unwrap());
        assert_eq!(fused.iter().filter(|(o, _)| o == "QLinearConv").count(), 2, "{fused:?}");
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
        use super::super::runtime::open_session_from_memory;
        let Some(env) = test_runtime() else { return };
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
