"""The fitted student as one portable ONNX model: float codes in, class probabilities out.

The graph is the student as the well-kept converters write it (skl2onnx for scikit-learn,
onnxmltools' LightGBM converter inside skl2onnx for the boosters), then kd's own ending:
:func:`kdcli.science.targets.to_proba` in float32 nodes, so that a user of the file gets the
probabilities kd scored, not the student's raw regression outputs.

Two gaps of the converters are filled here, each checked rather than assumed:

- skl2onnx writes ``nodes_missing_value_tracks_true = 0`` for every node of a scikit-learn tree,
  so NaN always takes the false (right) branch; scikit-learn (>= 1.3) sends it down the side
  ``tree_.missing_go_to_left`` names, node by node. :func:`_patch_missing` copies that flag in.
- skl2onnx has no converter for ``SimpleImputer(add_indicator=True)`` (it would drop the
  indicator columns the linear student was fitted with); :func:`_convert_imputer` adds them.

Inputs are float32: skl2onnx's tree converters run on float (scikit-learn's trees compare
float32 features too), and the thresholds it writes are chosen for float32 inputs.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from kdcli.distilled.model import session
from kdcli.distilled.student import CategoricalBoosters
from kdcli.science.targets import SCALES

INPUT = "features"
PROBA = "probabilities"
LABEL = "label"
OPSETS = {"": 17, "ai.onnx.ml": 3}
TREE_OPS = ("TreeEnsembleRegressor", "TreeEnsemble")


def student_onnx(
    model, family: str, n_features: int, n_classes: int, scale: str, eps: float
) -> onnx.ModelProto:
    """The fitted student ``model`` of ``family`` as an ONNX model with one float input
    ``features`` (rows, n_features) and outputs ``probabilities`` (rows, n_classes) and
    ``label`` (the argmax index)."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    if n_classes < 2:
        raise ValueError(f"a classifier has at least 2 classes, got {n_classes}")
    _check_features(model, n_features)
    outputs = _n_outputs(model, family)
    if outputs != n_classes and not (outputs == 1 and n_classes == 2):
        raise ValueError(
            f"a student of {outputs} output column(s) cannot give {n_classes} classes: "
            "binary students have 1 column, others one per class"
        )
    onx = _convert(model, family, n_features)
    onx.graph.name = (
        f"kd_{family}_student"  # skl2onnx names it by a random UUID: same fit, same bytes
    )
    if family in ("tree", "rf"):
        _patch_missing(onx.graph, _sklearn_trees(model))
    _append_proba(onx.graph, outputs, n_classes, scale, eps)
    del onx.opset_import[:]
    onx.opset_import.extend(helper.make_opsetid(d, v) for d, v in OPSETS.items())
    for key, value in {
        "kd.family": family,
        "kd.scale": scale,
        "kd.eps": repr(float(eps)),
        "kd.n_classes": str(int(n_classes)),
    }.items():
        onx.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(onx, full_check=True)
    return onx


def onnx_proba(model_bytes_or_path, X_codes: np.ndarray) -> np.ndarray:
    """Class probabilities (float64, rows × classes) of an exported student on a code matrix."""
    (P,) = _session(model_bytes_or_path).run([PROBA], {INPUT: _features(X_codes)})
    return np.asarray(P, dtype=np.float64)


