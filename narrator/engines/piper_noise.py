"""Piper models with fixed noise, so that a voice says a text the same way every time."""
from __future__ import annotations

from pathlib import Path

_NOISE_SAMPLES = 1 << 20  # 4 MB per noise node; reused cyclically past that (~60 s of audio)


def seeded_model(model: Path) -> bytes:
    """The voice's ONNX model with its random noise made a fixed function of its shape.

    A Piper (VITS) model samples noise for the durations and the voice's latent with
    RandomNormalLike nodes, whose generator onnxruntime seeds at random and advances at each
    sentence: the same sentence sounded a little different every time, and the same page
    gave different files. Each such node is replaced by the slice of a fixed standard-normal
    sequence (drawn once, from a fixed seed) that has the shape it would have drawn: the
    same distribution, and a sentence that depends on its text and the settings alone."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    graph_model = onnx.load(str(model))
    graph = graph_model.graph
    nodes = []
    for k, node in enumerate(graph.node):
        if node.op_type != "RandomNormalLike":
            nodes.append(node)
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        name = f"narrator_noise{k}"
        noise = np.random.default_rng(k).standard_normal(_NOISE_SAMPLES)
        noise = (noise * attrs.get("scale", 1.0) + attrs.get("mean", 0.0)).astype(np.float32)
        graph.initializer.extend([
            numpy_helper.from_array(noise, name),
            numpy_helper.from_array(np.array([_NOISE_SAMPLES - 1], np.int64), f"{name}_nm1"),
            numpy_helper.from_array(np.array([_NOISE_SAMPLES], np.int64), f"{name}_n"),
            numpy_helper.from_array(np.array([0], np.int64), f"{name}_zero")])
        shape, count = f"{name}_shape", f"{name}_count"
        nodes += [  # count = prod(shape(x)); noise tiled to >= count; its first count, reshaped
            helper.make_node("Shape", [node.input[0]], [shape]),
            helper.make_node("ReduceProd", [shape], [count], keepdims=1),
            helper.make_node("Add", [count, f"{name}_nm1"], [f"{name}_up"]),
            helper.make_node("Div", [f"{name}_up", f"{name}_n"], [f"{name}_reps"]),
            helper.make_node("Tile", [name, f"{name}_reps"], [f"{name}_tiled"]),
            helper.make_node("Slice", [f"{name}_tiled", f"{name}_zero", count],
                             [f"{name}_flat"]),
            helper.make_node("Reshape", [f"{name}_flat", shape], [node.output[0]]),
        ]
    del graph.node[:]
    graph.node.extend(nodes)
    return graph_model.SerializeToString()
