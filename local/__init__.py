"""Local tools: the SageMaker runtime emulator and the local front-door server."""
