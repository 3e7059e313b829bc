"""Which nodes the INT8 variant keeps in float: the stem (first modules, found by weight
names in graph order) and the detection head's outputs; and a real static quantisation of a
small convolutional model that leaves exactly the stem unquantised."""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from siteguard.models.training.quantize import stem_nodes


def conv_chain(modules):
    """Conv -> Sigmoid -> Mul (SiLU) per module, weights named like ultralytics'."""
    nodes, inits, x = [], [], "images"
    for i, m in enumerate(modules):
        w = f"model.{m}.conv.weight"
        inits.append(numpy_helper.from_array(np.full((3, 3, 1, 1), 0.1, np.float32), w))
        nodes += [
            helper.make_node("Conv", [x, w], [f"c{i}"], name=f"conv_{i}"),
            helper.make_node("Sigmoid", [f"c{i}"], [f"s{i}"], name=f"sig_{i}"),
            helper.make_node("Mul", [f"c{i}", f"s{i}"], [f"a{i}"], name=f"silu_{i}"),
        ]
        x = f"a{i}"
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 3, 8, 8])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_the_stem_is_the_first_modules_with_their_activations():
    model = conv_chain([0, 1, 2, 3])
    assert stem_nodes(model, 2) == ["conv_0", "sig_0", "silu_0", "conv_1", "sig_1", "silu_1"]
    assert stem_nodes(model, 0) == []
    assert len(stem_nodes(model, 10)) == 12


def test_static_quantisation_leaves_the_stem_in_float(tmp_path):
    from onnxruntime.quantization import QuantFormat, quantize_static

    model = conv_chain([0, 1, 2, 3])
    src, out = tmp_path / "m.onnx", tmp_path / "q.onnx"
    onnx.save(model, src)

    class Calib:
        def __init__(self):
            rng = np.random.default_rng(0)
            self.it = iter([{"images": rng.random((1, 3, 8, 8), np.float32)} for _ in range(4)])

        def get_next(self):
            return next(self.it, None)

    quantize_static(str(src), str(out), Calib(), quant_format=QuantFormat.QDQ,
                    nodes_to_exclude=stem_nodes(model, 2))  # fmt: skip
    q = onnx.load(str(out))
    dequantised = {o for n in q.graph.node if n.op_type == "DequantizeLinear" for o in n.output}
    convs = [n for n in q.graph.node if n.op_type == "Conv"]
    fed_int8 = [any(i in dequantised for i in c.input) for c in convs]
    assert fed_int8 == [False, False, True, True]
