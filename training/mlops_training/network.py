"""The model as one torch module whose forward pass is the served graph: it takes the serving
encoding as is (float32 [rows, features], NaN for a null) and does the preprocessing itself —
numeric features (numbers, integers, booleans, timestamps) imputed with the training mean and
standardised, categories one-hot (an unknown code or NaN: all zeros) — then a linear layer or a
one-hidden-layer ReLU network, then the head: sigmoid (binary: the positive-class probability),
softmax (multiclass: one column per class label) or the de-standardised value (regression).
Exported with torch.onnx.export, so the ONNX graph and the trained module are the same code."""

import contextlib
import importlib
import inspect
import math

import torch
from torch import nn

# Highest opset torch 1.13's exporter writes; onnxruntime-node reads it.
ONNX_OPSET = 17


def feature_layout(spec):
    """Which input columns are standardised and which are one-hot, with each category's code."""
    numeric = [index for index, feature in enumerate(spec.features) if feature.type != 'category']
    category_index, category_code = [], []
    for index, feature in enumerate(spec.features):
        if feature.type == 'category':
            category_index.extend([index] * len(feature.allowed_values))
            category_code.extend(range(len(feature.allowed_values)))
    return {'features': len(spec.features), 'numeric_index': numeric,
            'category_index': category_index, 'category_code': category_code}


def numeric_statistics(features, numeric_index):
    """Mean (the imputed value) and sample standard deviation (1 when 0 or undefined) per numeric
    feature over the non-missing training values, as the local stand-in trainer computes them."""
    means, scales = [], []
    for index in numeric_index:
        column = features[:, index].astype('float64')
        present = column[~_isnan(column)]
        mean = float(present.mean()) if len(present) else 0.0
        deviation = float(present.std(ddof=1)) if len(present) > 1 else 0.0
        means.append(mean)
        scales.append(deviation if deviation > 0 and math.isfinite(deviation) else 1.0)
    return means, scales


def _isnan(array):
    return array != array


@torch.jit.script
def _square_chain(hidden: torch.Tensor, square: torch.Tensor, layers: int) -> torch.Tensor:
    # Scripted, so the export holds one ONNX Loop rather than `layers` MatMul nodes: the
    # TorchScript exporter's passes grow with the square of the node count (10,000 unrolled
    # MatMuls took minutes), and onnxruntime loads a small graph fast.
    for _ in range(layers):
        hidden = torch.matmul(hidden, square)
    return hidden


class LatencyPadding(nn.Module):
    """The demo's deliberately slow model (the idea of local/trainer.ts modelGraph): `layers`
    square [1, width] x [width, width] MatMuls whose result is multiplied by zero, so the scores
    are unchanged and every request (not every row) costs a fixed extra amount. The chain starts
    from the first row's missing-value mask (0/1, so no input value can overflow it into NaN),
    and the square matrix is scaled by a 1 known only at run time, so onnxruntime neither folds
    the chain nor pre-packs its weight. Traced with an empty batch, the chain costs nothing at
    export time."""

    def __init__(self, features, outputs, layers, width):
        super().__init__()
        self.layers = layers
        self.register_buffer('padding_in', torch.full((features, width), 1e-6))
        self.register_buffer('padding_square', torch.full((width, width), 1.0 / width))
        self.register_buffer('padding_out', torch.zeros(width, outputs))

    def forward(self, features):
        missing = torch.isnan(features[:1]).to(features.dtype)
        one = missing.sum() * 0 + 1
        hidden = _square_chain(missing @ self.padding_in, self.padding_square * one, self.layers)
        return hidden @ self.padding_out


