#!/usr/bin/env python3
"""Writes the ONNX graphs that tests/onnx.rs imports, with the `onnx` package (an independent
writer, so the tests do not only compare gammaflow's reader with itself).

    pip install onnx        # 1.23 was used
    python3 tests/data/onnx/make_models.py

Weights are graph inputs (shape only, no data), so every file stays a few KB; a few small
initializers (one conv weight, shape tensors, scales) exercise the initializer path. Every graph is
checked with onnx.checker. `*_inferred.onnx` are the same graphs after onnx's own shape inference,
so their value_info carries shapes computed by onnx, against which gammaflow's are compared.
"""

import os

import numpy as np
import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 17


class G:
    """A graph under construction: nodes in order, weight inputs, initializers."""

    def __init__(self, name):
        self.name = name
        self.nodes = []
        self.inputs = []
        self.inits = []
        self.count = {}

    def input(self, name, shape):
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
        return name

    def weight(self, name, shape):
        return self.input(name, shape)

    def init(self, name, array):
        self.inits.append(onnx.numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op, inputs, name=None, outputs=1, **attrs):
        self.count[op] = self.count.get(op, 0) + 1
        name = name or f"{op.lower()}{self.count[op]}"
        outs = [f"{name}_out{i}" if outputs > 1 else f"{name}_out" for i in range(outputs)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=name, **attrs))
        return outs if outputs > 1 else outs[0]

    def save(self, outputs, file, infer=True, check=True):
        """`outputs`: (name, rank) pairs. Output dims are symbolic (onnx requires a shape), so the
        importer computes them instead of reading them."""
        outs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, [f"{o}_d{i}" for i in range(r)])
                for o, r in outputs]
        graph = helper.make_graph(self.nodes, self.name, self.inputs, outs, initializer=self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="gammaflow make_models.py")
        model.ir_version = 8
        if check:
            onnx.checker.check_model(model)
        onnx.save(model, os.path.join(HERE, file))
        if infer:
            inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
            onnx.save(inferred, os.path.join(HERE, file.replace(".onnx", "_inferred.onnx")))