def onnx_outputs(model_bytes_or_path, X_codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities (float64) and labels (int64) of an exported student, from one run."""
    P, label = _session(model_bytes_or_path).run([PROBA, LABEL], {INPUT: _features(X_codes)})
    return np.asarray(P, dtype=np.float64), np.asarray(label)


def _features(X_codes) -> np.ndarray:
    X = np.asarray(X_codes, dtype=np.float32)
    if X.ndim != 2:
        raise ValueError(f"codes must be a (rows, features) matrix, got shape {X.shape}")
    return X


def _session(model):
    """kd's one-thread session (kdcli.distilled.model.session) on bytes, a path or a proto."""
    if isinstance(model, onnx.ModelProto):
        model = model.SerializeToString()
    elif isinstance(model, (str, Path)):
        model = Path(model).read_bytes()
    elif not isinstance(model, (bytes, bytearray)):
        raise TypeError(f"an ONNX model as bytes or a path, not {type(model).__name__}")
    return session(bytes(model))


# ---------------------------------------------------------------- the student as converted


def _check_features(model, n_features: int) -> None:
    seen = getattr(model, "n_features_in_", None)
    if seen is None:
        raise ValueError("the student is not fitted (it has no n_features_in_)")
    if int(seen) != int(n_features):
        raise ValueError(f"the student was fitted on {seen} features, not {n_features}")


def _n_outputs(model, family: str) -> int:
    """How many raw columns the student predicts; also checks the family is the model's."""
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.multioutput import MultiOutputRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.tree import DecisionTreeRegressor

    kinds = {
        "tree": DecisionTreeRegressor,
        "rf": RandomForestRegressor,
        "gbdt": MultiOutputRegressor,
        "linear": Pipeline,
    }
    if family not in kinds:
        raise ValueError(f"unknown student family {family!r}; use one of {', '.join(kinds)}")
    if not isinstance(model, kinds[family]):
        raise TypeError(f"a {family} student is a {kinds[family].__name__}, not {type(model)}")
    if family in ("tree", "rf"):
        return int(model.n_outputs_)
    if family == "gbdt":
        return len(model.estimators_)
    coef = np.asarray(model[-1].coef_)
    return 1 if coef.ndim == 1 else coef.shape[0]


def _convert(model, family: str, n_features: int) -> onnx.ModelProto:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.impute import SimpleImputer

    if family == "gbdt":
        _register_lightgbm()
    custom = {}
    shapes = {}
    if family == "linear":  # local to this call: skl2onnx's registry stays as it was
        custom[SimpleImputer] = _convert_imputer
        shapes[SimpleImputer] = _imputer_shape
    onx = convert_sklearn(
        model,
        initial_types=[(INPUT, FloatTensorType([None, int(n_features)]))],
        target_opset=dict(OPSETS),
        custom_conversion_functions=custom,
        custom_shape_calculators=shapes,
    )
    if len(onx.graph.output) != 1:
        names = [o.name for o in onx.graph.output]
        raise RuntimeError(f"expected one raw output from skl2onnx, got {names}")
    return onx


@functools.cache
def _register_lightgbm() -> None:
    """LightGBM's converter (onnxmltools) and kd's booster wrapper, made known to skl2onnx."""
    from lightgbm import LGBMRegressor
    from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import calculate_linear_regressor_output_shapes
    from skl2onnx.operator_converters.multioutput import convert_multi_output_regressor_converter
    from skl2onnx.shape_calculators.multioutput import multioutput_regressor_shape_calculator

    update_registered_converter(
        LGBMRegressor,
        "LightGbmLGBMRegressor",
        calculate_linear_regressor_output_shapes,
        convert_lightgbm,
        options={"split": None},
    )
    update_registered_converter(
        CategoricalBoosters,
        "KdCategoricalBoosters",
        multioutput_regressor_shape_calculator,
        convert_multi_output_regressor_converter,
    )


# ---------------------------------------------------------------- SimpleImputer's indicator


def _indicated(imputer) -> np.ndarray:
    """The columns the imputer's missing indicator marks (none without an indicator)."""
    if not imputer.add_indicator:
        return np.zeros(0, dtype=np.int64)
    return np.asarray(imputer.indicator_.features_, dtype=np.int64)


def _imputer_shape(operator) -> None:
    from skl2onnx.shape_calculators.imputer import calculate_sklearn_imputer_output_shapes

    calculate_sklearn_imputer_output_shapes(operator)
    rows, cols = operator.outputs[0].type.shape
    extra = len(_indicated(operator.raw_operator))
    operator.outputs[0].type.shape = [rows, None if cols is None else cols + extra]


def _convert_imputer(scope, operator, container) -> None:
    """skl2onnx's imputer, plus the indicator columns (1.0 where the input was NaN) that
    scikit-learn appends after the imputed ones."""
    from skl2onnx.common.data_types import FloatTensorType
    from skl2onnx.operator_converters.common import concatenate_variables
    from skl2onnx.operator_converters.imputer_op import convert_sklearn_imputer

    imputer = operator.raw_operator
    marked = _indicated(imputer)
    if len(marked) == 0:
        convert_sklearn_imputer(scope, operator, container)
        return
    if not isinstance(operator.inputs[0].type, FloatTensorType):
        raise NotImplementedError("the missing indicator is converted for float inputs only")
    if not (isinstance(imputer.missing_values, float) and np.isnan(imputer.missing_values)):
        raise NotImplementedError("the missing indicator is converted for NaN only")
    stats = np.asarray(imputer.statistics_, dtype=np.float32)
    if np.isnan(stats).any():
        raise NotImplementedError("an imputer that drops empty columns cannot be converted")
    source = concatenate_variables(scope, operator.inputs, container)
    imputed = scope.get_unique_variable_name("imputed")
    container.add_node(
        "Imputer",
        source,
        imputed,
        op_domain="ai.onnx.ml",
        name=scope.get_unique_operator_name("Imputer"),
        imputed_value_floats=stats,
        replaced_value_float=float("nan"),
    )
    index = scope.get_unique_variable_name("indicated")
    container.add_initializer(index, TensorProto.INT64, [len(marked)], marked.tolist())
    picked, isnan, flags = (scope.get_unique_variable_name(n) for n in ("picked", "isnan", "flags"))
    container.add_node("Gather", [source, index], picked, axis=1)
    container.add_node("IsNaN", picked, isnan)
    container.add_node("Cast", isnan, flags, to=TensorProto.FLOAT)
    container.add_node("Concat", [imputed, flags], operator.outputs[0].full_name, axis=1)


# ---------------------------------------------------------------- NaN in scikit-learn trees


def _sklearn_trees(model) -> list:
    return [e.tree_ for e in model.estimators_] if hasattr(model, "estimators_") else [model.tree_]


def _ints(node: onnx.NodeProto, name: str) -> list[int]:
    attr = next((a for a in node.attribute if a.name == name), None)
    if attr is None:
        raise RuntimeError(f"{node.op_type} has no attribute {name}: not skl2onnx's tree layout")
    return list(attr.ints)


def _patch_missing(graph: onnx.GraphProto, trees: list) -> None:
    """Route NaN as scikit-learn does: ``nodes_missing_value_tracks_true`` from each node's
    ``missing_go_to_left`` (scikit-learn's left is ONNX's true branch of x <= threshold).

    The converted nodes are first matched one by one against the fitted trees (tree, node,
    feature, children), so a change of skl2onnx's layout stops here rather than routing
    NaN wrongly."""
    ops = [n for n in graph.node if n.op_type in TREE_OPS]
    if len(ops) != 1 or ops[0].op_type != "TreeEnsembleRegressor":
        raise RuntimeError(
            f"expected one TreeEnsembleRegressor node, got {[n.op_type for n in ops]}; "
            "skl2onnx's tree layout changed, so NaN routing cannot be patched"
        )
    node = ops[0]
    tree_ids, node_ids = _ints(node, "nodes_treeids"), _ints(node, "nodes_nodeids")
    features = _ints(node, "nodes_featureids")
    true_ids, false_ids = _ints(node, "nodes_truenodeids"), _ints(node, "nodes_falsenodeids")
    modes = next(list(a.strings) for a in node.attribute if a.name == "nodes_modes")
    if {(t, i) for t, i in zip(tree_ids, node_ids, strict=True)} != {
        (t, i) for t, tree in enumerate(trees) for i in range(tree.node_count)
    } or len(tree_ids) != sum(tree.node_count for tree in trees):
        raise RuntimeError("the converted nodes are not the fitted trees' nodes")
    tracks = []
    for k, (t, i) in enumerate(zip(tree_ids, node_ids, strict=True)):
        tree = trees[t]
        if modes[k] == b"LEAF":
            if tree.children_left[i] != -1:
                raise RuntimeError(f"node {i} of tree {t} is a split, converted as a leaf")
            tracks.append(0)
            continue
        split = (tree.feature[i], tree.children_left[i], tree.children_right[i])
        if modes[k] != b"BRANCH_LEQ" or (features[k], true_ids[k], false_ids[k]) != split:
            raise RuntimeError(f"node {i} of tree {t} does not match its converted node")
        tracks.append(int(tree.missing_go_to_left[i]))
    old = [a for a in node.attribute if a.name == "nodes_missing_value_tracks_true"]
    for a in old:
        node.attribute.remove(a)
    node.attribute.append(helper.make_attribute("nodes_missing_value_tracks_true", tracks))


# ---------------------------------------------------------------- to_proba in the graph


def _append_proba(graph: onnx.GraphProto, outputs: int, n_classes: int, scale: str, eps: float):
    """Raw outputs → probabilities as :func:`kdcli.science.targets.to_proba`: a binary
    student's one column as (1 − p, p) or logits (0, z), softmax (row max subtracted) on the
    logit scale, then clipped to [eps, 1] and renormalised by the row sum."""
    raw = graph.output[0].name
    taken = {n for node in graph.node for n in node.output} | {i.name for i in graph.initializer}
    clash = sorted(n for n in taken if n.startswith("kd_") or n in (PROBA, LABEL))
    if clash:
        raise RuntimeError(f"the converted graph already names {clash}")
    consts: dict[str, np.ndarray] = {
        "kd_shape": np.array([-1, outputs], dtype=np.int64),
        "kd_axis": np.array([1], dtype=np.int64),
        "kd_one": np.array(1.0, dtype=np.float32),
        "kd_eps": np.array(eps, dtype=np.float32),
    }
    graph.initializer.extend(numpy_helper.from_array(v, k) for k, v in consts.items())
    node = helper.make_node
    nodes = [node("Reshape", [raw, "kd_shape"], ["kd_raw"])]
    scores = "kd_raw"
    if outputs == 1 and n_classes == 2:
        if scale == "prob":
            nodes.append(node("Sub", ["kd_one", "kd_raw"], ["kd_other"]))
        else:
            zero = helper.make_tensor("kd_zero", TensorProto.FLOAT, [1], [0.0])
            nodes += [
                node("Shape", ["kd_raw"], ["kd_raw_shape"]),
                node("ConstantOfShape", ["kd_raw_shape"], ["kd_other"], value=zero),
            ]
        nodes.append(node("Concat", ["kd_other", "kd_raw"], ["kd_scores"], axis=1))
        scores = "kd_scores"
    if scale == "logit":
        nodes += [
            node("ReduceMax", [scores], ["kd_max"], axes=[1], keepdims=1),
            node("Sub", [scores, "kd_max"], ["kd_shifted"]),
            node("Exp", ["kd_shifted"], ["kd_exp"]),
            node("ReduceSum", ["kd_exp", "kd_axis"], ["kd_exp_sum"], keepdims=1),
            node("Div", ["kd_exp", "kd_exp_sum"], ["kd_softmax"]),
        ]
        scores = "kd_softmax"
    nodes += [
        node("Clip", [scores, "kd_eps", "kd_one"], ["kd_clipped"]),
        node("ReduceSum", ["kd_clipped", "kd_axis"], ["kd_sum"], keepdims=1),
        node("Div", ["kd_clipped", "kd_sum"], [PROBA]),
        node("ArgMax", [PROBA], [LABEL], axis=1, keepdims=0),
    ]
    graph.node.extend(nodes)
    del graph.output[:]
    graph.output.extend(
        [
            helper.make_tensor_value_info(PROBA, TensorProto.FLOAT, [None, n_classes]),
            helper.make_tensor_value_info(LABEL, TensorProto.INT64, [None]),
        ]
    )
