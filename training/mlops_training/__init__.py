"""The platform's training program: SageMaker script mode, PyTorch, ONNX out (see ../README.md)."""