def conv(g, x, cin, cout, k, stride=1, pad=0, group=1, name=None, kw=None, **attrs):
    """A Conv whose weight is a graph input; k may be (kh, kw)."""
    kh, kw_ = (k, k) if isinstance(k, int) else k
    name = name or f"conv{len(g.nodes)}"
    w = g.weight(f"{name}.w", [cout, cin // group, kh, kw_])
    pads = attrs.pop("pads", [pad, pad, pad, pad])
    strides = attrs.pop("strides", [stride, stride])
    return g.op("Conv", [x, w], name=name, pads=pads, strides=strides, group=group,
                kernel_shape=[kh, kw_], **attrs)


def bn(g, x, c):
    p = [g.weight(f"bn{len(g.nodes)}.{t}", [c]) for t in ("scale", "bias", "mean", "var")]
    return g.op("BatchNormalization", [x] + p)


def convs():
    """Padded, strided, depthwise, grouped, dilated and rectangular convolutions, then a Gemm."""
    g = G("convs")
    x = g.input("x", [1, 3, 32, 32])
    y = conv(g, x, 3, 8, 7, stride=2, pad=3, name="conv1")              # 7x7/2 p3
    y = g.op("Relu", [y])
    y = g.op("MaxPool", [y], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    w2 = g.init("conv2.w", np.full((16, 8, 3, 3), 0.01, dtype=np.float32))  # an initializer weight
    y = g.op("Conv", [y, w2], name="conv2", pads=[1, 1, 1, 1])            # 3x3 p1
    y = bn(g, y, 16)
    y = conv(g, y, 16, 16, 3, stride=2, pad=1, group=16, name="dw3")     # depthwise 3x3/2
    lo, hi = g.init("zero", np.array(0.0, dtype=np.float32)), g.init("six", np.array(6.0, dtype=np.float32))
    y = g.op("Clip", [y, lo, hi])
    y = conv(g, y, 16, 32, 3, pad=1, group=4, name="gconv4")             # 4 groups
    y = conv(g, y, 32, 8, 3, pad=2, name="dil5", dilations=[2, 2])       # dilation 2
    y = conv(g, y, 8, 8, (3, 1), name="rect6", pads=[1, 0, 1, 0], strides=[2, 1])
    y = g.op("GlobalAveragePool", [y])
    y = g.op("Flatten", [y])
    wfc, bfc = g.weight("fc.w", [10, 8]), g.weight("fc.b", [10])
    y = g.op("Gemm", [y, wfc, bfc], name="fc", transB=1)
    y = g.op("Softmax", [y])
    g.save([(y, 2)], "convs.onnx")


def matmuls():
    """Gemm with and without transposes; MatMul with batch folding, a vector, and batched operands."""
    g = G("matmuls")
    a = g.input("a", [4, 6])
    y1 = g.op("Gemm", [a, g.weight("b1", [6, 3])], name="gemm1")                    # [4,3]
    y2 = g.op("Gemm", [y1, g.weight("b2", [7, 3])], name="gemm2", transB=1)          # [4,7]
    at = g.input("at", [5, 4])
    y2b = g.op("Gemm", [at, g.weight("b2b", [5, 2])], name="gemm2b", transA=1)       # [4,2]
    y3 = g.op("MatMul", [g.input("x3", [2, 5, 6]), g.weight("w3", [6, 7])], name="mm3")  # [2,5,7]
    y4 = g.op("MatMul", [g.input("v", [6]), g.weight("w4", [6, 9])], name="mm4")         # [9]
    y5 = g.op("MatMul", [g.input("p", [2, 3, 4, 5]), g.input("q", [2, 3, 5, 6])], name="mm5")  # [2,3,4,6]
    y6 = g.op("MatMul", [g.input("r", [3, 4, 5]), g.weight("s", [1, 5, 2])], name="mm6")      # [3,4,2]
    g.save([(y2, 2), (y2b, 2), (y3, 3), (y4, 1), (y5, 4), (y6, 3)], "matmuls.onnx")


def transformer():
    """One post-norm encoder block: L = 6 tokens, D = 16, H = 2 heads of dh = 8, FFN F = 32."""
    L, D, H, dh, F = 6, 16, 2, 8, 32
    g = G("transformer")
    x = g.input("x", [1, L, D])

    def proj(name, inp, din, dout):
        y = g.op("MatMul", [inp, g.weight(f"{name}.w", [din, dout])], name=name)
        return g.op("Add", [y, g.weight(f"{name}.b", [dout])])

    q, k, v = (proj(n, x, D, D) for n in ("q_proj", "k_proj", "v_proj"))
    # Q and V reshaped with a constant [0, 0, H, -1]; K with a shape computed from x as exporters
    # do: Shape -> Gather -> Unsqueeze -> Concat.
    heads = g.init("heads_shape", np.array([0, 0, H, -1], dtype=np.int64))
    q = g.op("Transpose", [g.op("Reshape", [q, heads])], perm=[0, 2, 1, 3])           # [1,H,L,dh]
    v = g.op("Transpose", [g.op("Reshape", [v, heads])], perm=[0, 2, 1, 3])           # [1,H,L,dh]
    shp = g.op("Shape", [x])
    axes0 = g.init("axes0", np.array([0], dtype=np.int64))
    d0 = g.op("Unsqueeze", [g.op("Gather", [shp, g.init("i0", np.array(0, dtype=np.int64))], axis=0), axes0])
    d1 = g.op("Unsqueeze", [g.op("Gather", [shp, g.init("i1", np.array(1, dtype=np.int64))], axis=0), axes0])
    hd = g.op("Constant", [], value=helper.make_tensor("hd", TensorProto.INT64, [2], [H, dh]))
    target = g.op("Concat", [d0, d1, hd], axis=0)
    k = g.op("Transpose", [g.op("Reshape", [k, target])], perm=[0, 2, 3, 1])         # [1,H,dh,L]
    s = g.op("MatMul", [q, k], name="scores")                                        # [1,H,L,L]
    s = g.op("Div", [s, g.init("sqrt_dh", np.array(np.sqrt(dh), dtype=np.float32))])
    p = g.op("Softmax", [s], axis=-1)
    p = g.op("Dropout", [p])
    c = g.op("MatMul", [p, v], name="context")                                       # [1,H,L,dh]
    c = g.op("Reshape", [g.op("Transpose", [c], perm=[0, 2, 1, 3]),
                         g.init("merge_shape", np.array([1, L, D], dtype=np.int64))])  # [1,L,D]
    o = proj("out_proj", c, D, D)
    h = g.op("LayerNormalization", [g.op("Add", [o, x]), g.weight("ln1.g", [D]), g.weight("ln1.b", [D])], axis=-1)
    f = proj("ffn1", h, D, F)
    # GELU as PyTorch exports it at opset 17: x * 0.5 * (1 + erf(x / sqrt 2)).
    e = g.op("Erf", [g.op("Div", [f, g.init("sqrt2", np.array(np.sqrt(2.0), dtype=np.float32))])])
    f = g.op("Mul", [g.op("Mul", [f, g.op("Add", [e, g.init("one", np.array(1.0, dtype=np.float32))])]),
                     g.init("half", np.array(0.5, dtype=np.float32))])
    f = proj("ffn2", f, F, D)
    y = g.op("LayerNormalization", [g.op("Add", [f, h]), g.weight("ln2.g", [D]), g.weight("ln2.b", [D])], axis=-1)
    g.save([(y, 3)], "transformer.onnx")


def no_macs():
    """Ops without MACs around one Conv (after an explicit Pad, folded into its input) and one MatMul."""
    g = G("no_macs")
    x = g.input("x", [1, 4, 10, 10])
    x = g.op("Pad", [x, g.init("pads", np.array([0, 0, 1, 2, 0, 0, 1, 2], dtype=np.int64))])  # [1,4,12,14]
    c = g.op("Conv", [x, g.weight("w", [6, 4, 3, 3])], name="conv")                # [1,6,10,12]
    y = g.op("Mul", [c, g.op("Sigmoid", [c])])                                      # SiLU
    y = g.op("AveragePool", [y], kernel_shape=[2, 2], strides=[2, 2])               # [1,6,5,6]
    y = g.op("Resize", [y, "", g.init("scales", np.array([1, 1, 2, 2], dtype=np.float32))])  # [1,6,10,12]
    y = g.op("Concat", [y, c], axis=1)                                              # [1,12,10,12]
    a, b = g.op("Split", [y], outputs=2, axis=1)                                    # 2 x [1,6,10,12]
    y = g.op("Dropout", [g.op("Identity", [g.op("Add", [a, b])])])
    y = g.op("ReduceMean", [y], axes=[2, 3], keepdims=0)                            # [1,6]
    y = g.op("Unsqueeze", [y, g.init("ax2", np.array([2], dtype=np.int64))])        # [1,6,1]
    y = g.op("Squeeze", [y, g.init("ax2b", np.array([2], dtype=np.int64))])         # [1,6]
    y = g.op("Cast", [y], to=TensorProto.FLOAT)
    y = g.op("MatMul", [y, g.weight("fc.w", [6, 3])], name="fc")                    # [1,3]
    g.save([(y, 2)], "no_macs.onnx")


def resnet18():
    """torchvision ResNet-18 on 224x224 (structure only: weights are graph inputs)."""
    g = G("resnet18")
    x = g.input("input", [1, 3, 224, 224])
    y = g.op("Relu", [bn(g, conv(g, x, 3, 64, 7, stride=2, pad=3, name="conv1"), 64)])
    y = g.op("MaxPool", [y], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    cin = 64
    for stage, cout in enumerate([64, 128, 256, 512], start=1):
        for block in range(2):
            stride = 2 if stage > 1 and block == 0 else 1
            pre = f"layer{stage}.{block}"
            h = g.op("Relu", [bn(g, conv(g, y, cin, cout, 3, stride, 1, name=f"{pre}.conv1"), cout)])
            h = bn(g, conv(g, h, cout, cout, 3, 1, 1, name=f"{pre}.conv2"), cout)
            if stride != 1 or cin != cout:
                y = bn(g, conv(g, y, cin, cout, 1, stride, 0, name=f"{pre}.downsample"), cout)
            y = g.op("Relu", [g.op("Add", [h, y])])
            cin = cout
    y = g.op("Flatten", [g.op("GlobalAveragePool", [y])])
    y = g.op("Gemm", [y, g.weight("fc.w", [1000, 512]), g.weight("fc.b", [1000])], name="fc", transB=1)
    g.save([(y, 2)], "resnet18.onnx")


def mobilenet_v2():
    """torchvision MobileNetV2 (width 1.0) on 224x224 (structure only)."""
    g = G("mobilenet_v2")
    x = g.input("input", [1, 3, 224, 224])

    def relu6(t):
        return g.op("Clip", [t, g.init(f"c{len(g.nodes)}.lo", np.array(0.0, dtype=np.float32)),
                             g.init(f"c{len(g.nodes)}.hi", np.array(6.0, dtype=np.float32))])

    y = relu6(bn(g, conv(g, x, 3, 32, 3, stride=2, pad=1, name="features.0"), 32))
    cin, idx = 32, 1
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = cin * t
            h = y
            if t != 1:
                h = relu6(bn(g, conv(g, h, cin, hidden, 1, name=f"features.{idx}.expand"), hidden))
            h = relu6(bn(g, conv(g, h, hidden, hidden, 3, stride, 1, group=hidden, name=f"features.{idx}.dw"), hidden))
            h = bn(g, conv(g, h, hidden, c, 1, name=f"features.{idx}.project"), c)
            y = g.op("Add", [y, h]) if stride == 1 and cin == c else h
            cin, idx = c, idx + 1
    y = relu6(bn(g, conv(g, y, 320, 1280, 1, name="features.18"), 1280))
    y = g.op("Dropout", [g.op("Flatten", [g.op("GlobalAveragePool", [y])])])
    y = g.op("Gemm", [y, g.weight("classifier.w", [1000, 1280]), g.weight("classifier.b", [1000])],
             name="classifier", transB=1)
    g.save([(y, 2)], "mobilenet_v2.onnx")


def malformed():
    """Graphs the importer must refuse, each with a clear error."""
    g = G("missing_shape")
    g.inputs.append(helper.make_tensor_value_info("x", TensorProto.FLOAT, None))
    x = "x"
    y = conv(g, g.op("Relu", [x]), 3, 4, 3, name="conv")
    # onnx.checker insists on input shapes: this file is written unchecked, on purpose.
    g.save([(y, 4)], "missing_shape.onnx", infer=False, check=False)

    g = G("conv_transpose")
    x = g.input("x", [1, 4, 8, 8])
    y = conv(g, x, 4, 4, 3, pad=1, name="conv")
    y = g.op("ConvTranspose", [y, g.weight("up.w", [4, 2, 2, 2])], name="upsample", strides=[2, 2])
    g.save([(y, 4)], "conv_transpose.onnx", infer=False)

    g = G("einsum")
    a, b = g.input("a", [2, 3, 4]), g.input("b", [2, 4, 5])
    y = g.op("Einsum", [a, b], name="contract", equation="bij,bjk->bik")
    g.save([(y, 3)], "einsum.onnx", infer=False)

    g = G("dynamic_reshape")
    x = g.input("x", [1, 8])
    t = g.input("target", [2])  # a shape that is only known at run time
    y = g.op("MatMul", [g.op("Reshape", [x, t], name="reshape"), g.weight("w", [4, 3])], name="fc")
    g.save([(y, 2)], "dynamic_reshape.onnx", infer=False)


if __name__ == "__main__":
    convs()
    matmuls()
    transformer()
    no_macs()
    resnet18()
    mobilenet_v2()
    malformed()
    for f in sorted(os.listdir(HERE)):
        if f.endswith(".onnx"):
            print(f"{f}: {os.path.getsize(os.path.join(HERE, f))} bytes")