class ServingModel(nn.Module):
    def __init__(self, config):
        """config: problem_type, outputs, hidden_units, layout (feature_layout), padding {layers, width}."""
        super().__init__()
        self.config = config
        layout = config['layout']
        self.problem_type = config['problem_type']
        numeric = layout['numeric_index']
        categories = layout['category_index']
        self.has_numeric = bool(numeric)
        self.has_categories = bool(categories)
        self.register_buffer('numeric_index', torch.tensor(numeric, dtype=torch.long))
        self.register_buffer('numeric_mean', torch.zeros(len(numeric)))
        self.register_buffer('numeric_scale', torch.ones(len(numeric)))
        self.register_buffer('category_index', torch.tensor(categories, dtype=torch.long))
        self.register_buffer('category_code', torch.tensor(layout['category_code'], dtype=torch.float32))
        self.register_buffer('target_mean', torch.zeros(1))
        self.register_buffer('target_scale', torch.ones(1))
        inputs = len(numeric) + len(categories)
        outputs = config['outputs']
        hidden = config['hidden_units']
        if hidden > 0:
            self.body = nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, outputs))
        else:
            self.body = nn.Sequential(nn.Linear(inputs, outputs))
        padding = config.get('padding')
        self.padding = (LatencyPadding(layout['features'], outputs, padding['layers'], padding['width'])
                        if padding and padding['layers'] > 0 else None)

    def set_statistics(self, numeric_mean, numeric_scale, target_mean=0.0, target_scale=1.0):
        self.numeric_mean.copy_(torch.tensor(numeric_mean, dtype=torch.float32))
        self.numeric_scale.copy_(torch.tensor(numeric_scale, dtype=torch.float32))
        self.target_mean.fill_(target_mean)
        self.target_scale.fill_(target_scale)

    def preprocess(self, features):
        """Serving encoding → the body's inputs: standardised numbers, then one-hot categories."""
        parts = []
        if self.has_numeric:
            numeric = features.index_select(1, self.numeric_index)
            numeric = torch.where(torch.isnan(numeric), self.numeric_mean, numeric)
            parts.append((numeric - self.numeric_mean) / self.numeric_scale)
        if self.has_categories:
            codes = features.index_select(1, self.category_index)
            parts.append((codes == self.category_code).to(features.dtype))
        return torch.cat(parts, 1) if len(parts) > 1 else parts[0]

    def head(self, logits):
        if self.problem_type == 'binary-classification':
            return torch.sigmoid(logits)
        if self.problem_type == 'multiclass-classification':
            return torch.softmax(logits, dim=1)
        return logits * self.target_scale + self.target_mean

    def forward(self, features):
        logits = self.body(self.preprocess(features))
        if self.padding is not None:
            logits = logits + self.padding(features)
        return self.head(logits)


# Where torch 2.x's TorchScript exporter keeps its protobuf post-processing (2.0-2.8, then 2.9+).
PROTO_UTILS_MODULES = (
    'torch.onnx._internal.onnx_proto_utils',
    'torch.onnx._internal.torchscript_exporter.onnx_proto_utils',
)


@contextlib.contextmanager
def _without_onnx_package():
    """torch 2.x's TorchScript exporter imports the `onnx` package for one step only: copying
    onnxscript custom functions into the model. This model has none, and the PyTorch training
    DLC does not ship `onnx`, so when it is missing that step is skipped (the protobuf torch
    serialised is written as it is). With `onnx` installed nothing is changed."""
    try:
        import onnx  # noqa: F401
        yield
        return
    except ImportError:
        pass
    patched = []
    for name in PROTO_UTILS_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module, '_add_onnxscript_fn'):
            patched.append((module, module._add_onnxscript_fn))
            module._add_onnxscript_fn = lambda model_bytes, custom_opsets: model_bytes
    try:
        yield
    finally:
        for module, original in patched:
            module._add_onnxscript_fn = original


def export_onnx(model, path):
    """Writes the module as ONNX: input `features` float32 [rows, n], output `scores` [rows, k],
    the batch axis dynamic. torch >= 2 gets dynamo=False where the parameter exists: the
    TorchScript exporter is the one both torch 1.13 and 2.x have, and needs no onnxscript."""
    model = model.eval().to('cpu')
    example = torch.zeros(0 if model.padding is not None else 2, model.config['layout']['features'])
    options = {}
    if 'dynamo' in inspect.signature(torch.onnx.export).parameters:
        options['dynamo'] = False
    with torch.no_grad(), _without_onnx_package():
        torch.onnx.export(
            model, (example,), path,
            input_names=['features'], output_names=['scores'],
            dynamic_axes={'features': {0: 'rows'}, 'scores': {0: 'rows'}},
            opset_version=ONNX_OPSET, do_constant_folding=True,
            **options,
        )
